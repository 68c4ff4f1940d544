import Logging
import MediaVaultCore

/// The processing worker's configuration.
public struct WorkerConfiguration: Sendable {
    public var core: CoreConfiguration

    public static let catalog = SettingsCatalog([CoreSettings.all])

    public init(source: ConfigSource) throws {
        let reader = ConfigReader(source)
        core = CoreConfiguration(reading: reader)
        try reader.finish()
    }
}

/// Starts the worker: connects to PostgreSQL and checks the schema is there. Job processing plugs in here.
public func runWorker(configuration: WorkerConfiguration, logger: Logger) async throws {
    let database = Database(configuration: configuration.core.database, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        try await database.ping(timeout: .seconds(15))
        logger.info("worker connected to PostgreSQL; no job transport is configured yet, exiting")
    }
}
