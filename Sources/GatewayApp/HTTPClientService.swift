import AsyncHTTPClient
import ServiceLifecycle

/// Owns the process's outbound HTTP client and shuts it down after the server has stopped.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        // Returns once shutdown starts; cancellation also ends up here.
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
