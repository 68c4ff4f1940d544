import Foundation
import Hummingbird
import Logging
import MediaVaultCore
import ObjectStorage
import Prometheus

/// What the Media module exposes to the gateway.
public struct MediaModule: Sendable {
    public let migrations = MediaMigrations.all
    public let repository: MediaRepository
    public let janitor: StorageJanitor
    public let counterCheck: ListCounterCheck
    let controller: MediaController

    public init(
        configuration: MediaConfiguration, database: Database, store: any ObjectStore,
        scheduler: any ProcessingScheduler, registry: PrometheusCollectorRegistry, janitorInterval: Duration,
        startup: StartupGate, logger: Logger
    ) {
        repository = MediaRepository(database: database, defaultQuotaBytes: configuration.defaultQuotaBytes)
        janitor = StorageJanitor(
            repository: repository, store: store, interval: janitorInterval,
            abandonedUploadAge: configuration.abandonedUploadAge, startup: startup, logger: logger)
        counterCheck = ListCounterCheck(
            repository: repository, interval: configuration.listCounterCheckInterval, registry: registry,
            startup: startup, logger: logger)
        controller = MediaController(
            configuration: configuration, repository: repository, store: store, scheduler: scheduler,
            janitor: janitor, registry: registry)
    }

    public func registerRoutes(on router: AccessRouter) {
        controller.register(on: router)
    }

    /// What other modules may ask about media.
    public var catalog: any MediaCatalog { MediaCatalogAdapter(repository: repository) }

    /// What the worker's job logic may do to media rows; needs no pool of its own (it runs on the worker's transactions).
    public static func processingLedger(logger: Logger) -> any MediaProcessingLedger {
        MediaProcessingSQL(logger: logger)
    }

    /// Media of a deployment of the original backend being imported; queued items get jobs from `scheduler`.
    public static func importer(scheduler: any ProcessingScheduler, logger: Logger) -> any MediaImporting {
        MediaImportSQL(scheduler: scheduler, logger: logger)
    }

    /// Adds storage use and quota to `/auth/me`.
    public var profileExtension: any ProfileExtension { StorageProfileExtension(repository: repository) }
}

struct StorageProfileExtension: ProfileExtension {
    let repository: MediaRepository

    func fields(forUser userID: UUID) async throws -> [String: JSONValue] {
        let usage = try await repository.usage(ownerID: userID)
        return [
            "storage_used_bytes": .int(usage.usedBytes),
            "storage_quota_bytes": usage.quotaBytes.map { .int($0) } ?? .null,
        ]
    }
}
