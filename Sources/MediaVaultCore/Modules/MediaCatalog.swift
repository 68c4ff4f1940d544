import Foundation

/// What other modules (collections) may ask of the Media module: which media a user owns, and the facts needed to
/// show media to someone. Implemented by Media, wired by the gateway; callers never read Media's tables.
public protocol MediaCatalog: Sendable {
    /// The subset of `ids` owned by `ownerID`.
    func mediaOwned(by ownerID: UUID, among ids: [UUID]) async throws -> Set<UUID>
    /// The subset of `ids` whose upload was confirmed (what viewers may see); ids only, for paging large sets.
    func confirmedMedia(among ids: [UUID]) async throws -> Set<UUID>
    /// The media among `ids` that exist, keyed by id, in one round trip.
    func summaries(of ids: [UUID]) async throws -> [UUID: MediaSummary]
}

/// One media item as other modules see it.
public struct MediaSummary: Sendable, Equatable {
    public let id: UUID
    public let ownerID: UUID
    public let title: String
    public let originalFilename: String
    public let mimeType: String
    public let sizeBytes: Int64
    public let durationSeconds: Double?
    public let width: Int?
    public let height: Int?
    public let status: MediaStatus
    public let tags: [String]
    public let createdAt: Date
    public let originalKey: String
    public let processedKey: String?
    public let thumbnailKey: String?
    /// A photo's browser-viewable large version (never the original, which may be HEIC).
    public let previewKey: String?
    /// Playable files, best first (empty before processing, and for media processed before renditions existed).
    public let renditions: [MediaRendition]
    /// Capture time, place and camera; what a viewer may see of them is the share link's decision.
    public let capture: CaptureMetadata?

    public init(
        id: UUID, ownerID: UUID, title: String, originalFilename: String, mimeType: String, sizeBytes: Int64,
        durationSeconds: Double?, width: Int?, height: Int?, status: MediaStatus, tags: [String], createdAt: Date,
        originalKey: String, processedKey: String?, thumbnailKey: String?, previewKey: String? = nil,
        renditions: [MediaRendition] = [], capture: CaptureMetadata? = nil
    ) {
        self.capture = capture
        self.previewKey = previewKey
        self.id = id
        self.ownerID = ownerID
        self.title = title
        self.originalFilename = originalFilename
        self.mimeType = mimeType
        self.sizeBytes = sizeBytes
        self.durationSeconds = durationSeconds
        self.width = width
        self.height = height
        self.status = status
        self.tags = tags
        self.createdAt = createdAt
        self.originalKey = originalKey
        self.processedKey = processedKey
        self.thumbnailKey = thumbnailKey
        self.renditions = renditions
    }

    /// Confirmed uploads only: an upload still in progress has no bytes worth showing.
    public var isUploaded: Bool { status.isUploaded }
    public var isReady: Bool { status == .ready }

    public var streamKey: String? {
        Self.streamKey(status: status, processedKey: processedKey, originalKey: originalKey)
    }

    /// What `stream_url` points at, wherever it is shown: the processed file once ready, else the original (files
    /// that need no processing); nothing before the media is ready.
    public static func streamKey(status: MediaStatus, processedKey: String?, originalKey: String) -> String? {
        status == .ready ? processedKey ?? originalKey : nil
    }
}
