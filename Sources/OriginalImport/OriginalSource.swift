import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// Rows of the original's tables as they are stored there; `OriginalRecordRules` decides what each becomes.
struct OriginalUserRow: Sendable, Equatable {
    let id: Int64
    let discordID: String?
    let username: String?
    let avatarURL: String?
    let createdAt: Date?
}

struct OriginalMediaRow: Sendable, Equatable {
    let id: UUID
    let ownerID: Int64?
    let title: String?
    let originalFilename: String?
    let originalKey: String?
    let processedKey: String?
    let mimeType: String?
    let sizeBytes: Int64?
    let durationSeconds: Double?
    let status: String?
    let createdAt: Date?
}

struct OriginalTaggingRow: Sendable, Equatable {
    let mediaID: UUID
    let tagID: Int64
    let name: String?
}

struct OriginalCollectionRow: Sendable, Equatable {
    let id: UUID
    let ownerID: Int64?
    let title: String?
    let description: String?
    let isPublic: Bool?
    let shareToken: String?
    let createdAt: Date?
}

struct OriginalCollectionItemRow: Sendable, Equatable {
    let collectionID: UUID
    let mediaID: UUID
    let addedAt: Date?
}

/// Reads the original's databases, in keyset-paged batches so a large deployment never sits in memory. Every column
/// is cast to the type the import expects, so a column the original declared a little differently (INT for BIGINT)
/// still reads.
struct OriginalSource: Sendable {
    let clients: [OriginalService: (client: PostgresClient, name: String)]
    let logger: Logger

    func client(_ service: OriginalService) -> PostgresClient? { clients[service]?.client }

    /// Runs `body` with a pool per distinct database, each checked to answer within `timeout`.
    static func withSource<Result: Sendable>(
        _ sources: OriginalSources, logger: Logger, timeout: Duration = .seconds(15),
        _ body: (OriginalSource) async throws -> Result
    ) async throws -> Result {
        var pools: [String: PostgresClient] = [:]
        var clients: [OriginalService: (client: PostgresClient, name: String)] = [:]
        for (service, configuration) in sources.databases.sorted(by: { $0.key < $1.key }) {
            let identity = "\(configuration.username)@\(configuration.host):\(configuration.port)/\(configuration.database)"
            let pool = pools[identity] ?? Database(configuration: configuration, logger: logger).client
            pools[identity] = pool
            clients[service] = (pool, configuration.database)
        }
        let source = OriginalSource(clients: clients, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for pool in pools.values { group.addTask { await pool.run() } }
            defer { group.cancelAll() }
            for (service, entry) in clients.sorted(by: { $0.key < $1.key }) {
                do {
                    _ = try await withTimeout(timeout) { try await entry.client.query("SELECT 1", logger: logger) }
                } catch {
                    throw ImportError.unreachable(
                        service: service, database: entry.name, reason: Self.describe(error))
                }
            }
            return try await body(source)
        }
    }

