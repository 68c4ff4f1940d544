import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

// Statements of Media's request paths that have one fixed text, run as named prepared statements: PostgreSQL
// parses and plans each once per connection instead of on every request.

/// One media row of its owner, with tags.
struct MediaByIDStatement: PostgresPreparedStatement {
    static let name = "media.item_by_id"
    static let sql = "SELECT \(MediaRecord.columns) FROM media.items i WHERE i.id = $1 AND i.owner_id = $2"
    typealias Row = MediaRecord

    let mediaID: UUID
    let ownerID: UUID

    func makeBindings() throws -> PostgresBindings { PostgresBindings(mediaID, ownerID) }

    func decodeRow(_ row: PostgresRow) throws -> MediaRecord { try MediaRecord(row: row) }
}

/// One media row of its owner with its tags and renditions: everything `GET /media/:id` shows, in one round trip.
struct MediaDetailStatement: PostgresPreparedStatement {
    static let name = "media.item_detail"
    static let sql = """
        SELECT \(MediaRecord.columns),
            (SELECT json_agg(json_build_object(
                'kind', r.kind, 'object_key', r.object_key, 'mime_type', r.mime_type, 'video_codec', r.video_codec,
                'width', r.width, 'height', r.height, 'bit_rate', r.bit_rate, 'size_bytes', r.size_bytes,
                'is_hdr', r.is_hdr))
             FROM media.renditions r WHERE r.media_id = i.id)::text
        FROM media.items i WHERE i.id = $1 AND i.owner_id = $2
        """
    typealias Row = MediaRecord

    let mediaID: UUID
    let ownerID: UUID

    func makeBindings() throws -> PostgresBindings { PostgresBindings(mediaID, ownerID) }

    func decodeRow(_ row: PostgresRow) throws -> MediaRecord {
        var record = try MediaRecord(row: row)
        let json = try row.makeRandomAccess()[MediaRecord.columnCount].decode(String?.self)
        if let json {
            record.renditions = try JSONDecoder().decode([StoredRendition].self, from: Data(json.utf8))
                .map { try $0.rendition() }.bestFirst()
        }
        return record
    }

    /// A rendition row as `json_build_object` spells it.
    private struct StoredRendition: Decodable {
        let kind: String
        let object_key: String
        let mime_type: String
        let video_codec: String
        let width: Int?
        let height: Int?
        let bit_rate: Int?
        let size_bytes: Int64
        let is_hdr: Bool

        func rendition() throws -> MediaRendition {
            guard let kind = RenditionKind(rawValue: kind) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown rendition kind"))
            }
            return MediaRendition(
                kind: kind, objectKey: object_key, mimeType: mime_type, videoCodec: video_codec, width: width,
                height: height, bitRate: bit_rate, sizeBytes: size_bytes, isHDR: is_hdr)
        }
    }
}

/// Renditions of several media, for list-shaped routes.
struct RenditionsOfMediaStatement: PostgresPreparedStatement {
    static let name = "media.renditions_of"
    static let sql = "SELECT \(RenditionSQL.columns) FROM media.renditions WHERE media_id = ANY($1::uuid[])"
    typealias Row = (UUID, MediaRendition)

    let mediaIDs: [UUID]

    func makeBindings() throws -> PostgresBindings { PostgresBindings(mediaIDs) }

    func decodeRow(_ row: PostgresRow) throws -> (UUID, MediaRendition) {
        let cells = try row.decode((UUID, RenditionKind, String, String, String, Int?, Int?, Int?, Int64, Bool).self)
        return (
            cells.0,
            MediaRendition(
                kind: cells.1, objectKey: cells.2, mimeType: cells.3, videoCodec: cells.4, width: cells.5,
                height: cells.6, bitRate: cells.7, sizeBytes: cells.8, isHDR: cells.9)
        )
    }
}

// MARK: List totals

/// All of the owner's items: the sum of their per-status counters.
struct OwnerItemTotalStatement: PostgresPreparedStatement {
    static let name = "media.total_all"
    static let sql = "SELECT COALESCE(sum(item_count), 0)::int8 FROM media.owner_status_counts WHERE owner_id = $1"
    typealias Row = Int

    let ownerID: UUID

    func makeBindings() throws -> PostgresBindings { PostgresBindings(ownerID) }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

/// The owner's items in one status.
struct OwnerStatusTotalStatement: PostgresPreparedStatement {
    static let name = "media.total_status"
    static let sql = "SELECT item_count FROM media.owner_status_counts WHERE owner_id = $1 AND status = $2"
    typealias Row = Int

