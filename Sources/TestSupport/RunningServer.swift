import Hummingbird
import Logging
import ServiceLifecycle

/// A service (usually a Hummingbird application) running in the background of a test, stopped gracefully.
public final class RunningServer: Sendable {
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the service built by `make`, which must call the given callback with its bound port.
    public static func start<S: Service>(
        logger: Logger = Logger(label: "test-server"),
        _ make: (@escaping @Sendable (Int) async -> Void) throws -> S
    ) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let service = try make { port in continuation.yield(port) }
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server ended before listening: surface its error.
            try await task.value
            throw ServerDidNotStart()
        }
        return RunningServer(port: port, group: group, task: task)
    }

    /// Graceful shutdown: in-flight requests finish, then services stop in order.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    public struct ServerDidNotStart: Error {}
}
