import Foundation
import PostgresNIO

/// What the worker's job logic may do to media rows, on the worker's own transaction so that a job's status and its
/// media's status always change together. Implemented by the Media module and wired by the worker's composer; the
/// worker never reads or writes Media's tables itself.
public protocol MediaProcessingLedger: Sendable {
    /// The job was claimed: the media shows `processing` (an unconfirmed upload is left alone).
    func markProcessing(mediaID: UUID, on connection: PostgresConnection) async throws
    /// The attempt ended without a result but will be tried again: back to `queued`.
    func markQueued(mediaID: UUID, on connection: PostgresConnection) async throws
    /// Records what processing produced and makes the media `ready`.
    func markReady(mediaID: UUID, result: ProcessedMedia, on connection: PostgresConnection) async throws
    /// The last attempt failed: `failed`, with a reason a person can act on.
    func markFailed(mediaID: UUID, reason: String, on connection: PostgresConnection) async throws
    /// Locks the media row for the rest of the transaction; `false` when it was deleted meanwhile.
    func lockIfExists(mediaID: UUID, on connection: PostgresConnection) async throws -> Bool
}

/// Where processing writes its outputs. Chosen by the Media module when it schedules a job and carried by the job,
/// so the worker never derives Media's storage layout.
public struct ProcessingOutputKeys: Sendable, Equatable, Codable {
    /// The primary transcoded video (HEVC).
    public var processed: String
    /// The compatibility rendition of a video (H.264), when policy makes one.
    public var compatibility: String
    /// The poster of a video or the thumbnail of a photo.
    public var thumbnail: String
    /// A photo's large, browser-viewable version (what a viewer opens instead of the original).
    public var preview: String

    public init(processed: String, compatibility: String, thumbnail: String, preview: String) {
        self.processed = processed
        self.compatibility = compatibility
        self.thumbnail = thumbnail
        self.preview = preview
    }
}

/// What processing learned about a media file.
public struct ProcessedMedia: Sendable, Equatable {
    public var processedKey: String?
    public var processedSizeBytes: Int64?
    public var thumbnailKey: String?
    public var previewKey: String?
    public var durationSeconds: Double?
    public var width: Int?
    public var height: Int?
    public var videoCodec: String?
    public var audioCodec: String?
    /// Every playable file, best first: the primary and compatibility files written, and the original when a
    /// browser can play it as it is.
    public var renditions: [MediaRendition]
    /// Capture time, place and camera, when the file says; nil when it could not be read.
    public var metadata: CaptureMetadata?

    public init(
        processedKey: String? = nil, processedSizeBytes: Int64? = nil, thumbnailKey: String? = nil,
        previewKey: String? = nil, durationSeconds: Double? = nil, width: Int? = nil, height: Int? = nil, videoCodec: String? = nil,
        audioCodec: String? = nil, renditions: [MediaRendition] = [], metadata: CaptureMetadata? = nil
    ) {
        self.processedKey = processedKey
        self.processedSizeBytes = processedSizeBytes
        self.thumbnailKey = thumbnailKey
        self.previewKey = previewKey
        self.durationSeconds = durationSeconds
        self.width = width
        self.height = height
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
        self.renditions = renditions
        self.metadata = metadata
    }

    /// Every object this result wrote, to remove when the media went away while it was being processed.
    public var objectKeys: [String] {
        var keys = [processedKey, thumbnailKey, previewKey].compactMap { $0 }
        for rendition in renditions where rendition.isStoredSeparately && !keys.contains(rendition.objectKey) {
            keys.append(rendition.objectKey)
        }
        return keys
    }
}
