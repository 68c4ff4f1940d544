import Foundation
import MediaVaultCore
import PostgresNIO

/// What processing learned about a media file.
public struct ProcessedMedia: Sendable, Equatable {
    public var processedKey: String?
    public var processedSizeBytes: Int64?
    public var thumbnailKey: String?
    public var durationSeconds: Double?
    public var width: Int?
    public var height: Int?
    public var videoCodec: String?
    public var audioCodec: String?

    public init(
        processedKey: String? = nil, processedSizeBytes: Int64? = nil, thumbnailKey: String? = nil,
        durationSeconds: Double? = nil, width: Int? = nil, height: Int? = nil, videoCodec: String? = nil,
        audioCodec: String? = nil
    ) {
        self.processedKey = processedKey
        self.processedSizeBytes = processedSizeBytes
        self.thumbnailKey = thumbnailKey
        self.durationSeconds = durationSeconds
        self.width = width
        self.height = height
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
    }
}

/// Media's own SQL for the worker: status changes and results, on the worker's transaction.
public struct MediaProcessingRecorder: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func markProcessing(mediaID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = 'processing', error_message = NULL, updated_at = now()
            WHERE id = \(mediaID) AND status <> 'uploading'
            """, logger: logger)
    }

    public func markQueued(mediaID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE media.items SET status = 'queued', updated_at = now() WHERE id = \(mediaID) AND status = 'processing'",
            logger: logger)
    }

    /// Records results and marks the media ready.
    public func markReady(mediaID: UUID, result: ProcessedMedia, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = 'ready', error_message = NULL,
                processed_key = \(result.processedKey), processed_size_bytes = \(result.processedSizeBytes),
                thumbnail_key = \(result.thumbnailKey), duration_seconds = \(result.durationSeconds),
                width = \(result.width), height = \(result.height), video_codec = \(result.videoCodec),
                audio_codec = \(result.audioCodec), updated_at = now()
            WHERE id = \(mediaID)
            """, logger: logger)
    }

    public func markFailed(mediaID: UUID, reason: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = 'failed', error_message = \(reason), updated_at = now()
            WHERE id = \(mediaID)
            """, logger: logger)
    }

    /// Whether the media still exists (deleted meanwhile: the worker drops the job's results).
    public func exists(mediaID: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT 1 FROM media.items WHERE id = \(mediaID) FOR UPDATE", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
