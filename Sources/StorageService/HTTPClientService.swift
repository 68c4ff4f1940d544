import AsyncHTTPClient
import ServiceLifecycle

/// Owns a process's outbound HTTP client (S3, Discord) and shuts it down once the services using it have stopped.
public struct HTTPClientService: Service {
    let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        // Returns once shutdown starts; cancellation also ends up here.
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
