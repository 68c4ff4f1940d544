import Foundation
import Hummingbird
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
        sharing = ShareController(shared: shared, storageOrigin: Self.origin(of: store, ttl: configuration.mediaURLTTL))
    }

    public func registerRoutes(on router: Router<AppRequestContext>) {
        collections.register(on: router)
        sharing.register(on: router)
    }

    /// `scheme://host[:port]` of the store's presigned URLs (S3 endpoint, or this API for the filesystem store).
    static func origin(of store: any ObjectStore, ttl: Duration) -> String? {
        guard let key = try? ObjectKey("thumbnails/origin-probe.jpg"),
            let url = try? store.presignedGetURL(for: key, expiresIn: ttl, downloadFilename: nil).url, url.host != nil
        else { return nil }
        return url.origin
    }
}
