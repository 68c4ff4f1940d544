import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// What `PATCH /collection/:id` changes; `nil` leaves a field as it is.
public struct CollectionChanges: Sendable {
    public var title: String?
    public var description: String?
    /// `.some(nil)` clears the cover.
    public var cover: UUID??

    public init(title: String? = nil, description: String? = nil, cover: UUID?? = nil) {
        self.title = title
        self.description = description
        self.cover = cover
    }
}

/// A new share link's settings, already validated.
public struct NewShareLink: Sendable {
    public let label: String?
    public let expiresAt: Date?
    public let passwordHash: String?
    public let allowDownload: Bool
    public var showMetadata = false
    public var showLocation = false
}

/// What `PATCH /collection/:id/links/:linkID` changes; `nil` leaves a field as it is, `.some(nil)` clears it.
public struct ShareLinkChanges: Sendable {
    public var label: String??
    public var expiresAt: Date??
    public var passwordHash: String??
    public var allowDownload: Bool?
    public var showMetadata: Bool?
    public var showLocation: Bool?
}

/// What a share token opens: one of the collection's links, or the collection's own token (the original's).
public enum ShareTarget: Sendable {
    case link(ShareLinkRecord, CollectionRecord)
    case collectionToken(CollectionRecord)

    public var collection: CollectionRecord {
        switch self {
        case .link(_, let collection), .collectionToken(let collection): return collection
        }
    }
}

/// SQL of the Collection module. Writes are scoped by owner in the statement itself.
public struct CollectionRepository: Sendable {
    let database: Database
    var logger: Logger { database.logger }

    public init(database: Database) {
        self.database = database
    }

    // MARK: Collections

    public func create(ownerID: UUID, title: String, description: String) async throws -> CollectionRecord {
        let id = UUID()
        let token = RandomToken.generate()
        let rows = try await database.client.query(
            """
            WITH c AS (
                INSERT INTO collection.collections (id, owner_id, title, description, share_token, share_token_digest)
                VALUES (\(id), \(ownerID), \(title), \(description), \(token), \(Self.bytes(RandomToken.digest(token))))
                RETURNING *
            )
            SELECT \(unescaped: CollectionRecord.columns) FROM c
            """, logger: logger)
        for try await row in rows { return try CollectionRecord(row: row) }
        throw AppError.internal
    }

