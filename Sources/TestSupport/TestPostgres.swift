import Crypto
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
        let name = uniqueName()
        try await admin(logger: logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return configuration(database: name)
    }

    /// Creates a uniquely named database with `migrations` already applied, copied from a template database that is
    /// migrated once per test process (`CREATE DATABASE … TEMPLATE`): far cheaper than migrating every test's
    /// database. Start-up migrations then find nothing to do, as in a real upgrade without changes.
    public static func createMigratedDatabase(
        _ migrations: [Migration], logger: Logger = Logger(label: "test-postgres")
    ) async throws -> DatabaseConfiguration {
        let template = try await MigratedTemplates.shared.template(for: migrations, logger: logger)
        let name = uniqueName()
        try await adminWhileSessionsClose("CREATE DATABASE \(name) TEMPLATE \(template)", logger: logger)
        return configuration(database: name)
    }

    /// Runs one statement that needs a database without sessions (copying or renaming it): the pool that last used
    /// it may still be closing its connections for a moment, so it is tried again for up to five seconds.
    static func adminWhileSessionsClose(_ sql: String, logger: Logger) async throws {
        var attempt = 0
        while true {
            do {
                try await admin(logger: logger) { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                return
            } catch where attempt < 50 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func uniqueName() -> String {
        "mv_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    static func configuration(database name: String) -> DatabaseConfiguration {
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

/// Template databases by migration set, made once per process. Named after a digest of the migrations, so a
/// changed migration gets a new template and a reused cluster never serves a stale schema.
actor MigratedTemplates {
    static let shared = MigratedTemplates()
    private var made: [String: Task<String, any Error>] = [:]

    func template(for migrations: [Migration], logger: Logger) async throws -> String {
        let text = migrations.map { "\($0.module)/\($0.version)/\($0.name)\n" + $0.statements.joined(separator: "\n;\n") }
            .joined(separator: "\n--\n")
        let digest = SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        let name = "mv_template_" + digest
        if let task = made[name] { return try await task.value }
        let task = Task { try await Self.make(name, migrations: migrations, logger: logger) }
        made[name] = task
        do {
            return try await task.value
        } catch {
            made[name] = nil
            throw error
        }
    }

    private static func make(_ name: String, migrations: [Migration], logger: Logger) async throws -> String {
        var exists = false
        try await TestPostgres.admin(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT 1 FROM pg_database WHERE datname = \(name) AND datistemplate", logger: logger)
            for try await _ in rows { exists = true }
        }
        if exists { return name }
        // Built under a scratch name and renamed when complete, so an interrupted run never leaves a half-migrated
        // template behind under the real name.
        let scratch = TestPostgres.uniqueName()
        try await TestPostgres.admin(logger: logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(scratch)"), logger: logger)
        }
        let configuration = TestPostgres.configuration(database: scratch)
        _ = try await TestPostgres.withClient(configuration, logger: logger) { database in
            try await MigrationRunner(migrations: migrations, logger: logger).run(on: database.client)
        }
        try await TestPostgres.adminWhileSessionsClose("ALTER DATABASE \(scratch) RENAME TO \(name)", logger: logger)
        try await TestPostgres.adminWhileSessionsClose(
            "ALTER DATABASE \(name) WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", logger: logger)
        return name
    }
}