    let ownerID: UUID
    let status: MediaStatus

    func makeBindings() throws -> PostgresBindings { PostgresBindings(ownerID, status.rawValue) }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

/// The owner's items carrying one tag.
struct OwnerTagTotalStatement: PostgresPreparedStatement {
    static let name = "media.total_tag"
    static let sql = "SELECT item_count FROM media.owner_tag_counts WHERE owner_id = $1 AND tag = $2"
    typealias Row = Int

    let ownerID: UUID
    let tag: String

    func makeBindings() throws -> PostgresBindings { PostgresBindings(ownerID, tag) }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

/// The owner's items carrying one tag in one status, counted in the tag's index.
struct OwnerTagStatusTotalStatement: PostgresPreparedStatement {
    static let name = "media.total_tag_status"
    static let sql = """
        SELECT count(*)::int8 FROM media.tags WHERE owner_id = $1 AND tag = $2 AND item_status = $3
        """
    typealias Row = Int

    let ownerID: UUID
    let tag: String
    let status: MediaStatus

    func makeBindings() throws -> PostgresBindings { PostgresBindings(ownerID, tag, status.rawValue) }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

// MARK: Unfiltered pages

/// A sort order as a type, so each order of the unfiltered page is its own prepared statement.
protocol MediaPageOrder {
    static var sort: MediaSort { get }
}

enum NewestFirst: MediaPageOrder { static let sort = MediaSort.newest }
enum OldestFirst: MediaPageOrder { static let sort = MediaSort.oldest }
enum TitleAscending: MediaPageOrder { static let sort = MediaSort.titleAscending }
enum TitleDescending: MediaPageOrder { static let sort = MediaSort.titleDescending }
enum LargestFirst: MediaPageOrder { static let sort = MediaSort.largest }
enum SmallestFirst: MediaPageOrder { static let sort = MediaSort.smallest }
enum TakenNewestFirst: MediaPageOrder { static let sort = MediaSort.takenNewest }
enum TakenOldestFirst: MediaPageOrder { static let sort = MediaSort.takenOldest }

/// A page of all the owner's items in one order. Every owner gets the same plan (a walk of the order's index), so
/// PostgreSQL's generic plan is the right one for all of them.
struct UnfilteredPageStatement<Order: MediaPageOrder>: PostgresPreparedStatement {
    static var name: String { "media.page." + Order.sort.rawValue }
    /// The page's ids first (an index walk), then only those rows whole, so a deep page costs index entries.
    static var sql: String {
        "SELECT \(MediaRecord.columns) FROM media.items i WHERE i.id IN ("
            + "SELECT i.id FROM media.items i WHERE i.owner_id = $1 ORDER BY \(Order.sort.orderBy) LIMIT $2 OFFSET $3)"
            + " ORDER BY \(Order.sort.orderBy)"
    }
    typealias Row = MediaRecord

    let ownerID: UUID
    let limit: Int
    let offset: Int

    func makeBindings() throws -> PostgresBindings { PostgresBindings(ownerID, limit, offset) }

    func decodeRow(_ row: PostgresRow) throws -> MediaRecord { try MediaRecord(row: row) }
}

extension MediaSort {
    /// The unfiltered page of this order as its prepared statement.
    func unfilteredPage(ownerID: UUID, limit: Int, offset: Int, on client: PostgresClient, logger: Logger)
        async throws -> [MediaRecord]
    {
        func run<Order: MediaPageOrder>(_: Order.Type) async throws -> [MediaRecord] {
            var records: [MediaRecord] = []
            let rows = try await client.execute(
                UnfilteredPageStatement<Order>(ownerID: ownerID, limit: limit, offset: offset), logger: logger)
            for try await record in rows { records.append(record) }
            return records
        }
        switch self {
        case .newest: return try await run(NewestFirst.self)
        case .oldest: return try await run(OldestFirst.self)
        case .titleAscending: return try await run(TitleAscending.self)
        case .titleDescending: return try await run(TitleDescending.self)
        case .largest: return try await run(LargestFirst.self)
        case .smallest: return try await run(SmallestFirst.self)
        case .takenNewest: return try await run(TakenNewestFirst.self)
        case .takenOldest: return try await run(TakenOldestFirst.self)
        }
    }
}
