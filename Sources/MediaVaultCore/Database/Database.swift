import Logging
import NIOSSL
import NIOConcurrencyHelpers
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
///
/// Returns at the deadline even when `operation` ignores cancellation (a query on a connection whose server went
/// away can): it is cancelled and left to end on its own. A task group would wait for it, and a health check that
/// waits for a hung dependency is itself hung.
public func withTimeout<Result: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let outcome = FirstOutcome<Result>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            // Already cancelled: resumed at once, and nothing is started for nobody.
            guard outcome.wait(with: continuation) else { return }
            let work = Task {
                do {
                    outcome.resolve(.success(try await operation()))
                } catch {
                    outcome.resolve(.failure(error))
                }
            }
            let deadline = Task {
                try await Task.sleep(for: timeout)
                outcome.resolve(.failure(TimeoutError(timeout: timeout)))
                work.cancel()
            }
            // Whichever way it ends (result, deadline or the caller's cancellation), nothing is left running for it.
            outcome.onResolved {
                deadline.cancel()
                work.cancel()
            }
        }
    } onCancel: {
        outcome.resolve(.failure(CancellationError()))
    }
}

/// Resumes one continuation with whichever result arrives first; later ones are dropped.
private final class FirstOutcome<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var early: Swift.Result<Result, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }

    private let state = NIOLockedValueBox(State())

    /// Installs the continuation; `false` (after resuming it) when the outcome was already decided.
    func wait(with continuation: CheckedContinuation<Result, any Error>) -> Bool {
        let early = state.withLockedValue { state -> Swift.Result<Result, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    func resolve(_ result: Swift.Result<Result, any Error>) {
        let (continuation, cleanup) = state.withLockedValue {
            state -> (CheckedContinuation<Result, any Error>?, (@Sendable () -> Void)?) in
            guard !state.done else { return (nil, nil) }
            state.done = true
            guard let continuation = state.continuation else {
                // Cancelled before the continuation was installed.
                state.early = result
                return (nil, state.cleanup)
            }
            state.continuation = nil
            return (continuation, state.cleanup)
        }
        continuation?.resume(with: result)
        cleanup?()
    }

    /// Runs `cleanup` once resolved (at once if already).
    func onResolved(_ cleanup: @escaping @Sendable () -> Void) {
        let done = state.withLockedValue { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if done { cleanup() }
    }
}

public struct TimeoutError: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "timed out after \(timeout)" }
}

extension PostgresBindings {
    /// The values bound in order as `$1, $2, …`: what a prepared statement's `makeBindings()` returns.
    public init<each Value: PostgresNonThrowingEncodable>(_ value: repeat each Value) {
        self.init()
        repeat append(each value)
    }
}
