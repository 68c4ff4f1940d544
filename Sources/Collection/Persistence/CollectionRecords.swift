import Foundation
import PostgresNIO

/// One collection row, with how many items it holds.
public struct CollectionRecord: Sendable, Equatable {
    public let id: UUID
    public let ownerID: UUID
    public let title: String
    public let description: String
    public let isPublic: Bool
    public let shareToken: String
    public let coverMediaID: UUID?
    public let createdAt: Date
    public let updatedAt: Date
    public let itemCount: Int

    /// Columns in the order `init(row:)` reads them; `c` is `collection.collections`.
    static let columns = """
        c.id, c.owner_id, c.title, c.description, c.is_public, c.share_token, c.cover_media_id, c.created_at,
        c.updated_at, (SELECT count(*) FROM collection.items i WHERE i.collection_id = c.id)::int8
        """
}

extension CollectionRecord {
    init(row: PostgresRow) throws {
        try self.init(row: row, offset: 0)
    }
}

/// An item's place in a collection; what it is comes from the media catalog.
public struct CollectionItemRecord: Sendable, Equatable {
    public let mediaID: UUID
    public let position: Int?
    public let addedAt: Date
}

/// Whether a share link still opens.
public enum ShareLinkState: String, Sendable {
    case active, expired, revoked
}

/// One share link of a collection.
public struct ShareLinkRecord: Sendable, Equatable {
    public let id: UUID
    public let collectionID: UUID
    public let token: String
    public let label: String?
    public let expiresAt: Date?
    public let passwordHash: String?
    public let allowDownload: Bool
    public let showMetadata: Bool
    public let showLocation: Bool
    public let viewCount: Int64
    public let lastViewedAt: Date?
    public let createdAt: Date
    public let revokedAt: Date?

    static let columns = """
        l.id, l.collection_id, l.token, l.label, l.expires_at, l.password_hash, l.allow_download, l.view_count,
        l.last_viewed_at, l.created_at, l.revoked_at, l.show_metadata, l.show_location
        """
    /// How many cells `columns` takes, for queries that select the collection's columns after them.
    static let columnCount = 13

    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        id = try cells[0].decode(UUID.self)
        collectionID = try cells[1].decode(UUID.self)
        token = try cells[2].decode(String.self)
        label = try cells[3].decode(String?.self)
        expiresAt = try cells[4].decode(Date?.self)
        passwordHash = try cells[5].decode(String?.self)
        allowDownload = try cells[6].decode(Bool.self)
        viewCount = try cells[7].decode(Int64.self)
        lastViewedAt = try cells[8].decode(Date?.self)
        createdAt = try cells[9].decode(Date.self)
        revokedAt = try cells[10].decode(Date?.self)
        showMetadata = try cells[11].decode(Bool.self)
        showLocation = try cells[12].decode(Bool.self)
    }

    public func state(at now: Date) -> ShareLinkState {
        if revokedAt != nil { return .revoked }
        if let expiresAt, expiresAt <= now { return .expired }
        return .active
    }
}