    static func describe(_ error: Error) -> String {
        if error is TimeoutError { return "no answer in time (is the server running, and the host and port right?)" }
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return message }
            return "\(psql.code)"
        }
        return "\(error)"
    }

    /// Every table the import reads exists with the columns it reads; all problems at once, naming each table.
    func validateSchema() async throws {
        var problems: [String] = []
        for table in OriginalTable.all {
            guard let (client, name) = clients[table.service] else { continue }
            let rows = try await client.query(
                """
                SELECT column_name::text FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name = \(table.name)
                """, logger: logger)
            var columns: Set<String> = []
            for try await column in rows.decode(String.self) { columns.insert(column) }
            // The jobs are only counted: a database without them (one holding the other services' tables) is fine.
            if columns.isEmpty && !table.service.isRequired { continue }
            if let problem = table.problem(foundColumns: columns.isEmpty ? nil : columns, databaseName: name) {
                problems.append(problem)
            }
        }
        if !problems.isEmpty { throw ImportError.unexpectedSchema(problems) }
    }

    func count(_ table: OriginalTable) async throws -> Int {
        guard let client = client(table.service) else { return 0 }
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table.qualifiedName)"), logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    func users(after cursor: Int64?, limit: Int) async throws -> [OriginalUserRow] {
        guard let client = client(.auth) else { return [] }
        let rows = try await client.query(
            """
            SELECT id::int8, discord_id::text, username::text, avatar_url::text, created_at::timestamp
            FROM public.users WHERE (\(cursor)::int8 IS NULL OR id > \(cursor)) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [OriginalUserRow] = []
        for try await row in rows.decode((Int64, String?, String?, String?, Date?).self) {
            result.append(OriginalUserRow(id: row.0, discordID: row.1, username: row.2, avatarURL: row.3, createdAt: row.4))
        }
        return result
    }

    func media(after cursor: UUID?, limit: Int) async throws -> [OriginalMediaRow] {
        guard let client = client(.media) else { return [] }
        let rows = try await client.query(
            """
            SELECT id::uuid, owner_id::int8, title::text, original_filename::text, s3_key_original::text,
                   s3_key_processed::text, mime_type::text, size_bytes::int8, duration_seconds::float8, status::text,
                   created_at::timestamp
            FROM public.media WHERE (\(cursor)::uuid IS NULL OR id > \(cursor)) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [OriginalMediaRow] = []
        for try await row in rows.decode(
            (UUID, Int64?, String?, String?, String?, String?, String?, Int64?, Double?, String?, Date?).self)
        {
            result.append(
                OriginalMediaRow(
                    id: row.0, ownerID: row.1, title: row.2, originalFilename: row.3, originalKey: row.4,
                    processedKey: row.5, mimeType: row.6, sizeBytes: row.7, durationSeconds: row.8, status: row.9,
                    createdAt: row.10))
        }
        return result
    }

    /// Tag links with the tag's name (both tables live in the media database).
    func taggings(after cursor: (UUID, Int64)?, limit: Int) async throws -> [OriginalTaggingRow] {
        guard let client = client(.media) else { return [] }
        let rows = try await client.query(
            """
            SELECT mt.media_id::uuid, mt.tag_id::int8, t.name::text
            FROM public.media_tags mt LEFT JOIN public.tags t ON t.id = mt.tag_id
            WHERE (\(cursor?.0)::uuid IS NULL OR (mt.media_id, mt.tag_id) > (\(cursor?.0)::uuid, \(cursor?.1)::int8))
            ORDER BY mt.media_id, mt.tag_id LIMIT \(limit)
            """, logger: logger)
        var result: [OriginalTaggingRow] = []
        for try await row in rows.decode((UUID, Int64, String?).self) {
            result.append(OriginalTaggingRow(mediaID: row.0, tagID: row.1, name: row.2))
        }
        return result
    }

    func collections(after cursor: UUID?, limit: Int) async throws -> [OriginalCollectionRow] {
        guard let client = client(.collection) else { return [] }
        let rows = try await client.query(
            """
            SELECT id::uuid, owner_id::int8, title::text, description::text, is_public::bool, share_token::text,
                   created_at::timestamp
            FROM public.collections WHERE (\(cursor)::uuid IS NULL OR id > \(cursor)) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [OriginalCollectionRow] = []
        for try await row in rows.decode((UUID, Int64?, String?, String?, Bool?, String?, Date?).self) {
            result.append(
                OriginalCollectionRow(
                    id: row.0, ownerID: row.1, title: row.2, description: row.3, isPublic: row.4, shareToken: row.5,
                    createdAt: row.6))
        }
        return result
    }

    func collectionItems(after cursor: (UUID, UUID)?, limit: Int) async throws -> [OriginalCollectionItemRow] {
        guard let client = client(.collection) else { return [] }
        let rows = try await client.query(
            """
            SELECT collection_id::uuid, media_id::uuid, added_at::timestamp FROM public.collection_items
            WHERE (\(cursor?.0)::uuid IS NULL
                   OR (collection_id, media_id) > (\(cursor?.0)::uuid, \(cursor?.1)::uuid))
            ORDER BY collection_id, media_id LIMIT \(limit)
            """, logger: logger)
        var result: [OriginalCollectionItemRow] = []
        for try await row in rows.decode((UUID, UUID, Date?).self) {
            result.append(OriginalCollectionItemRow(collectionID: row.0, mediaID: row.1, addedAt: row.2))
        }
        return result
    }

    /// The original's jobs by state, for the summary.
    func jobCounts() async throws -> [String: Int] {
        guard let client = client(.processing) else { return [:] }
        let exists = try await client.query("SELECT to_regclass('public.processing_jobs') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return [:] }
        let rows = try await client.query(
            "SELECT COALESCE(status::text, ''), count(*)::int8 FROM public.processing_jobs GROUP BY 1",
            logger: logger)
        var counts: [String: Int] = [:]
        for try await (status, count) in rows.decode((String, Int64).self) { counts[status] = Int(count) }
        return counts
    }
}
