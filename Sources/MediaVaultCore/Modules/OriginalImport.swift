import Foundation
import PostgresNIO

// What `mediavault import-original` asks of each module when it brings over a deployment of the original backend.
// The importer reads the original's databases and decides what each record becomes; the modules own their tables
// and write them, on the importer's open transaction, so a batch lands whole or not at all.

/// A person as the original recorded them; the account they get (or already have) is found by Discord id.
public struct OriginalUser: Sendable, Equatable {
    public let originalID: Int64
    public let discordID: String
    public let username: String
    /// The original kept Discord's full avatar URL; MediaVault keeps the hash inside it.
    public let avatarURL: String?
    public let createdAt: Date?

    public init(originalID: Int64, discordID: String, username: String, avatarURL: String?, createdAt: Date?) {
        self.originalID = originalID
        self.discordID = discordID
        self.username = username
        self.avatarURL = avatarURL
        self.createdAt = createdAt
    }
}

/// Accounts for the original's users (implemented by Auth).
public protocol UserImporting: Sendable {
    /// Creates an account for each person not known yet and returns the account of every one of `users`, keyed by
    /// Discord id. Someone who already signed in to MediaVault keeps the account they have.
    func adoptUsers(_ users: [OriginalUser], on connection: PostgresConnection) async throws -> UserAdoption
    /// The accounts that already exist for these Discord ids (no writes: a dry run).
    func existingAccounts(discordIDs: [String], on connection: PostgresConnection) async throws -> [String: UUID]
}

public struct UserAdoption: Sendable, Equatable {
    public let accounts: [String: UUID]
    /// Discord ids whose account this call created.
    public let created: Set<String>

    public init(accounts: [String: UUID], created: Set<String>) {
        self.accounts = accounts
        self.created = created
    }
}

/// One media item, as MediaVault should hold it: same id and object keys as in the original, the owner's
/// MediaVault account, and the state the import decided on.
public struct OriginalMediaItem: Sendable, Equatable {
    public let id: UUID
    public let ownerID: UUID
    public let title: String
    public let originalFilename: String
    public let objectKey: String
    public let processedKey: String?
    public let mimeType: String
    public let sizeBytes: Int64
    public let durationSeconds: Double?
    /// `uploading` (still confirmable, or swept as abandoned), `queued` (gets a processing job) or `ready`.
    public let status: MediaStatus
    public let createdAt: Date

    public init(
        id: UUID, ownerID: UUID, title: String, originalFilename: String, objectKey: String, processedKey: String?,
        mimeType: String, sizeBytes: Int64, durationSeconds: Double?, status: MediaStatus, createdAt: Date
    ) {
        self.id = id
        self.ownerID = ownerID
        self.title = title
        self.originalFilename = originalFilename
        self.objectKey = objectKey
        self.processedKey = processedKey
        self.mimeType = mimeType
        self.sizeBytes = sizeBytes
        self.durationSeconds = durationSeconds
        self.status = status
        self.createdAt = createdAt
    }
}

/// A tag on one media item; the original's tags were global, MediaVault's belong to the media's owner.
public struct OriginalTagging: Sendable, Equatable {
    public let mediaID: UUID
    public let tag: String

    public init(mediaID: UUID, tag: String) {
        self.mediaID = mediaID
        self.tag = tag
    }
}

public struct TagImportOutcome: Sendable {
    public var added = 0
    /// Tags MediaVault's rules refuse (too long, characters outside the allowed set), with the reason.
    public var refused: [(tag: String, reason: String)] = []

    public init() {}
}

/// Media, tags and storage accounting for the original's items (implemented by Media).
public protocol MediaImporting: Sendable {
    /// Inserts the items whose id is not taken and schedules processing for the `queued` ones, in the caller's
    /// transaction. Returns the ids inserted; an id already used by another item is left alone.
    func importMedia(_ items: [OriginalMediaItem], on connection: PostgresConnection) async throws -> Set<UUID>
    /// Items imported while still uploading that the original has since finished (an import re-run at cut-over):
    /// those still `uploading` here take the new state, and queued ones get their job. Returns the ids advanced.
    func advanceUploads(_ items: [OriginalMediaItem], on connection: PostgresConnection) async throws -> Set<UUID>
    /// Adds tags (normalised by MediaVault's rules, owned by each media's owner) to media that exist.
    func importTags(_ taggings: [OriginalTagging], on connection: PostgresConnection) async throws -> TagImportOutcome
    /// The owners of those of `ids` that exist.
    func owners(of ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: UUID]
    /// Counts each owner's items and stored bytes again from their media.
    func recomputeUsage(of owners: [UUID], on connection: PostgresConnection) async throws
}

/// A collection with the id and share token it had, so every link already handed out keeps working.
public struct OriginalCollection: Sendable, Equatable {
    public let id: UUID
    public let ownerID: UUID
    public let title: String
    public let description: String
    public let isPublic: Bool
    public let shareToken: String
    public let createdAt: Date

    public init(
        id: UUID, ownerID: UUID, title: String, description: String, isPublic: Bool, shareToken: String,
        createdAt: Date
    ) {
        self.id = id
        self.ownerID = ownerID
        self.title = title
        self.description = description
        self.isPublic = isPublic
        self.shareToken = shareToken
        self.createdAt = createdAt
    }
}

public struct OriginalCollectionItem: Sendable, Equatable {
    public let collectionID: UUID
    public let mediaID: UUID
    public let addedAt: Date

    public init(collectionID: UUID, mediaID: UUID, addedAt: Date) {
        self.collectionID = collectionID
        self.mediaID = mediaID
        self.addedAt = addedAt
    }
}

/// Collections and their items (implemented by Collection).
public protocol CollectionImporting: Sendable {
    /// Inserts the collections whose id and token are not taken; returns the ids inserted.
    func importCollections(_ collections: [OriginalCollection], on connection: PostgresConnection) async throws
        -> Set<UUID>
    /// Adds items (keeping when they were added, which is their order) to collections that exist; returns how many.
    func importItems(_ items: [OriginalCollectionItem], on connection: PostgresConnection) async throws -> Int
    /// Those of `ids` that exist.
    func existingCollections(among ids: [UUID], on connection: PostgresConnection) async throws -> Set<UUID>
}
