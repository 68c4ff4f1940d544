import Foundation
import MediaVaultCore
import PostgresNIO

// Collection's fixed statements on request paths (a collection by id, its items, what a share token opens), run
// as named prepared statements: parsed and planned once per connection.

struct CollectionByIDStatement: PostgresPreparedStatement {
    static let name = "collection.by_id"
    static let sql = "SELECT \(CollectionRecord.columns) FROM collection.collections c WHERE c.id = $1"
    typealias Row = CollectionRecord

    let collectionID: UUID

    func makeBindings() throws -> PostgresBindings { PostgresBindings(collectionID) }

    func decodeRow(_ row: PostgresRow) throws -> CollectionRecord { try CollectionRecord(row: row) }
}

/// Items in display order: manual positions first, then newest added.
struct CollectionItemsStatement: PostgresPreparedStatement {
    static let name = "collection.items"
    static let sql = """
        SELECT media_id, position, added_at FROM collection.items WHERE collection_id = $1
        ORDER BY position ASC NULLS LAST, added_at DESC, media_id
        """
    typealias Row = CollectionItemRecord

    let collectionID: UUID

    func makeBindings() throws -> PostgresBindings { PostgresBindings(collectionID) }

    func decodeRow(_ row: PostgresRow) throws -> CollectionItemRecord {
        let (mediaID, position, addedAt) = try row.decode((UUID, Int32?, Date).self)
        return CollectionItemRecord(mediaID: mediaID, position: position.map(Int.init), addedAt: addedAt)
    }
}

/// The share link (with its collection) whose token has this digest.
struct ShareLinkByDigestStatement: PostgresPreparedStatement {
    static let name = "collection.link_by_digest"
    static let sql = """
        SELECT \(ShareLinkRecord.columns), \(CollectionRecord.columns)
        FROM collection.share_links l JOIN collection.collections c ON c.id = l.collection_id
        WHERE l.token_digest = $1
        """
    typealias Row = (ShareLinkRecord, CollectionRecord)

    let digest: ByteBuffer

    func makeBindings() throws -> PostgresBindings { PostgresBindings(digest) }

    func decodeRow(_ row: PostgresRow) throws -> (ShareLinkRecord, CollectionRecord) {
        (try ShareLinkRecord(row: row), try CollectionRecord(row: row, offset: ShareLinkRecord.columnCount))
    }
}

/// The collection whose own share token (the original's kind) has this digest.
struct CollectionByTokenDigestStatement: PostgresPreparedStatement {
    static let name = "collection.by_token_digest"
    static let sql = "SELECT \(CollectionRecord.columns) FROM collection.collections c WHERE c.share_token_digest = $1"
    typealias Row = CollectionRecord

    let digest: ByteBuffer

    func makeBindings() throws -> PostgresBindings { PostgresBindings(digest) }

    func decodeRow(_ row: PostgresRow) throws -> CollectionRecord { try CollectionRecord(row: row) }
}
