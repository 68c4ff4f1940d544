import Foundation
import MediaVaultCore
import PostgresNIO

/// The periodic check of Media's list counters: each owner's counters against exact counts of their rows, and the
/// tag rows' copies of their item's status and creation time against the items.
extension MediaRepository {
    /// Owners known to Media (a storage row or any counter), after `cursor` in id order, so a check of many owners
    /// pages without skipping; an owner missing from one of these tables is still found through the others.
    func ownersWithMedia(after cursor: UUID?, limit: Int) async throws -> [UUID] {
        let rows = try await database.client.query(
            """
            SELECT owner FROM (
                SELECT user_id AS owner FROM media.user_storage
                UNION SELECT owner_id FROM media.owner_status_counts
                UNION SELECT owner_id FROM media.owner_tag_counts) owners
            WHERE (\(cursor)::uuid IS NULL OR owner > \(cursor))
            ORDER BY owner LIMIT \(limit)
            """, logger: logger)
        var owners: [UUID] = []
        for try await owner in rows.decode(UUID.self) { owners.append(owner) }
        return owners
    }

    /// Recounts one owner and repairs every counter that is off; returns how many were, or `nil` when a change of
    /// the owner's media was in flight (the counter triggers hold the owner's lock until their transaction ends;
    /// holding it here means the exact counts and the counters are read at one consistent moment).
    public func recheckCounters(ownerID: UUID) async throws -> Int? {
        try await database.transaction { connection -> Int? in
            let locked = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(media.counter_lock_key(\(ownerID)))", logger: logger)
            var acquired = false
            for try await value in locked.decode(Bool.self) { acquired = value }
            guard acquired else { return nil }
            let statuses = try await connection.query(
                """
                WITH exact AS (
                    SELECT status, count(*)::int8 AS n FROM media.items WHERE owner_id = \(ownerID) GROUP BY status),
                stored AS (SELECT status, item_count FROM media.owner_status_counts WHERE owner_id = \(ownerID)),
                wrong AS (
                    SELECT COALESCE(e.status, s.status) AS status, COALESCE(e.n, 0) AS n
                    FROM exact e FULL JOIN stored s ON s.status = e.status
                    WHERE COALESCE(e.n, 0) <> COALESCE(s.item_count, 0))
                INSERT INTO media.owner_status_counts AS c (owner_id, status, item_count)
                    SELECT \(ownerID), status, n FROM wrong ORDER BY status
                ON CONFLICT (owner_id, status) DO UPDATE SET item_count = EXCLUDED.item_count
                RETURNING status
                """, logger: logger)
            var corrected = 0
            for try await _ in statuses { corrected += 1 }
            let tags = try await connection.query(
                """
                WITH exact AS (
                    SELECT tag, count(*)::int8 AS n FROM media.tags WHERE owner_id = \(ownerID) GROUP BY tag),
                stored AS (SELECT tag, item_count FROM media.owner_tag_counts WHERE owner_id = \(ownerID)),
                wrong AS (
                    SELECT COALESCE(e.tag, s.tag) AS tag, COALESCE(e.n, 0) AS n
                    FROM exact e FULL JOIN stored s ON s.tag = e.tag
                    WHERE COALESCE(e.n, 0) <> COALESCE(s.item_count, 0)),
                fixed AS (
                    INSERT INTO media.owner_tag_counts AS c (owner_id, tag, item_count)
                        SELECT \(ownerID), tag, n FROM wrong WHERE n > 0 ORDER BY tag
                    ON CONFLICT (owner_id, tag) DO UPDATE SET item_count = EXCLUDED.item_count
                    RETURNING tag),
                removed AS (
                    DELETE FROM media.owner_tag_counts c USING wrong w
                    WHERE c.owner_id = \(ownerID) AND c.tag = w.tag AND w.n = 0
                    RETURNING c.tag)
                SELECT ((SELECT count(*) FROM fixed) + (SELECT count(*) FROM removed))::int8
                """, logger: logger)
            for try await count in tags.decode(Int.self) { corrected += count }
            // The tag rows' copies of their item's status and creation time, which the tag pages walk by.
            let copies = try await connection.query(
                """
                UPDATE media.tags t SET item_status = i.status, item_created_at = i.created_at
                FROM media.items i
                WHERE t.owner_id = \(ownerID) AND i.id = t.media_id
                    AND (t.item_status <> i.status OR t.item_created_at <> i.created_at)
                RETURNING 1
                """, logger: logger)
            for try await _ in copies { corrected += 1 }
            return corrected
        }
    }
}
