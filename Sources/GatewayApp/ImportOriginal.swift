import AsyncHTTPClient
import Auth
import Collection
import Logging
import Media
import MediaVaultCore
import OriginalImport
import Processing
import StorageService

/// `mediavault import-original`: brings a deployment of the original backend into the configured database. A real
/// run applies MediaVault's migrations first, as the gateway does at start; a dry run writes nothing at all.
public func importOriginal(
    configuration: GatewayConfiguration, sources: OriginalSources, options: ImportOptions, logger: Logger,
    progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }
) async throws -> ImportSummary {
    let database = Database(configuration: configuration.core.database, logger: logger)
    let httpClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))))
    do {
        let summary = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            try await database.ping(timeout: .seconds(15))
            if !options.dryRun {
                try await MigrationRunner(migrations: gatewayMigrations, logger: logger).run(on: database.client)
            }
            let store =
                options.verify
                ? try Storage.make(
                    configuration.storage, httpClient: httpClient, publicBaseURL: configuration.apiBaseURL,
                    signingKey: configuration.auth.sessionSecret, logger: logger
                ).store : nil
            let jobs = JobRepository(database: database, maxAttempts: configuration.processing.maxAttempts)
            let targets = ImportTargets(
                database: database, users: AuthModule.userImporter(logger: logger),
                media: MediaModule.importer(scheduler: jobs, logger: logger),
                collections: CollectionModule.importer(logger: logger), store: store)
            return try await OriginalImporter(sources: sources, targets: targets, options: options, logger: logger)
                .run(progress: progress)
        }
        try await httpClient.shutdown()
        return summary
    } catch {
        try? await httpClient.shutdown()
        throw error
    }
}
