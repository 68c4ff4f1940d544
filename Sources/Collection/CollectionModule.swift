import Foundation
import Hummingbird
import Logging
import MediaVaultCore
import ObjectStorage

/// What the Collection module exposes to the gateway.
public struct CollectionModule: Sendable {
    public let migrations = CollectionMigrations.all
    public let repository: CollectionRepository
    let collections: CollectionController
    let sharing: ShareController

    public init(
        configuration: CollectionConfiguration, database: Database, catalog: any MediaCatalog, store: any ObjectStore,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        repository = CollectionRepository(database: database)
        let shared = SharedCollections(
            configuration: configuration, repository: repository, catalog: catalog, store: store, now: now)
        collections = CollectionController(shared: shared)
        sharing = ShareController(
            shared: shared, storageOrigin: store.publicOrigin, pageTemplates: SharePageTemplates.bundled())
    }

    public func registerRoutes(on router: AccessRouter) {
        collections.register(on: router)
        sharing.register(on: router)
    }

    /// Collections of a deployment of the original backend being imported.
    public static func importer(logger: Logger) -> any CollectionImporting { CollectionImportSQL(logger: logger) }
}
