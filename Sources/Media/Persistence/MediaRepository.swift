import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// Storage use of one user; `quotaBytes == nil` means unlimited.
public struct StorageUsage: Sendable, Equatable {
    public let usedBytes: Int64
    /// Declared sizes of uploads signed but not yet confirmed: room already promised.
    public let reservedBytes: Int64
    public let quotaBytes: Int64?

    public var availableBytes: Int64? { quotaBytes.map { max(0, $0 - usedBytes - reservedBytes) } }
}

/// List filters of `GET /media`.
public struct MediaListQuery: Sendable {
    public var page: Int
    public var pageSize: Int
    public var status: MediaStatus?
    public var tags: [String]
    public var search: String?
    public var sort: MediaSort
    /// Capture time bounds (`taken_after` inclusive, `taken_before` exclusive).
    public var takenAfter: Date?
    public var takenBefore: Date?

    public init(
        page: Int, pageSize: Int, status: MediaStatus?, tags: [String], search: String?, sort: MediaSort,
        takenAfter: Date? = nil, takenBefore: Date? = nil
    ) {
        self.takenAfter = takenAfter
        self.takenBefore = takenBefore
        self.page = page
        self.pageSize = pageSize
        self.status = status
        self.tags = tags
        self.search = search
        self.sort = sort
    }

    var isUnfiltered: Bool { status == nil && tags.isEmpty && search == nil && takenAfter == nil && takenBefore == nil }
}

/// SQL of the Media module. Every read and write is scoped by owner.
public struct MediaRepository: Sendable {
    let database: Database
    let defaultQuotaBytes: Int64?
    var logger: Logger { database.logger }

    public init(database: Database, defaultQuotaBytes: Int64?) {
        self.database = database
        self.defaultQuotaBytes = defaultQuotaBytes
    }

    // MARK: Accounting

    /// Locks (creating if needed) the user's storage row and returns usage; callers hold the transaction.
    func lockedUsage(ownerID: UUID, on connection: PostgresConnection) async throws -> StorageUsage {
        try await connection.query(
            "INSERT INTO media.user_storage (user_id) VALUES (\(ownerID)) ON CONFLICT (user_id) DO NOTHING",
            logger: logger)
        let rows = try await connection.query(
            """
            SELECT s.used_bytes, s.quota_bytes,
                   (SELECT COALESCE(sum(COALESCE(i.declared_size_bytes, 0)), 0)::int8 FROM media.items i
                    WHERE i.owner_id = s.user_id AND i.status = 'uploading')
            FROM media.user_storage s WHERE s.user_id = \(ownerID) FOR UPDATE
            """, logger: logger)
        for try await (used, quota, reserved) in rows.decode((Int64, Int64?, Int64).self) {
            return StorageUsage(usedBytes: used, reservedBytes: reserved, quotaBytes: quota ?? defaultQuotaBytes)
        }
        throw AppError.internal
    }

    public func usage(ownerID: UUID) async throws -> StorageUsage {
        try await database.transaction { connection in try await lockedUsage(ownerID: ownerID, on: connection) }
    }

    static func quotaError(_ usage: StorageUsage, needed: Int64) -> AppError {
        .resourceExhausted(
            "storage quota exceeded: \(needed) bytes needed, \(usage.availableBytes ?? 0) bytes left",
            status: .contentTooLarge,
            details: [
                "quota_bytes": .int(usage.quotaBytes ?? 0), "used_bytes": .int(usage.usedBytes),
                "reserved_bytes": .int(usage.reservedBytes), "available_bytes": .int(usage.availableBytes ?? 0),
                "needed_bytes": .int(needed),
            ])
    }

    // MARK: Uploads

    public struct NewUpload: Sendable {
        let id: UUID
        let ownerID: UUID
        let title: String
        let filename: String
        let mimeType: String
        let declaredSize: Int64?
        let objectKey: String
        let multipartUploadID: String?
        let partSize: Int64?
        /// The SHA-256 the client declared, if any.
        var sha256: [UInt8]? = nil
        /// Whether a confirmed item with the same SHA-256 refuses this upload (the client did not ask to keep both).
        var refusesDuplicates = true
    }