    public func list(ownerID: UUID) async throws -> [CollectionRecord] {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: CollectionRecord.columns) FROM collection.collections c
            WHERE c.owner_id = \(ownerID) ORDER BY c.created_at DESC, c.id DESC
            """, logger: logger)
        var records: [CollectionRecord] = []
        for try await row in rows { records.append(try CollectionRecord(row: row)) }
        return records
    }

    /// The collection whoever owns it; callers decide who may see it.
    public func find(id: UUID) async throws -> CollectionRecord? {
        for try await collection in try await database.client.execute(
            CollectionByIDStatement(collectionID: id), logger: logger)
        {
            return collection
        }
        return nil
    }

    /// Applies `changes` to the owner's collection; `nil` when there is no such collection of theirs.
    public func update(id: UUID, ownerID: UUID, changes: CollectionChanges) async throws -> CollectionRecord? {
        let setsCover = changes.cover != nil
        let cover: UUID? = changes.cover ?? nil
        do {
            let rows = try await database.client.query(
                """
                WITH c AS (
                    UPDATE collection.collections SET
                        title = COALESCE(\(changes.title), title),
                        description = COALESCE(\(changes.description), description),
                        cover_media_id = CASE WHEN \(setsCover) THEN \(cover) ELSE cover_media_id END,
                        updated_at = now()
                    WHERE id = \(id) AND owner_id = \(ownerID)
                    RETURNING *
                )
                SELECT \(unescaped: CollectionRecord.columns) FROM c
                """, logger: logger)
            for try await row in rows { return try CollectionRecord(row: row) }
            return nil
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.foreignKeyViolation {
            throw AppError.invalidArgument("cover_media_id must be an item of this collection")
        }
    }

    public func delete(id: UUID, ownerID: UUID) async throws -> Bool {
        let rows = try await database.client.query(
            "DELETE FROM collection.collections WHERE id = \(id) AND owner_id = \(ownerID) RETURNING id", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    // MARK: Items

    /// Adds the media (the caller checked it is the owner's); `false` when it was already there.
    public func addItem(collectionID: UUID, mediaID: UUID) async throws -> Bool {
        do {
            return try await database.transaction { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO collection.items (collection_id, media_id) VALUES (\(collectionID), \(mediaID))
                    ON CONFLICT (collection_id, media_id) DO NOTHING RETURNING media_id
                    """, logger: logger)
                var inserted = false
                for try await _ in rows { inserted = true }
                if inserted {
                    try await touch(collectionID, on: connection)
                }
                return inserted
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.foreignKeyViolation {
            // The media was deleted between the ownership check and the insert.
            throw AppError.notFound("media not found")
        }
    }

    public func removeItem(collectionID: UUID, mediaID: UUID) async throws -> Bool {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                DELETE FROM collection.items WHERE collection_id = \(collectionID) AND media_id = \(mediaID)
                RETURNING media_id
                """, logger: logger)
            var removed = false
            for try await _ in rows { removed = true }
            if removed { try await touch(collectionID, on: connection) }
            return removed
        }
    }

    /// Gives the listed items positions 1, 2, 3 …; the others keep time-added order after them.
    /// Returns the ids that are not items of the collection (nothing changes then).
    public func setOrder(collectionID: UUID, mediaIDs: [UUID]) async throws -> [UUID] {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT m.id FROM unnest(\(mediaIDs)::uuid[]) AS m(id)
                WHERE NOT EXISTS (
                    SELECT 1 FROM collection.items i WHERE i.collection_id = \(collectionID) AND i.media_id = m.id)
                """, logger: logger)
            var unknown: [UUID] = []
            for try await id in rows.decode(UUID.self) { unknown.append(id) }
            guard unknown.isEmpty else { return unknown }
            try await connection.query(
                """
                UPDATE collection.items i SET position = o.ord
                FROM (SELECT c.media_id, m.ord::int4 AS ord
                      FROM collection.items c
                      LEFT JOIN unnest(\(mediaIDs)::uuid[]) WITH ORDINALITY AS m(id, ord) ON m.id = c.media_id
                      WHERE c.collection_id = \(collectionID)) o
                WHERE i.collection_id = \(collectionID) AND i.media_id = o.media_id
                """, logger: logger)
            try await touch(collectionID, on: connection)
            return []
        }
    }

    /// Items in display order: manual positions first, then newest added.
    public func items(collectionID: UUID) async throws -> [CollectionItemRecord] {
        var items: [CollectionItemRecord] = []
        for try await item in try await database.client.execute(
            CollectionItemsStatement(collectionID: collectionID), logger: logger)
        {
            items.append(item)
        }
        return items
    }

    public func containsItem(collectionID: UUID, mediaID: UUID) async throws -> Bool {
        let rows = try await database.client.query(
            "SELECT 1 FROM collection.items WHERE collection_id = \(collectionID) AND media_id = \(mediaID)",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    private func touch(_ collectionID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE collection.collections SET updated_at = now() WHERE id = \(collectionID)", logger: logger)
    }

    // MARK: Sharing

    /// Sets `is_public` and, when asked, replaces the collection's token (the old one stops working at once).
    public func updateSharing(
        id: UUID, ownerID: UUID, isPublic: Bool?, regenerateToken: Bool
    ) async throws -> CollectionRecord? {
        let token = regenerateToken ? RandomToken.generate() : nil
        let digest = token.map { Self.bytes(RandomToken.digest($0)) }
        let rows = try await database.client.query(
            """
            WITH c AS (
                UPDATE collection.collections SET
                    is_public = COALESCE(\(isPublic), is_public),
                    share_token = COALESCE(\(token), share_token),
                    share_token_digest = COALESCE(\(digest), share_token_digest),
                    updated_at = now()
                WHERE id = \(id) AND owner_id = \(ownerID)
                RETURNING *
            )
            SELECT \(unescaped: CollectionRecord.columns) FROM c
            """, logger: logger)
        for try await row in rows { return try CollectionRecord(row: row) }
        return nil
    }

    public func createLink(collectionID: UUID, _ link: NewShareLink) async throws -> ShareLinkRecord {
        let token = RandomToken.generate()
        let rows = try await database.client.query(
            """
            WITH l AS (
                INSERT INTO collection.share_links
                    (id, collection_id, token, token_digest, label, expires_at, password_hash, allow_download,
                     show_metadata, show_location)
                VALUES (\(UUID()), \(collectionID), \(token), \(Self.bytes(RandomToken.digest(token))), \(link.label),
                        \(link.expiresAt), \(link.passwordHash), \(link.allowDownload), \(link.showMetadata),
                        \(link.showLocation))
                RETURNING *
            )
            SELECT \(unescaped: ShareLinkRecord.columns) FROM l
            """, logger: logger)
        for try await row in rows { return try ShareLinkRecord(row: row) }
        throw AppError.internal
    }

    public func links(collectionID: UUID) async throws -> [ShareLinkRecord] {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: ShareLinkRecord.columns) FROM collection.share_links l
            WHERE l.collection_id = \(collectionID) ORDER BY l.created_at DESC, l.id
            """, logger: logger)
        var links: [ShareLinkRecord] = []
        for try await row in rows { links.append(try ShareLinkRecord(row: row)) }
        return links
    }

    /// Changes a link still in use; `nil` when the collection has no such link. A revoked link stays revoked.
    public func updateLink(collectionID: UUID, linkID: UUID, _ changes: ShareLinkChanges) async throws -> ShareLinkRecord? {
        let setsExpiry = changes.expiresAt != nil
        let expiresAt: Date? = changes.expiresAt ?? nil
        let setsPassword = changes.passwordHash != nil
        let passwordHash: String? = changes.passwordHash ?? nil
        let rows = try await database.client.query(
            """
            WITH l AS (
                UPDATE collection.share_links SET
                    label = CASE WHEN \(changes.label != nil) THEN \(changes.label ?? nil) ELSE label END,
                    expires_at = CASE WHEN \(setsExpiry) THEN \(expiresAt) ELSE expires_at END,
                    password_hash = CASE WHEN \(setsPassword) THEN \(passwordHash) ELSE password_hash END,
                    allow_download = COALESCE(\(changes.allowDownload), allow_download),
                    show_metadata = COALESCE(\(changes.showMetadata), show_metadata),
                    show_location = COALESCE(\(changes.showLocation), show_location)
                WHERE id = \(linkID) AND collection_id = \(collectionID)
                RETURNING *
            )
            SELECT \(unescaped: ShareLinkRecord.columns) FROM l
            """, logger: logger)
        for try await row in rows { return try ShareLinkRecord(row: row) }
        return nil
    }

    public func link(collectionID: UUID, linkID: UUID) async throws -> ShareLinkRecord? {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: ShareLinkRecord.columns) FROM collection.share_links l
            WHERE l.id = \(linkID) AND l.collection_id = \(collectionID)
            """, logger: logger)
        for try await row in rows { return try ShareLinkRecord(row: row) }
        return nil
    }

    /// Revokes the link at once; `false` when the collection has no such link. Revoking twice is harmless.
    public func revokeLink(collectionID: UUID, linkID: UUID) async throws -> Bool {
        let rows = try await database.client.query(
            """
            UPDATE collection.share_links SET revoked_at = COALESCE(revoked_at, now())
            WHERE id = \(linkID) AND collection_id = \(collectionID) RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Finds what `token` opens. The lookup goes by digest; the token itself is then compared in constant time.
    public func resolve(token: String) async throws -> ShareTarget? {
        guard !token.isEmpty, token.utf8.count <= 128 else { return nil }
        let digest = Self.bytes(RandomToken.digest(token))
        for try await (link, collection) in try await database.client.execute(
            ShareLinkByDigestStatement(digest: digest), logger: logger)
        {
            guard Self.sameToken(link.token, token) else { return nil }
            return .link(link, collection)
        }
        for try await collection in try await database.client.execute(
            CollectionByTokenDigestStatement(digest: digest), logger: logger)
        {
            guard Self.sameToken(collection.shareToken, token) else { return nil }
            return .collectionToken(collection)
        }
        return nil
    }

    public func recordView(linkID: UUID) async throws {
        try await database.client.query(
            """
            UPDATE collection.share_links SET view_count = view_count + 1, last_viewed_at = now()
            WHERE id = \(linkID)
            """, logger: logger)
    }

    static func sameToken(_ stored: String, _ presented: String) -> Bool {
        ConstantTime.equal(Array(stored.utf8), Array(presented.utf8))
    }

    // MARK: Password attempts

    /// Counts one attempt against `scope` in a fixed window and returns the count so far and when the window ends.
    /// Counting before checking the password keeps concurrent guesses from slipping past the limit.
    public func countAttempt(scope: String, window: Duration) async throws -> (attempts: Int, windowEnds: Date) {
        let seconds = Double(window.components.seconds)
        let rows = try await database.client.query(
            """
            INSERT INTO collection.password_attempts AS a (scope, attempts, window_started_at)
            VALUES (\(scope), 1, now())
            ON CONFLICT (scope) DO UPDATE SET
                attempts = CASE WHEN a.window_started_at <= now() - make_interval(secs => \(seconds)) THEN 1
                                ELSE a.attempts + 1 END,
                window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(secs => \(seconds))
                                         THEN now() ELSE a.window_started_at END
            RETURNING attempts, window_started_at + make_interval(secs => \(seconds))
            """, logger: logger)
        for try await (attempts, ends) in rows.decode((Int32, Date).self) { return (Int(attempts), ends) }
        throw AppError.internal
    }

    /// A successful unlock does not count against the viewer.
    public func refundAttempt(scope: String) async throws {
        try await database.client.query(
            "UPDATE collection.password_attempts SET attempts = greatest(attempts - 1, 0) WHERE scope = \(scope)",
            logger: logger)
    }

    /// Forgets windows that ended long ago.
    public func pruneAttempts(olderThan window: Duration) async throws {
        let seconds = Double(window.components.seconds)
        try await database.client.query(
            """
            DELETE FROM collection.password_attempts
            WHERE window_started_at < now() - make_interval(secs => \(seconds)) * 2
            """, logger: logger)
    }

    static let foreignKeyViolation = "23503"

    static func bytes(_ digest: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: digest) }
}

extension CollectionRecord {
    /// Reads the collection columns starting at `offset` of a joined row.
    init(row: PostgresRow, offset: Int) throws {
        let cells = row.makeRandomAccess()
        self.init(
            id: try cells[offset].decode(UUID.self), ownerID: try cells[offset + 1].decode(UUID.self),
            title: try cells[offset + 2].decode(String.self), description: try cells[offset + 3].decode(String.self),
            isPublic: try cells[offset + 4].decode(Bool.self), shareToken: try cells[offset + 5].decode(String.self),
            coverMediaID: try cells[offset + 6].decode(UUID?.self), createdAt: try cells[offset + 7].decode(Date.self),
            updatedAt: try cells[offset + 8].decode(Date.self),
            itemCount: Int(try cells[offset + 9].decode(Int64.self)))
    }
}
