import Foundation
import MediaVaultCore
import PostgresNIO

/// The original backend's collections with their ids and share tokens unchanged, so every share URL already handed
/// out keeps working, and their items with the time each was added (the order the collection shows them in).
struct CollectionImportSQL: CollectionImporting {
    let logger: Logger

    func importCollections(_ collections: [OriginalCollection], on connection: PostgresConnection) async throws
        -> Set<UUID>
    {
        guard !collections.isEmpty else { return [] }
        // The token digest is computed by PostgreSQL (SHA-256 of the UTF-8 text, as `RandomToken.digest`), so the
        // batch stays one statement. A taken id or token leaves that collection out.
        let rows = try await connection.query(
            """
            INSERT INTO collection.collections (id, owner_id, title, description, is_public, share_token,
                                                share_token_digest, created_at, updated_at)
            SELECT c.id, c.owner_id, c.title, c.description, c.is_public, c.token,
                   sha256(convert_to(c.token, 'UTF8')), c.created_at, c.created_at
            FROM unnest(\(collections.map(\.id))::uuid[], \(collections.map(\.ownerID))::uuid[],
                        \(collections.map(\.title))::text[], \(collections.map(\.description))::text[],
                        \(collections.map(\.isPublic))::bool[], \(collections.map(\.shareToken))::text[],
                        \(collections.map(\.createdAt))::timestamptz[])
                 AS c (id, owner_id, title, description, is_public, token, created_at)
            ON CONFLICT DO NOTHING
            RETURNING id
            """, logger: logger)
        var inserted: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { inserted.insert(id) }
        return inserted
    }

    func importItems(_ items: [OriginalCollectionItem], on connection: PostgresConnection) async throws -> Int {
        guard !items.isEmpty else { return 0 }
        // No position: items without one show in time-added order, which is how the original listed them.
        let rows = try await connection.query(
            """
            INSERT INTO collection.items (collection_id, media_id, added_at)
            SELECT i.collection_id, i.media_id, i.added_at
            FROM unnest(\(items.map(\.collectionID))::uuid[], \(items.map(\.mediaID))::uuid[],
                        \(items.map(\.addedAt))::timestamptz[]) AS i (collection_id, media_id, added_at)
            WHERE EXISTS (SELECT 1 FROM collection.collections c WHERE c.id = i.collection_id)
              AND EXISTS (SELECT 1 FROM media.items m WHERE m.id = i.media_id)
            ON CONFLICT (collection_id, media_id) DO NOTHING
            RETURNING media_id
            """, logger: logger)
        var added = 0
        for try await _ in rows { added += 1 }
        return added
    }

    func existingCollections(among ids: [UUID], on connection: PostgresConnection) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        let rows = try await connection.query(
            "SELECT id FROM collection.collections WHERE id = ANY(\(ids))", logger: logger)
        var found: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { found.insert(id) }
        return found
    }
}
