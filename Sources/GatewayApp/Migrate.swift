import Logging
import MediaVaultCore
import PostgresNIO

/// Runs the gateway's migrations against the configured database and returns what was applied.
public func migrateDatabase(configuration: CoreConfiguration, logger: Logger) async throws -> [String] {
    let database = Database(configuration: configuration.database, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        // Fail fast with a clear message instead of the pool's long connect retries.
        try await database.ping(timeout: .seconds(15))
        return try await MigrationRunner(migrations: gatewayMigrations, logger: logger).run(on: database.client)
    }
}