    /// Creates the `uploading` row after checking the declared size against the quota.
    public func createUpload(_ upload: NewUpload) async throws {
        try await database.transaction { connection in
            let usage = try await lockedUsage(ownerID: upload.ownerID, on: connection)
            if let declared = upload.declaredSize, let available = usage.availableBytes, declared > available {
                throw Self.quotaError(usage, needed: declared)
            }
            // Under the storage row's lock, so two uploads of one file at once cannot both pass.
            if let sha256 = upload.sha256, upload.refusesDuplicates,
                let existing = try await confirmedItem(ownerID: upload.ownerID, sha256: sha256, on: connection)
            {
                throw AppError(
                    .alreadyExists, status: .conflict,
                    "you already have this file (media \(existing.id.lowercasedString)); "
                        + "send allow_duplicate to keep a second copy",
                    details: ["media_id": .string(existing.id.lowercasedString), "status": .string(existing.status.rawValue)])
            }
            try await connection.query(
                """
                INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, declared_size_bytes,
                                         size_bytes, status, object_key, multipart_upload_id, part_size, sha256)
                VALUES (\(upload.id), \(upload.ownerID), \(upload.title), \(upload.filename), \(upload.mimeType),
                        \(upload.declaredSize), \(upload.declaredSize ?? 0), 'uploading', \(upload.objectKey),
                        \(upload.multipartUploadID), \(upload.partSize), \(upload.sha256.map { Data($0) }))
                """, logger: logger)
            // The list's totals come from the counter tables now; `item_count` is still kept because the release
            // before them reads it, so rolling back keeps its totals right.
            try await connection.query(
                "UPDATE media.user_storage SET item_count = item_count + 1 WHERE user_id = \(upload.ownerID)",
                logger: logger)
        }
    }

    public func find(mediaID: UUID, ownerID: UUID) async throws -> MediaRecord? {
        let rows = try await database.client.execute(
            MediaByIDStatement(mediaID: mediaID, ownerID: ownerID), logger: logger)
        for try await record in rows { return record }
        return nil
    }

    /// The owner's media with its renditions, in one round trip.
    public func detail(mediaID: UUID, ownerID: UUID) async throws -> MediaRecord? {
        let rows = try await database.client.execute(
            MediaDetailStatement(mediaID: mediaID, ownerID: ownerID), logger: logger)
        for try await record in rows { return record }
        return nil
    }

    /// Schedules processing; the job is about to write its output keys, so an earlier result's request to delete one
    /// of them (a rendition a previous policy dropped) is withdrawn first, before the janitor can act on it.
    func schedule(
        _ request: ProcessingRequest, with scheduler: any ProcessingScheduler, on connection: PostgresConnection
    ) async throws {
        try await Self.schedule(request, with: scheduler, on: connection, logger: logger)
    }

    static func schedule(
        _ request: ProcessingRequest, with scheduler: any ProcessingScheduler, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await withdrawDeletions(of: [request], on: connection, logger: logger)
        try await scheduler.scheduleProcessing(request, on: connection)
    }

    /// Many at once (an import): one statement for the deletions, the scheduler's batch for the jobs.
    static func schedule(
        _ requests: [ProcessingRequest], with scheduler: any ProcessingScheduler, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !requests.isEmpty else { return }
        try await withdrawDeletions(of: requests, on: connection, logger: logger)
        try await scheduler.scheduleProcessing(requests, on: connection)
    }

    private static func withdrawDeletions(
        of requests: [ProcessingRequest], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let outputs = requests.flatMap {
            [$0.outputs.processed, $0.outputs.compatibility, $0.outputs.thumbnail, $0.outputs.preview]
        }
        try await connection.query(
            "DELETE FROM media.pending_deletions WHERE object_key = ANY(\(outputs))", logger: logger)
    }

