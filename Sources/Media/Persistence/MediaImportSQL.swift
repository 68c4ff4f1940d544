import Foundation
import MediaVaultCore
import PostgresNIO

/// The original backend's media, with their ids and object keys unchanged (nothing moves in storage), their tags made
/// the owner's, and their storage use counted again.
struct MediaImportSQL: MediaImporting {
    let scheduler: any ProcessingScheduler
    let logger: Logger

    func importMedia(_ items: [OriginalMediaItem], on connection: PostgresConnection) async throws -> Set<UUID> {
        guard !items.isEmpty else { return [] }
        // One statement per batch. Optional columns travel as sentinels ('' and -1) and become NULL, because arrays
        // of optionals do not bind.
        let rows = try await connection.query(
            """
            INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, size_bytes, declared_size_bytes,
                                     status, object_key, processed_key, duration_seconds, created_at, updated_at,
                                     confirmed_at)
            SELECT m.id, m.owner_id, m.title, m.filename, m.mime_type, m.size_bytes,
                   CASE WHEN m.status = 'uploading' AND m.size_bytes > 0 THEN m.size_bytes END,
                   m.status, m.object_key, NULLIF(m.processed_key, ''), NULLIF(m.duration, -1),
                   -- An upload never confirmed gets the abandoned-upload grace period from now, not from when the
                   -- original signed it: it stays confirmable, and a re-run at cut-over can still advance it.
                   CASE WHEN m.status = 'uploading' THEN now() ELSE m.created_at END, now(),
                   CASE WHEN m.status <> 'uploading' THEN m.created_at END
            FROM unnest(\(items.map(\.id))::uuid[], \(items.map(\.ownerID))::uuid[], \(items.map(\.title))::text[],
                        \(items.map(\.originalFilename))::text[], \(items.map(\.mimeType))::text[],
                        \(items.map(\.sizeBytes))::int8[], \(items.map(\.status.rawValue))::text[],
                        \(items.map(\.objectKey))::text[], \(items.map { $0.processedKey ?? "" })::text[],
                        \(items.map { $0.durationSeconds ?? -1 })::float8[], \(items.map(\.createdAt))::timestamptz[])
                 AS m (id, owner_id, title, filename, mime_type, size_bytes, status, object_key, processed_key,
                       duration, created_at)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """, logger: logger)
        var inserted: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { inserted.insert(id) }
        let requests = items.filter { $0.status == .queued && inserted.contains($0.id) }.map { item in
            ProcessingRequest(
                mediaID: item.id, ownerID: item.ownerID, objectKey: item.objectKey, mimeType: item.mimeType,
                outputs: MediaObjectKeys.processingOutputs(mediaID: item.id))
        }
        try await MediaRepository.schedule(requests, with: scheduler, on: connection, logger: logger)
        return inserted
    }

    func advanceUploads(_ items: [OriginalMediaItem], on connection: PostgresConnection) async throws -> Set<UUID> {
        let finished = items.filter { $0.status != .uploading }
        guard !finished.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            UPDATE media.items i SET status = m.status, size_bytes = m.size_bytes, declared_size_bytes = NULL,
                mime_type = m.mime_type, processed_key = NULLIF(m.processed_key, ''),
                duration_seconds = NULLIF(m.duration, -1), confirmed_at = now(), updated_at = now()
            FROM unnest(\(finished.map(\.id))::uuid[], \(finished.map(\.status.rawValue))::text[],
                        \(finished.map(\.sizeBytes))::int8[], \(finished.map(\.mimeType))::text[],
                        \(finished.map { $0.processedKey ?? "" })::text[], \(finished.map { $0.durationSeconds ?? -1 })::float8[])
                 AS m (id, status, size_bytes, mime_type, processed_key, duration)
            WHERE i.id = m.id AND i.status = \(MediaStatus.uploading) AND i.multipart_upload_id IS NULL
            RETURNING i.id, i.owner_id
            """, logger: logger)
        var advanced: [UUID: UUID] = [:]
        for try await (id, owner) in rows.decode((UUID, UUID).self) { advanced[id] = owner }
        let requests = finished.filter { $0.status == .queued && advanced[$0.id] != nil }.map { item in
            ProcessingRequest(
                mediaID: item.id, ownerID: advanced[item.id]!, objectKey: item.objectKey, mimeType: item.mimeType,
                outputs: MediaObjectKeys.processingOutputs(mediaID: item.id))
        }
        try await MediaRepository.schedule(requests, with: scheduler, on: connection, logger: logger)
        return Set(advanced.keys)
    }

    func importTags(_ taggings: [OriginalTagging], on connection: PostgresConnection) async throws -> TagImportOutcome {
        var outcome = TagImportOutcome()
        var mediaIDs: [UUID] = []
        var tags: [String] = []
        for tagging in taggings {
            do {
                tags.append(try Tag.normalise(tagging.tag))
                mediaIDs.append(tagging.mediaID)
            } catch let error as AppError {
                outcome.refused.append((tagging.tag, error.message))
            }
        }
        guard !mediaIDs.isEmpty else { return outcome }
        let rows = try await connection.query(
            """
            INSERT INTO media.tags (media_id, owner_id, tag)
            SELECT t.media_id, i.owner_id, t.tag
            FROM unnest(\(mediaIDs)::uuid[], \(tags)::text[]) AS t (media_id, tag)
            JOIN media.items i ON i.id = t.media_id
            ON CONFLICT (media_id, tag) DO NOTHING
            RETURNING media_id
            """, logger: logger)
        for try await _ in rows { outcome.added += 1 }
        return outcome
    }

    func owners(of ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: UUID] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query(
            "SELECT id, owner_id FROM media.items WHERE id = ANY(\(ids))", logger: logger)
        var owners: [UUID: UUID] = [:]
        for try await (id, owner) in rows.decode((UUID, UUID).self) { owners[id] = owner }
        return owners
    }

    /// The same sums every change keeps up incrementally: all items counted, confirmed originals and separately
    /// stored renditions charged.
    func recomputeUsage(of owners: [UUID], on connection: PostgresConnection) async throws {
        guard !owners.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO media.user_storage (user_id)
            SELECT unnest(\(owners)::uuid[]) ON CONFLICT (user_id) DO NOTHING
            """, logger: logger)
        try await connection.query(
            """
            UPDATE media.user_storage s SET
                item_count = (SELECT count(*) FROM media.items i WHERE i.owner_id = s.user_id),
                used_bytes =
                    (SELECT COALESCE(sum(i.size_bytes), 0) FROM media.items i
                     WHERE i.owner_id = s.user_id AND i.status <> \(MediaStatus.uploading))
                    + (SELECT COALESCE(sum(r.size_bytes), 0) FROM media.renditions r
                       JOIN media.items i ON i.id = r.media_id
                       WHERE i.owner_id = s.user_id AND r.kind <> \(RenditionKind.original.rawValue))
            WHERE s.user_id = ANY(\(owners))
            """, logger: logger)
    }
}
