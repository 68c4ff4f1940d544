import Foundation
import MediaVaultCore
import PostgresNIO

/// One media row with its tags.
public struct MediaRecord: Sendable, Equatable {
    public let id: UUID
    public let ownerID: UUID
    public let title: String
    public let originalFilename: String
    public let mimeType: String
    public let sizeBytes: Int64
    public let declaredSizeBytes: Int64?
    public let status: MediaStatus
    public let objectKey: String
    public let multipartUploadID: String?
    public let partSize: Int64?
    public let processedKey: String?
    public let thumbnailKey: String?
    public let previewKey: String?
    public let durationSeconds: Double?
    public let width: Int?
    public let height: Int?
    public let errorMessage: String?
    public let createdAt: Date
    public let tags: [String]
    /// Capture time, place and camera, once processing has read them.
    public let capture: CaptureMetadata?
    /// Filled in only where a route shows them (``MediaRepository/withRenditions(_:)``).
    public var renditions: [MediaRendition] = []

    /// Columns in the order `init(row:)` reads them; `i` is `media.items`.
    static let columns = """
        i.id, i.owner_id, i.title, i.original_filename, i.mime_type, i.size_bytes, i.declared_size_bytes, i.status,
        i.object_key, i.multipart_upload_id, i.part_size, i.processed_key, i.thumbnail_key, i.duration_seconds,
        i.width, i.height, i.error_message, i.created_at,
        COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM media.tags t WHERE t.media_id = i.id), '{}') AS tags,
        i.taken_at, i.taken_at_source, i.latitude, i.longitude, i.altitude, i.capture_details::text, i.preview_key
        """

    /// How many cells `columns` makes; a statement may select more after them.
    static let columnCount = 26

    init(row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        id = try cells[0].decode(UUID.self)
        ownerID = try cells[1].decode(UUID.self)
        title = try cells[2].decode(String.self)
        originalFilename = try cells[3].decode(String.self)
        mimeType = try cells[4].decode(String.self)
        sizeBytes = try cells[5].decode(Int64.self)
        declaredSizeBytes = try cells[6].decode(Int64?.self)
        status = try cells[7].decode(MediaStatus.self)
        objectKey = try cells[8].decode(String.self)
        multipartUploadID = try cells[9].decode(String?.self)
        partSize = try cells[10].decode(Int64?.self)
        processedKey = try cells[11].decode(String?.self)
        thumbnailKey = try cells[12].decode(String?.self)
        durationSeconds = try cells[13].decode(Double?.self)
        width = try cells[14].decode(Int?.self)
        height = try cells[15].decode(Int?.self)
        errorMessage = try cells[16].decode(String?.self)
        createdAt = try cells[17].decode(Date.self)
        tags = try cells[18].decode([String].self)
        previewKey = try cells[25].decode(String?.self)
        let details = try cells[24].decode(String?.self).flatMap {
            try? JSONDecoder().decode(CaptureMetadata.Details.self, from: Data($0.utf8))
        }
        let takenAt = try cells[19].decode(Date?.self)
        let latitude = try cells[21].decode(Double?.self)
        capture =
            details == nil && takenAt == nil && latitude == nil
            ? nil
            : CaptureMetadata(
                takenAt: takenAt, takenAtSource: try cells[20].decode(String?.self), latitude: latitude,
                longitude: try cells[22].decode(Double?.self), altitude: try cells[23].decode(Double?.self),
                details: details ?? .init())
    }
}
