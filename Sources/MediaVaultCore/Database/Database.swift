import Logging
import NIOSSL
import PostgresNIO

/// The process's one PostgreSQL pool. Run `client` as a service; query through it with `PostgresQuery` interpolation.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(configuration: DatabaseConfiguration, logger: Logger) {
        var config = PostgresClient.Configuration(
            host: configuration.host,
            port: configuration.port,
            username: configuration.username,
            password: configuration.password,
            database: configuration.database,
            tls: Self.tls(configuration.tls)
        )
        config.options.maximumConnections = configuration.maxConnections
        config.options.connectTimeout = .seconds(5)
        self.client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.logger = logger
    }

    private static func tls(_ mode: DatabaseConfiguration.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require: return .require(.makeClientConfiguration())
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. The body's own error
    /// is rethrown as it is (PostgresNIO wraps it), so an `AppError` keeps its meaning for the caller.
    public func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }

    /// `SELECT 1` bounded by `timeout`: the pool itself would wait far longer on a dead server.
    public func ping(timeout: Duration) async throws {
        _ = try await withTimeout(timeout) {
            try await client.query("SELECT 1", logger: logger)
        }
    }
}

/// Runs `operation`, throwing `TimeoutError` if it has not finished within `timeout`.
public func withTimeout<Result: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError(timeout: timeout)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimeoutError(timeout: timeout) }
        return result
    }
}

public struct TimeoutError: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "timed out after \(timeout)" }
}
