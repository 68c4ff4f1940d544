import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// The PostgreSQL server the test script started (loopback); each test gets its own fresh database.
public enum TestPostgres {
    /// `MEDIAVAULT_TEST_POSTGRES_HOST` (host:port, default 127.0.0.1:55432) and `MEDIAVAULT_TEST_POSTGRES_USER`.
    public static var server: (host: String, port: Int, user: String) {
        let environment = ProcessInfo.processInfo.environment
        let hostText = environment["MEDIAVAULT_TEST_POSTGRES_HOST"] ?? "127.0.0.1:55432"
        let (host, port) = CoreConfiguration.hostAndPort(hostText, defaultPort: 5432) ?? ("127.0.0.1", 55432)
        return (host, port, environment["MEDIAVAULT_TEST_POSTGRES_USER"] ?? "postgres")
    }

    /// Creates a uniquely named empty database and returns its configuration.
    public static func createDatabase(logger: Logger = Logger(label: "test-postgres")) async throws
        -> DatabaseConfiguration
    {
        let name = "mv_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await admin(logger: logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        let server = self.server
        return DatabaseConfiguration(
            host: server.host, port: server.port, username: server.user, password: nil, database: name,
            maxConnections: 8)
    }

    public static func dropDatabase(_ configuration: DatabaseConfiguration, logger: Logger = Logger(label: "test-postgres"))
        async throws
    {
        try await admin(logger: logger) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(configuration.database) WITH (FORCE)"),
                logger: logger)
        }
    }

    /// Runs `body` on a connection to the server's `postgres` database.
    public static func admin(
        logger: Logger, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let server = self.server
        let configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.user, password: nil, database: "postgres",
            tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await body(connection)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs `body` with a pool for `configuration` running in the background.
    public static func withClient<Result: Sendable>(
        _ configuration: DatabaseConfiguration, logger: Logger = Logger(label: "test-postgres"),
        _ body: @escaping @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        let database = Database(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await database.client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}