    /// The records with their renditions, in one more round trip.
    func withRenditions(_ records: [MediaRecord]) async throws -> [MediaRecord] {
        guard !records.isEmpty else { return records }
        var renditions: [UUID: [MediaRendition]] = [:]
        for try await (mediaID, rendition) in try await database.client.execute(
            RenditionsOfMediaStatement(mediaIDs: records.map(\.id)), logger: logger)
        {
            renditions[mediaID, default: []].append(rendition)
        }
        return records.map { record in
            var record = record
            record.renditions = (renditions[record.id] ?? []).bestFirst()
            return record
        }
    }

    /// Media rows by id, whoever owns them (the caller has already decided who may see them).
    func records(ids: [UUID]) async throws -> [MediaRecord] {
        guard !ids.isEmpty else { return [] }
        let rows = try await database.client.query(
            "SELECT \(unescaped: MediaRecord.columns) FROM media.items i WHERE i.id = ANY(\(ids))", logger: logger)
        var records: [MediaRecord] = []
        for try await row in rows { records.append(try MediaRecord(row: row)) }
        return records
    }

    func ownedIDs(ownerID: UUID, among ids: [UUID]) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        let rows = try await database.client.query(
            "SELECT id FROM media.items WHERE owner_id = \(ownerID) AND id = ANY(\(ids))", logger: logger)
        var owned: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { owned.insert(id) }
        return owned
    }

    func confirmedIDs(among ids: [UUID]) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        let rows = try await database.client.query(
            "SELECT id FROM media.items WHERE id = ANY(\(ids)) AND status <> 'uploading'", logger: logger)
        var confirmed: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { confirmed.insert(id) }
        return confirmed
    }

    public enum ConfirmOutcome: Sendable {
        case confirmed(MediaStatus)
        case alreadyConfirmed(MediaStatus)
        /// The store's SHA-256 of the object is not the declared one: the item is now `failed` with the reason.
        case checksumMismatch(ContentChecksumMismatch)
    }

    /// Marks the upload `queued` with its real size and schedules processing, all in one transaction.
    /// Returns `alreadyConfirmed` when another request got there first (confirm is idempotent).
    ///
    /// `storedSHA256` is the store's SHA-256 of the object when it knows one. When the upload declared another, the
    /// item fails instead, never confirmed (`confirmed_at` stays null, so nothing reprocesses it) and with nothing
    /// counted against the quota (`size_bytes` 0, which deletion subtracts): the caller deletes the object.
    public func confirm(
        mediaID: UUID, ownerID: UUID, realSize: Int64, realMimeType: String, title: String?,
        storedSHA256: [UInt8]?, scheduler: any ProcessingScheduler
    ) async throws -> ConfirmOutcome {
        try await database.transaction { connection in
            let usage = try await lockedUsage(ownerID: ownerID, on: connection)
            let rows = try await connection.query(
                """
                SELECT status, object_key, declared_size_bytes, sha256 FROM media.items
                WHERE id = \(mediaID) AND owner_id = \(ownerID) FOR UPDATE
                """, logger: logger)
            var current: (MediaStatus, String, Int64?, ByteBuffer?)?
            for try await row in rows.decode((MediaStatus, String, Int64?, ByteBuffer?).self) { current = row }
            guard let (status, objectKey, declared, sha256) = current else { throw AppError.notFound("media not found") }
            if status != .uploading {
                return .alreadyConfirmed(status)
            }
            if let declared = sha256.map({ Array($0.readableBytesView) }), let storedSHA256, declared != storedSHA256 {
                let mismatch = ContentChecksumMismatch(declared: declared, stored: storedSHA256)
                try await connection.query(
                    """
                    UPDATE media.items SET status = \(MediaStatus.failed), error_message = \(mismatch.reason),
                        mime_type = \(realMimeType), multipart_upload_id = NULL, size_bytes = 0, updated_at = now()
                    WHERE id = \(mediaID)
                    """, logger: logger)
                return .checksumMismatch(mismatch)
            }
            // This upload's own declared size is part of `reserved`; it is replaced by the real size.
            if let quota = usage.quotaBytes, usage.usedBytes + usage.reservedBytes - (declared ?? 0) + realSize > quota {
                throw Self.quotaError(usage, needed: realSize)
            }
            try await connection.query(
                """
                UPDATE media.items SET status = \(MediaStatus.queued), size_bytes = \(realSize),
                    mime_type = \(realMimeType),
                    title = COALESCE(\(title), title), multipart_upload_id = NULL, confirmed_at = now(),
                    updated_at = now()
                WHERE id = \(mediaID)
                """, logger: logger)
            try await connection.query(
                "UPDATE media.user_storage SET used_bytes = used_bytes + \(realSize) WHERE user_id = \(ownerID)",
                logger: logger)
            try await schedule(
                ProcessingRequest(
                    mediaID: mediaID, ownerID: ownerID, objectKey: objectKey, mimeType: realMimeType,
                    outputs: MediaObjectKeys.processingOutputs(mediaID: mediaID),
                    originalSHA256: sha256.map { Array($0.readableBytesView) }),
                with: scheduler, on: connection)
            return .confirmed(.queued)
        }
    }

    // MARK: Tags

    /// Applies removals then additions and returns the media's tags afterwards.
    public func updateTags(
        mediaID: UUID, ownerID: UUID, add: [String], remove: [String], maxTags: Int
    ) async throws -> [String] {
        try await database.transaction { connection in
            let owned = try await connection.query(
                "SELECT 1 FROM media.items WHERE id = \(mediaID) AND owner_id = \(ownerID) FOR UPDATE",
                logger: logger)
            var found = false
            for try await _ in owned { found = true }
            guard found else { throw AppError.notFound("media not found") }
            if !remove.isEmpty {
                try await connection.query(
                    "DELETE FROM media.tags WHERE media_id = \(mediaID) AND tag = ANY(\(remove))", logger: logger)
            }
            if !add.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO media.tags (media_id, owner_id, tag)
                    SELECT \(mediaID), \(ownerID), unnest(\(add)::text[]) ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            let rows = try await connection.query(
                "SELECT tag FROM media.tags WHERE media_id = \(mediaID) ORDER BY tag", logger: logger)
            var tags: [String] = []
            for try await tag in rows.decode(String.self) { tags.append(tag) }
            if tags.count > maxTags {
                throw AppError.invalidArgument("a media item may carry at most \(maxTags) tags")
            }
            try await connection.query(
                "UPDATE media.items SET updated_at = now() WHERE id = \(mediaID)", logger: logger)
            return tags
        }
    }

    // MARK: Listing

    /// One page of the user's media, tags included, in one round trip, plus the total for the filters.
    ///
    /// The total comes from Media's per-owner counters when one answers the filters (none, one status, one tag), so
    /// it costs the same for ten items and a million; other combinations count exactly, over the owner's rows only.
    public func list(ownerID: UUID, query: MediaListQuery) async throws -> (items: [MediaRecord], total: Int) {
        let offset = (query.page - 1) * query.pageSize
        let items: [MediaRecord]
        if query.isUnfiltered {
            items = try await query.sort.unfilteredPage(
                ownerID: ownerID, limit: query.pageSize, offset: offset, on: database.client, logger: logger)
        } else {
            // Filtered pages stay unnamed statements on purpose: PostgreSQL plans them with their values, and a
            // rare status or tag needs another plan than a common one (a generic plan would pick one for both).
            var records: [MediaRecord] = []
            let rows = try await database.client.query(
                Self.filteredPage(ownerID: ownerID, query: query, offset: offset), logger: logger)
            for try await row in rows { records.append(try MediaRecord(row: row)) }
            items = records
        }
        if let counted = try await countedTotal(ownerID: ownerID, query: query) { return (items, counted) }
        let counted = try await database.client.query(
            Self.compose("SELECT count(*)::int8 FROM media.items i WHERE ", Self.filter(ownerID: ownerID, query: query), ""),
            logger: logger)
        var total = 0
        for try await count in counted.decode(Int.self) { total = count }
        return (items, total)
    }

    /// The total from a counter (or for one tag and a status, that tag's index), or `nil` when the filters need an
    /// exact count over the owner's rows.
    func countedTotal(ownerID: UUID, query: MediaListQuery) async throws -> Int? {
        let rows: AsyncThrowingMapSequence<PostgresRowSequence, Int>
        switch (query.status, query.tags, query.search, query.takenAfter, query.takenBefore) {
        case (nil, [], nil, nil, nil):
            rows = try await database.client.execute(OwnerItemTotalStatement(ownerID: ownerID), logger: logger)
        case (let status?, [], nil, nil, nil):
            rows = try await database.client.execute(
                OwnerStatusTotalStatement(ownerID: ownerID, status: status), logger: logger)
        case (nil, let tags, nil, nil, nil) where tags.count == 1:
            rows = try await database.client.execute(
                OwnerTagTotalStatement(ownerID: ownerID, tag: tags[0]), logger: logger)
        case (let status?, let tags, nil, nil, nil) where tags.count == 1:
            // Not a counter but an index range of exactly the matches (the tag rows carry their item's status).
            rows = try await database.client.execute(
                OwnerTagStatusTotalStatement(ownerID: ownerID, tag: tags[0], status: status), logger: logger)
        default:
            return nil
        }
        var total = 0
        for try await count in rows { total = count }
        return total
    }

    /// A filtered page. The page's ids are found first and only those rows are read whole: rows skipped by the
    /// offset cost an index entry each, not their tags and columns.
    static func filteredPage(ownerID: UUID, query: MediaListQuery, offset: Int) -> PostgresQuery {
        let columns = "SELECT \(MediaRecord.columns) FROM media.items i WHERE i.id IN ("
        let order = " ORDER BY \(query.sort.orderBy)"
        // One tag (and perhaps a status), newest or oldest first: a walk of the tag's own index, however many items
        // carry it.
        if query.search == nil, query.takenAfter == nil, query.takenBefore == nil, query.tags.count == 1,
            let tagOrder = query.sort.tagIndexOrder
        {
            var page = FilterBuilder()
            page.add("SELECT t.media_id FROM media.tags t WHERE t.owner_id = ", ownerID)
            page.add(" AND t.tag = ", query.tags[0])
            if let status = query.status { page.add(" AND t.item_status = ", status.rawValue) }
            page.add(" ORDER BY \(tagOrder) LIMIT ", query.pageSize)
            page.add(" OFFSET ", offset, ") AND i.owner_id = $1")
            return PostgresQuery(unsafeSQL: columns + page.sql + order, binds: page.bindings)
        }
        let filter = Self.filter(ownerID: ownerID, query: query)
        return compose(
            columns + "SELECT i.id FROM media.items i WHERE ", filter,
            order + " LIMIT \(query.pageSize) OFFSET \(offset))" + order)
    }

    /// The list's filters as SQL over `media.items i`: only the filters present, so each combination is one fixed
    /// statement shape, and every one stays within the owner's rows (tags included, through their owner index).
    static func filter(ownerID: UUID, query: MediaListQuery) -> PostgresQuery {
        var filter = FilterBuilder()
        filter.add("i.owner_id = ", ownerID)
        if let status = query.status { filter.add(" AND i.status = ", status.rawValue) }
        if let search = query.search {
            filter.add(
                " AND lower(i.title || ' ' || i.original_filename) LIKE ",
                "%" + escapeLike(search.lowercased()) + "%")
        }
        if let after = query.takenAfter { filter.add(" AND i.taken_at >= ", after) }
        if let before = query.takenBefore { filter.add(" AND i.taken_at < ", before) }
        // `$1` is the owner, the first binding above.
        for tag in query.tags {
            filter.add(
                " AND EXISTS (SELECT 1 FROM media.tags t WHERE t.owner_id = $1 AND t.media_id = i.id AND t.tag = ",
                tag, ")")
        }
        return PostgresQuery(unsafeSQL: filter.sql, binds: filter.bindings)
    }

    /// SQL text with numbered placeholders and their values, appended together.
    struct FilterBuilder {
        var sql = ""
        var bindings = PostgresBindings()
        private var count = 0

        mutating func add<Value: PostgresNonThrowingEncodable>(_ text: String, _ value: Value, _ after: String = "") {
            count += 1
            sql += text + "$\(count)" + after
            bindings.append(value)
        }
    }

    /// Wraps a filter query with fixed SQL text before and after, keeping its bindings.
    static func compose(_ prefix: String, _ filter: PostgresQuery, _ suffix: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: prefix + filter.sql + suffix, binds: filter.binds)
    }

    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    // MARK: Deletion

    /// Deletes the row (tags, jobs and collection entries cascade) and records every object to remove, in one
    /// transaction; the objects are removed afterwards and retried from `media.pending_deletions` on failure.
    public func delete(mediaID: UUID, ownerID: UUID) async throws -> [PendingDeletion] {
        try await database.transaction { connection in
            _ = try await lockedUsage(ownerID: ownerID, on: connection)
            // Renditions would cascade away with the row; they are taken first, for their files and bytes. Another
            // user's media is not found below, and the transaction then puts them back.
            let renditions = try await RenditionSQL.remove(mediaID: mediaID, on: connection, logger: logger)
            let rows = try await connection.query(
                """
                DELETE FROM media.items WHERE id = \(mediaID) AND owner_id = \(ownerID)
                RETURNING status, size_bytes, object_key, multipart_upload_id, processed_key, thumbnail_key, preview_key
                """, logger: logger)
            var deleted: (MediaStatus, Int64, String, String?, String?, String?, String?)?
            for try await row in rows.decode((MediaStatus, Int64, String, String?, String?, String?, String?).self) {
                deleted = row
            }
            guard let (status, size, objectKey, uploadID, processedKey, thumbnailKey, previewKey) = deleted else {
                throw AppError.notFound("media not found")
            }
            let confirmedBytes = (status == .uploading ? 0 : size) + RenditionSQL.storedBytes(renditions)
            try await connection.query(
                """
                UPDATE media.user_storage SET item_count = item_count - 1, used_bytes = used_bytes - \(confirmedBytes)
                WHERE user_id = \(ownerID)
                """, logger: logger)
            var pending: [PendingDeletion] = []
            var objects: [(String?, String?)] = [
                (objectKey, uploadID), (processedKey, nil), (thumbnailKey, nil), (previewKey, nil),
            ]
            for rendition in renditions where rendition.isStoredSeparately && rendition.objectKey != processedKey {
                objects.append((rendition.objectKey, nil))
            }
            for (key, upload) in objects {
                guard let key else { continue }
                let inserted = try await connection.query(
                    """
                    INSERT INTO media.pending_deletions (object_key, multipart_upload_id)
                    VALUES (\(key), \(upload)) RETURNING id
                    """, logger: logger)
                for try await id in inserted.decode(Int64.self) {
                    pending.append(PendingDeletion(id: id, objectKey: key, multipartUploadID: upload))
                }
            }
            return pending
        }
    }

    /// Uploads still `uploading` after `age`.
    public func abandonedUploads(olderThan age: Duration, limit: Int) async throws -> [(mediaID: UUID, ownerID: UUID)] {
        let seconds = Double(age.components.seconds)
        let rows = try await database.client.query(
            """
            SELECT id, owner_id FROM media.items
            WHERE status = 'uploading' AND created_at < now() - make_interval(secs => \(seconds))
            ORDER BY created_at LIMIT \(limit)
            """, logger: logger)
        var result: [(UUID, UUID)] = []
        for try await row in rows.decode((UUID, UUID).self) { result.append(row) }
        return result.map { (mediaID: $0.0, ownerID: $0.1) }
    }

    /// Deletions due now, oldest first.
    public func dueDeletions(limit: Int) async throws -> [PendingDeletion] {
        let rows = try await database.client.query(
            """
            SELECT id, object_key, multipart_upload_id FROM media.pending_deletions
            WHERE next_attempt_at <= now() ORDER BY next_attempt_at LIMIT \(limit)
            """, logger: logger)
        var result: [PendingDeletion] = []
        for try await (id, key, upload) in rows.decode((Int64, String, String?).self) {
            result.append(PendingDeletion(id: id, objectKey: key, multipartUploadID: upload))
        }
        return result
    }

    public func finishDeletion(id: Int64) async throws {
        try await database.client.query("DELETE FROM media.pending_deletions WHERE id = \(id)", logger: logger)
    }

    /// Backs off exponentially (up to an hour) before the next try.
    public func postponeDeletion(id: Int64, error: String) async throws {
        try await database.client.query(
            """
            UPDATE media.pending_deletions SET attempts = attempts + 1, last_error = \(String(error.prefix(500))),
                next_attempt_at = now() + make_interval(secs => least(3600, 5 * power(2, attempts)))
            WHERE id = \(id)
            """, logger: logger)
    }
}

