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

    /// Also replaces the media's renditions: the quota is charged the difference, and a file the new result no longer
    /// has (a policy now makes no compatibility rendition, say) is queued for deletion.
    func markReady(mediaID: UUID, result: ProcessedMedia, on connection: PostgresConnection) async throws {
        let previous = try await RenditionSQL.remove(mediaID: mediaID, on: connection, logger: logger)
        // Media processed before renditions were recorded have their HEVC file only in processed_key.
        let processedBefore = try await connection.query(
            "SELECT processed_key FROM media.items WHERE id = \(mediaID)", logger: logger)
        var oldFiles = previous.filter(\.isStoredSeparately).map(\.objectKey)
        for try await key in processedBefore.decode(String?.self) { if let key, !oldFiles.contains(key) { oldFiles.append(key) } }
        for rendition in result.renditions {
            try await RenditionSQL.insert(rendition, mediaID: mediaID, on: connection, logger: logger)
        }
        let delta = RenditionSQL.storedBytes(result.renditions) - RenditionSQL.storedBytes(previous)
        if delta != 0 {
            try await connection.query(
                """
                UPDATE media.user_storage SET used_bytes = used_bytes + \(delta)
                WHERE user_id = (SELECT owner_id FROM media.items WHERE id = \(mediaID))
                """, logger: logger)
        }
        let kept = Set(result.objectKeys)
        // A file written again under a key that an earlier result gave up must not be removed by that old request.
        try await connection.query(
            "DELETE FROM media.pending_deletions WHERE object_key = ANY(\(Array(kept)))", logger: logger)
        for stale in oldFiles where !kept.contains(stale) {
            try await connection.query(
                "INSERT INTO media.pending_deletions (object_key) VALUES (\(stale))", logger: logger)
        }
        try await connection.query(
            """
            UPDATE media.items SET status = \(MediaStatus.ready), error_message = NULL,
                processed_key = \(result.processedKey), processed_size_bytes = \(result.processedSizeBytes),
                thumbnail_key = \(result.thumbnailKey), preview_key = \(result.previewKey), duration_seconds = \(result.durationSeconds),
                width = \(result.width), height = \(result.height), video_codec = \(result.videoCodec),
                audio_codec = \(result.audioCodec), taken_at = \(result.metadata?.takenAt),
                taken_at_source = \(result.metadata?.takenAtSource), latitude = \(result.metadata?.latitude),
                longitude = \(result.metadata?.longitude), altitude = \(result.metadata?.altitude),
                capture_details = \(Self.detailsJSON(result.metadata))::jsonb, updated_at = now()
            WHERE id = \(mediaID)
            """, logger: logger)
    }

    static func detailsJSON(_ metadata: CaptureMetadata?) -> String? {
        guard let details = metadata?.details, let data = try? JSONEncoder().encode(details) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func markFailed(mediaID: UUID, reason: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE media.items SET status = \(MediaStatus.failed), error_message = \(reason), updated_at = now()
            WHERE id = \(mediaID)
            """, logger: logger)
    }

    /// Locks the owner's storage row first, then the media row: the order every user-side change (confirm,
    /// delete) takes them in, so recording a result and deleting the media can never deadlock.
    func lockIfExists(mediaID: UUID, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query(
            """
            SELECT 1 FROM media.user_storage
            WHERE user_id = (SELECT owner_id FROM media.items WHERE id = \(mediaID)) FOR UPDATE
            """, logger: logger)
        let rows = try await connection.query(
            "SELECT 1 FROM media.items WHERE id = \(mediaID) FOR UPDATE", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}

/// Rendition rows: Media's record of every playable file.
enum RenditionSQL {
    static let columns = "media_id, kind, object_key, mime_type, video_codec, width, height, bit_rate, size_bytes, is_hdr"

    /// Removes the media's rendition rows, returning what they were.
    static func remove(mediaID: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> [MediaRendition]
    {
        let rows = try await connection.query(
            "DELETE FROM media.renditions WHERE media_id = \(mediaID) RETURNING \(unescaped: columns)", logger: logger)
        return try await decode(rows).map(\.1)
    }

    /// Rows of `columns`, in their order.
    private static func decode(_ rows: PostgresRowSequence) async throws -> [(UUID, MediaRendition)] {
        var decoded: [(UUID, MediaRendition)] = []
        for try await row in rows.decode(
            (UUID, RenditionKind, String, String, String, Int?, Int?, Int?, Int64, Bool).self)
        {
            decoded.append(
                (
                    row.0,
                    MediaRendition(
                        kind: row.1, objectKey: row.2, mimeType: row.3, videoCodec: row.4, width: row.5,
                        height: row.6, bitRate: row.7, sizeBytes: row.8, isHDR: row.9)
                ))
        }
        return decoded
    }

    static func insert(_ rendition: MediaRendition, mediaID: UUID, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        try await connection.query(
            """
            INSERT INTO media.renditions (\(unescaped: columns))
            VALUES (\(mediaID), \(rendition.kind), \(rendition.objectKey), \(rendition.mimeType),
                    \(rendition.videoCodec), \(rendition.width), \(rendition.height), \(rendition.bitRate),
                    \(rendition.sizeBytes), \(rendition.isHDR))
            """, logger: logger)
    }

    /// Bytes the owner's quota is charged for these renditions (the original is charged once, as the upload).
    static func storedBytes(_ renditions: [MediaRendition]) -> Int64 {
        renditions.filter(\.isStoredSeparately).reduce(0) { $0 + $1.sizeBytes }
    }
}
