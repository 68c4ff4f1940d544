import Foundation
import Hummingbird
import MediaVaultCore
import ObjectStorage

/// A media item as the API returns it (the original's fields first, then additions).
struct MediaItemResponse: ResponseEncodable {
    let id: String
    let title: String
    let originalFilename: String
    let mimeType: String
    let sizeBytes: Int64
    let durationSeconds: Double?
    let status: MediaStatus
    let tags: [String]
    let createdAt: Date
    let width: Int?
    let height: Int?
    let errorMessage: String?
    let thumbnailURL: String?
    let streamURL: String?
    /// Playable files best first, with their exact codecs; only for a ready item of `GET /media/:id`.
    var renditions: [RenditionResponse]?
    /// Capture time, place and camera; only `GET /media/:id` shows them (as `taken_at`, `metadata`, `location`).
    var capture: CaptureMetadata?
    /// A photo's large JPEG (orientation applied, metadata stripped), for viewers; only `GET /media/:id`.
    var previewURL: String?

    enum CodingKeys: String, CodingKey {
        case id, title, status, tags, width, height
        case originalFilename = "original_filename"
        case mimeType = "mime_type"
        case sizeBytes = "size_bytes"
        case durationSeconds = "duration_seconds"
        case createdAt = "created_at"
        case errorMessage = "error_message"
        case thumbnailURL = "thumbnail_url"
        case streamURL = "stream_url"
        case renditions, metadata, location
        case previewURL = "preview_url"
        case takenAt = "taken_at"
        case takenAtSource = "taken_at_source"
    }

    struct Location: Encodable {
        let latitude: Double
        let longitude: Double
        let altitude: Double?
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(originalFilename, forKey: .originalFilename)
        try container.encode(mimeType, forKey: .mimeType)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(status.rawValue, forKey: .status)
        try container.encode(tags, forKey: .tags)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encodeIfPresent(errorMessage, forKey: .errorMessage)
        try container.encodeIfPresent(thumbnailURL, forKey: .thumbnailURL)
        try container.encodeIfPresent(streamURL, forKey: .streamURL)
        try container.encodeIfPresent(renditions, forKey: .renditions)
        try container.encodeIfPresent(previewURL, forKey: .previewURL)
        if let capture {
            try container.encode(capture.takenAt, forKey: .takenAt)
            try container.encode(capture.takenAtSource, forKey: .takenAtSource)
            try container.encode(capture.details, forKey: .metadata)
            if let latitude = capture.latitude, let longitude = capture.longitude {
                try container.encode(
                    Location(latitude: latitude, longitude: longitude, altitude: capture.altitude), forKey: .location)
            } else {
                try container.encodeNil(forKey: .location)
            }
        }
    }
}

struct SignRequest: Decodable {
    let filename: String
    let mimeType: String
    let sizeBytes: Int64?
    let title: String?
    /// Hex SHA-256 of the file: recorded, checked against the stored original, and used to refuse duplicates.
    let sha256: String?
    /// Keep a second copy of a file the user already has instead of being refused.
    let allowDuplicate: Bool?

    enum CodingKeys: String, CodingKey {
        case filename, title, sha256
        case mimeType = "mime_type"
        case sizeBytes = "size_bytes"
        case allowDuplicate = "allow_duplicate"
    }
}

struct SignResponse: ResponseEncodable {
    let uploadURL: String
    let s3Key: String
    let mediaID: String
    let expiresAt: Date
    let method: String
    let headers: [String: String]

    enum CodingKeys: String, CodingKey {
        case method, headers
        case uploadURL = "upload_url"
        case s3Key = "s3_key"
        case mediaID = "media_id"
        case expiresAt = "expires_at"
    }
}

struct ConfirmRequest: Decodable {
    let mediaID: String
    let title: String?
    let sizeBytes: Int64?

    enum CodingKeys: String, CodingKey {
        case title
        case mediaID = "media_id"
        case sizeBytes = "size_bytes"
    }
}

struct ConfirmResponse: ResponseEncodable {
    let mediaID: String
    let status: String

    enum CodingKeys: String, CodingKey {
        case status
        case mediaID = "media_id"
    }
}

struct TagsRequest: Decodable {
    let addTags: [String]?
    let removeTags: [String]?

    enum CodingKeys: String, CodingKey {
        case addTags = "add_tags"
        case removeTags = "remove_tags"
    }
}

struct TagsResponse: ResponseEncodable {
    let mediaID: String
    let tags: [String]

    enum CodingKeys: String, CodingKey {
        case tags
        case mediaID = "media_id"
    }
}

struct ListResponse: ResponseEncodable {
    let items: [MediaItemResponse]
    let totalCount: Int
    let page: Int
    let pageSize: Int

    enum CodingKeys: String, CodingKey {
        case items, page
        case totalCount = "total_count"
        case pageSize = "page_size"
    }
}

struct MultipartStartRequest: Decodable {
    let filename: String
    let mimeType: String
    let sizeBytes: Int64
    let partSize: Int64?
    let title: String?
    let sha256: String?
    let allowDuplicate: Bool?

    enum CodingKeys: String, CodingKey {
        case filename, title, sha256
        case mimeType = "mime_type"
        case sizeBytes = "size_bytes"
        case partSize = "part_size"
        case allowDuplicate = "allow_duplicate"
    }
}

/// `POST /media/checksums`: which of these files the user already has.
struct ChecksumsRequest: Decodable {
    let checksums: [String]
}

struct ChecksumsResponse: ResponseEncodable {
    struct Match: Encodable {
        let sha256: String
        let mediaID: String
        let status: String
        /// An unfinished multipart upload can be resumed (`GET /media/upload/multipart/:id/parts`).
        let multipart: Bool

        enum CodingKeys: String, CodingKey {
            case sha256, status, multipart
            case mediaID = "media_id"
        }
    }
    let matches: [Match]
}

struct MultipartStartResponse: ResponseEncodable {
    let mediaID: String
    let uploadID: String
    let s3Key: String
    let partSize: Int64
    let partCount: Int

    enum CodingKeys: String, CodingKey {
        case mediaID = "media_id"
        case uploadID = "upload_id"
        case s3Key = "s3_key"
        case partSize = "part_size"
        case partCount = "part_count"
    }
}

struct PartURLsRequest: Decodable {
    let partNumbers: [Int]

    enum CodingKeys: String, CodingKey { case partNumbers = "part_numbers" }
}

struct PartURLsResponse: ResponseEncodable {
    struct Part: Encodable {
        let partNumber: Int
        let uploadURL: String
        let expiresAt: Date

        enum CodingKeys: String, CodingKey {
            case partNumber = "part_number"
            case uploadURL = "upload_url"
            case expiresAt = "expires_at"
        }
    }
    let parts: [Part]
}

struct UploadedPartsResponse: ResponseEncodable {
    struct Part: Encodable {
        let partNumber: Int
        let etag: String
        let sizeBytes: Int64

        enum CodingKeys: String, CodingKey {
            case etag
            case partNumber = "part_number"
            case sizeBytes = "size_bytes"
        }
    }
    /// The part size the upload was started with: every part but the last has it, so a resuming client needs it.
    let partSize: Int64
    let parts: [Part]

    enum CodingKeys: String, CodingKey {
        case parts
        case partSize = "part_size"
    }
}

struct CompleteRequest: Decodable {
    struct Part: Decodable {
        let partNumber: Int
        let etag: String

        enum CodingKeys: String, CodingKey {
            case etag
            case partNumber = "part_number"
        }
    }
    let parts: [Part]
    let title: String?
}