/// An object that must be removed from storage (and a multipart upload to abort, if one was open).
public struct PendingDeletion: Sendable, Equatable {
    public let id: Int64
    public let objectKey: String
    public let multipartUploadID: String?
}

extension MediaRepository {
    /// After a completed multipart upload, the row is an ordinary upload awaiting confirmation.
    public func clearMultipart(mediaID: UUID) async throws {
        try await database.client.query(
            "UPDATE media.items SET multipart_upload_id = NULL, updated_at = now() WHERE id = \(mediaID)",
            logger: logger)
    }
}

extension MediaRepository {
    /// Back to `queued` with a new job, in one transaction; refused while a job is still live, and for an item
    /// whose file was never stored (it failed its checksum at confirmation).
    ///
    /// The job carries the declared SHA-256 again, so the worker checks the original as it did the first time: an
    /// item that failed its checksum fails again instead of being processed from the wrong bytes.
    public func requeue(_ media: MediaRecord, scheduler: any ProcessingScheduler) async throws {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE media.items SET status = \(MediaStatus.queued), error_message = NULL, updated_at = now()
                WHERE id = \(media.id) AND status IN (\(MediaStatus.failed), \(MediaStatus.ready))
                    AND confirmed_at IS NOT NULL
                RETURNING sha256
                """, logger: logger)
            var updated = false
            var declaredSHA256: ByteBuffer?
            for try await sha256 in rows.decode(ByteBuffer?.self) { (updated, declaredSHA256) = (true, sha256) }
            guard updated else {
                if media.status == .failed, try await Self.neverStored(media.id, on: connection, logger: logger) {
                    throw AppError.failedPrecondition(
                        "the file was never stored (it failed its checksum at upload): upload it again")
                }
                throw AppError.failedPrecondition("the media is already being processed")
            }
            try await schedule(
                ProcessingRequest(
                    mediaID: media.id, ownerID: media.ownerID, objectKey: media.objectKey, mimeType: media.mimeType,
                    outputs: MediaObjectKeys.processingOutputs(mediaID: media.id),
                    originalSHA256: declaredSHA256.map { Array($0.readableBytesView) }),
                with: scheduler, on: connection)
        }
    }

    /// Whether the item failed before its file was stored: never confirmed.
    static func neverStored(_ mediaID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT 1 FROM media.items
            WHERE id = \(mediaID) AND status = \(MediaStatus.failed) AND confirmed_at IS NULL
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }
}

/// Which media `mediavault reprocess` sends through processing again.
public enum ReprocessSelection: Sendable, Equatable {
    /// Every ready or failed item.
    case all
    /// Items in one state (`ready` or `failed`).
    case status(MediaStatus)
    /// These items.
    case media([UUID])

    /// As text: PostgreSQL arrays are bound element by element.
    var statuses: [String] {
        switch self {
        case .all, .media: return [MediaStatus.ready.rawValue, MediaStatus.failed.rawValue]
        case .status(let status): return [status.rawValue]
        }
    }
}

extension MediaRepository {
    /// How many items the selection holds now.
    public func reprocessCount(_ selection: ReprocessSelection) async throws -> Int {
        let statuses = selection.statuses
        let ids: [UUID]? = if case .media(let ids) = selection { ids } else { nil }
        let rows = try await database.client.query(
            """
            SELECT count(*)::int8 FROM media.items
            WHERE status = ANY(\(statuses)) AND (\(ids)::uuid[] IS NULL OR id = ANY(\(ids)))
                AND confirmed_at IS NOT NULL
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// The next `limit` items of the selection after `cursor`, in id order, so a long run pages without skipping.
    public func reprocessBatch(_ selection: ReprocessSelection, after cursor: UUID?, limit: Int) async throws
        -> [MediaRecord]
    {
        let statuses = selection.statuses
        let ids: [UUID]? = if case .media(let ids) = selection { ids } else { nil }
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: MediaRecord.columns) FROM media.items i
            WHERE i.status = ANY(\(statuses)) AND (\(ids)::uuid[] IS NULL OR i.id = ANY(\(ids)))
                AND i.confirmed_at IS NOT NULL AND (\(cursor)::uuid IS NULL OR i.id > \(cursor))
            ORDER BY i.id LIMIT \(limit)
            """, logger: logger)
        var records: [MediaRecord] = []
        for try await row in rows { records.append(try MediaRecord(row: row)) }
        return records
    }
}

// MARK: Content checksums

extension MediaRepository {
    /// A confirmed item (queued, processing or ready) of the owner with this SHA-256. Uploads still in progress and
    /// failed items do not count: the file is not there yet, or is being given another chance.
    func confirmedItem(
        ownerID: UUID, sha256: [UInt8], on connection: PostgresConnection
    ) async throws -> (id: UUID, status: MediaStatus)? {
        let rows = try await connection.query(
            """
            SELECT id, status FROM media.items
            WHERE owner_id = \(ownerID) AND sha256 = \(Data(sha256))
              AND status IN (\(MediaStatus.queued), \(MediaStatus.processing), \(MediaStatus.ready))
            ORDER BY created_at LIMIT 1
            """, logger: logger)
        for try await (id, status) in rows.decode((UUID, MediaStatus).self) { return (id, status) }
        return nil
    }

    /// Every item of the owner whose SHA-256 is among `checksums`, oldest first.
    public func items(
        ownerID: UUID, withChecksums checksums: [[UInt8]]
    ) async throws -> [(sha256: [UInt8], id: UUID, status: MediaStatus, multipart: Bool)] {
        guard !checksums.isEmpty else { return [] }
        let hex = checksums.map { Hex.encode($0) }
        let rows = try await database.client.query(
            """
            SELECT sha256, id, status, multipart_upload_id IS NOT NULL FROM media.items
            WHERE owner_id = \(ownerID)
              AND sha256 = ANY (ARRAY(SELECT decode(h, 'hex') FROM unnest(\(hex)::text[]) AS h))
            ORDER BY created_at, id
            """, logger: logger)
        var found: [(sha256: [UInt8], id: UUID, status: MediaStatus, multipart: Bool)] = []
        for try await (sha256, id, status, multipart) in rows.decode((ByteBuffer, UUID, MediaStatus, Bool).self) {
            found.append((Array(sha256.readableBytesView), id, status, multipart))
        }
        return found
    }
}
