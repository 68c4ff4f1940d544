import Foundation
import MediaVaultCore
import PostgresNIO

/// Media's side of a processing job: status changes and results, on the worker's transaction.
struct MediaProcessingSQL: MediaProcessingLedger {
    let logger: Logger

    func markProcessing(mediaID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = \(MediaStatus.processing), error_message = NULL, updated_at = now()
            WHERE id = \(mediaID) AND status <> \(MediaStatus.uploading)
            """, logger: logger)
    }

    func markQueued(mediaID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = \(MediaStatus.queued), updated_at = now()
            WHERE id = \(mediaID) AND status = \(MediaStatus.processing)
            """, logger: logger)
    }

    func markReady(mediaID: UUID, result: ProcessedMedia, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = \(MediaStatus.ready), error_message = NULL,
                processed_key = \(result.processedKey), processed_size_bytes = \(result.processedSizeBytes),
                thumbnail_key = \(result.thumbnailKey), duration_seconds = \(result.durationSeconds),
                width = \(result.width), height = \(result.height), video_codec = \(result.videoCodec),
                audio_codec = \(result.audioCodec), updated_at = now()
            WHERE id = \(mediaID)
            """, logger: logger)
    }

    func markFailed(mediaID: UUID, reason: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = \(MediaStatus.failed), error_message = \(reason), updated_at = now()
            WHERE id = \(mediaID)
            """, logger: logger)
    }

    func lockIfExists(mediaID: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT 1 FROM media.items WHERE id = \(mediaID) FOR UPDATE", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
