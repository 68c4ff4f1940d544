import Foundation
import Hummingbird
import MediaVaultCore

/// A collection as its owner sees it (create, list, update): the original's fields first, then additions.
struct CollectionResponse: ResponseEncodable {
    let id: String
    let title: String
    let description: String
    let isPublic: Bool
    /// Null for an API key without `shares:read`: the token opens the collection to anyone, so it is a sharing
    /// secret, not a collection field.
    let shareToken: String?
    let createdAt: Date
    let updatedAt: Date
    let itemCount: Int
    let coverMediaID: String?

    init(_ record: CollectionRecord, caller: AuthenticatedUser) {
        id = record.id.lowercasedString
        title = record.title
        description = record.description
        isPublic = record.isPublic
        shareToken = caller.holds(.sharesRead) ? record.shareToken : nil
        createdAt = record.createdAt
        updatedAt = record.updatedAt
        itemCount = record.itemCount
        coverMediaID = record.coverMediaID.map(\.lowercasedString)
    }

    enum CodingKeys: String, CodingKey {
        case id, title, description
        case isPublic = "is_public"
        case shareToken = "share_token"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case itemCount = "item_count"
        case coverMediaID = "cover_media_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(isPublic, forKey: .isPublic)
        try container.encode(shareToken, forKey: .shareToken)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(itemCount, forKey: .itemCount)
        try container.encode(coverMediaID, forKey: .coverMediaID)
    }
}

struct CollectionListResponse: ResponseEncodable {
    let collections: [CollectionResponse]
}

/// `GET /collection/:id`: the collection and its items. The token and owner-only fields are left out for viewers.
struct CollectionDetailResponse: ResponseEncodable {
    let collection: CollectionRecord
    let isOwner: Bool
    /// The owner's view shows the token only to a caller who may see sharing secrets (see `CollectionResponse`).
    let showsShareToken: Bool
    let items: [CollectionItemResponse]

    enum CodingKeys: String, CodingKey {
        case id, title, description, items
        case isPublic = "is_public"
        case isOwner = "is_owner"
        case itemCount = "item_count"
        case createdAt = "created_at"
        case shareToken = "share_token"
        case updatedAt = "updated_at"
        case coverMediaID = "cover_media_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(collection.id.lowercasedString, forKey: .id)
        try container.encode(collection.title, forKey: .title)
        try container.encode(collection.description, forKey: .description)
        try container.encode(collection.isPublic, forKey: .isPublic)
        try container.encode(isOwner, forKey: .isOwner)
        try container.encode(items.count, forKey: .itemCount)
        try container.encode(items, forKey: .items)
        try container.encode(collection.createdAt, forKey: .createdAt)
        try container.encode(collection.coverMediaID.map(\.lowercasedString), forKey: .coverMediaID)
        if isOwner {
            try container.encode(showsShareToken ? collection.shareToken : nil, forKey: .shareToken)
            try container.encode(collection.updatedAt, forKey: .updatedAt)
        }
    }
}

/// An item of a collection (the original's fields, then media details and viewer URLs).
struct CollectionItemResponse: Encodable {
    let id: String
    let title: String
    let originalFilename: String
    let mimeType: String
    let status: MediaStatus
    let streamURL: String?
    let addedAt: Date
    let position: Int?
    let sizeBytes: Int64
    let durationSeconds: Double?
    let width: Int?
    let height: Int?
    let createdAt: Date
    let tags: [String]?
    let thumbnailURL: String?
    let originalURL: String?
    let downloadURL: String?
    /// Playable files best first, with their exact codecs; none before the media is ready.
    let renditions: [RenditionResponse]
    /// Only on share links that show them (`show_metadata`, `show_location`).
    var capture: CaptureMetadata?
    var showsMetadata = false
    var showsLocation = false

    enum CodingKeys: String, CodingKey {
        case id, title, status, position, width, height, tags, renditions, metadata, location
        case takenAt = "taken_at"
        case originalFilename = "original_filename"
        case mimeType = "mime_type"
        case streamURL = "stream_url"
        case addedAt = "added_at"
        case sizeBytes = "size_bytes"
        case durationSeconds = "duration_seconds"
        case createdAt = "created_at"
        case thumbnailURL = "thumbnail_url"
        case originalURL = "original_url"
        case downloadURL = "download_url"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(originalFilename, forKey: .originalFilename)
        try container.encode(mimeType, forKey: .mimeType)
        try container.encode(status.rawValue, forKey: .status)
        try container.encodeIfPresent(streamURL, forKey: .streamURL)
        try container.encode(addedAt, forKey: .addedAt)
        try container.encode(position, forKey: .position)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(renditions, forKey: .renditions)
        if showsMetadata, let capture {
            try container.encode(capture.takenAt, forKey: .takenAt)
            try container.encode(capture.details, forKey: .metadata)
        }
        if showsLocation, let latitude = capture?.latitude, let longitude = capture?.longitude {
            try container.encode(["latitude": latitude, "longitude": longitude], forKey: .location)
        }
        try container.encodeIfPresent(tags, forKey: .tags)
        try container.encodeIfPresent(thumbnailURL, forKey: .thumbnailURL)
        try container.encodeIfPresent(originalURL, forKey: .originalURL)
        try container.encodeIfPresent(downloadURL, forKey: .downloadURL)
    }
}

struct CreateCollectionRequest: Decodable {
    let title: String
    let description: String?
}

/// `PATCH /collection/:id`; `cover_media_id: null` clears the cover, leaving it out keeps it.
struct UpdateCollectionRequest: Decodable {
    let title: String?
    let description: String?
    let cover: UUID??

    enum CodingKeys: String, CodingKey {
        case title, description
        case cover = "cover_media_id"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decodeIfPresent(String.self, forKey: .title)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        if container.contains(.cover) {
            if try container.decodeNil(forKey: .cover) {
                cover = .some(nil)
            } else {
                let raw = try container.decode(String.self, forKey: .cover)
                guard let id = UUID(uuidString: raw) else {
                    throw AppError.invalidArgument("cover_media_id must be a media id", details: ["field": "cover_media_id"])
                }
                cover = .some(id)
            }
        } else {
            cover = nil
        }
    }
}

struct AddMediaRequest: Decodable {
    let mediaID: String

    enum CodingKeys: String, CodingKey {
        case mediaID = "media_id"
    }
}

struct OrderRequest: Decodable {
    let mediaIDs: [String]

    enum CodingKeys: String, CodingKey {
        case mediaIDs = "media_ids"
    }
}

struct ShareRequest: Decodable {
    let isPublic: Bool?
    let regenerateToken: Bool?

    enum CodingKeys: String, CodingKey {
        case isPublic = "is_public"
        case regenerateToken = "regenerate_token"
    }
}

struct ShareResponse: ResponseEncodable {
    let isPublic: Bool
    let shareToken: String
    let shareURL: String
    let pageURL: String

    enum CodingKeys: String, CodingKey {
        case isPublic = "is_public"
        case shareToken = "share_token"
        case shareURL = "share_url"
        case pageURL = "page_url"
    }
}

struct CreateLinkRequest: Decodable {
    let label: String?
    /// RFC 3339, with or without fractional seconds.
    let expiresAt: String?
    let expiresInDays: Int?
    let neverExpires: Bool?
    let password: String?
    let allowDownload: Bool?
    let showMetadata: Bool?
    let showLocation: Bool?

    enum CodingKeys: String, CodingKey {
        case label, password
        case expiresAt = "expires_at"
        case expiresInDays = "expires_in_days"
        case neverExpires = "never_expires"
        case allowDownload = "allow_download"
        case showMetadata = "show_metadata"
        case showLocation = "show_location"
    }
}

/// `PATCH /collection/:id/links/:linkID`: fields left out stay; `"password": null` removes the password and
/// `"label": null` the label; the expiry is set like at creation (`expires_at`, `expires_in_days` or `never_expires`).
struct UpdateLinkRequest: Decodable {
    let label: String??
    let expiresAt: String?
    let expiresInDays: Int?
    let neverExpires: Bool?
    let password: String??
    let allowDownload: Bool?
    let showMetadata: Bool?
    let showLocation: Bool?

    enum CodingKeys: String, CodingKey {
        case label, password
        case expiresAt = "expires_at"
        case expiresInDays = "expires_in_days"
        case neverExpires = "never_expires"
        case allowDownload = "allow_download"
        case showMetadata = "show_metadata"
        case showLocation = "show_location"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func nullable(_ key: CodingKeys) throws -> String?? {
            guard container.contains(key) else { return nil }
            return try container.decodeNil(forKey: key) ? .some(nil) : .some(try container.decode(String.self, forKey: key))
        }
        label = try nullable(.label)
        password = try nullable(.password)
        expiresAt = try container.decodeIfPresent(String.self, forKey: .expiresAt)
        expiresInDays = try container.decodeIfPresent(Int.self, forKey: .expiresInDays)
        neverExpires = try container.decodeIfPresent(Bool.self, forKey: .neverExpires)
        allowDownload = try container.decodeIfPresent(Bool.self, forKey: .allowDownload)
        showMetadata = try container.decodeIfPresent(Bool.self, forKey: .showMetadata)
        showLocation = try container.decodeIfPresent(Bool.self, forKey: .showLocation)
    }

    var changesExpiry: Bool { expiresAt != nil || expiresInDays != nil || neverExpires == true }
}

/// A share link as its owner sees it.
struct ShareLinkResponse: ResponseEncodable {
    let link: ShareLinkRecord
    let url: String
    let now: Date

    enum CodingKeys: String, CodingKey {
        case id, url, token, label, state
        case expiresAt = "expires_at"
        case hasPassword = "has_password"
        case allowDownload = "allow_download"
        case showMetadata = "show_metadata"
        case showLocation = "show_location"
        case viewCount = "view_count"
        case lastViewedAt = "last_viewed_at"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(link.id.lowercasedString, forKey: .id)
        try container.encode(url, forKey: .url)
        try container.encode(link.token, forKey: .token)
        try container.encode(link.label, forKey: .label)
        try container.encode(link.state(at: now).rawValue, forKey: .state)
        try container.encode(link.expiresAt, forKey: .expiresAt)
        try container.encode(link.passwordHash != nil, forKey: .hasPassword)
        try container.encode(link.allowDownload, forKey: .allowDownload)
        try container.encode(link.showMetadata, forKey: .showMetadata)
        try container.encode(link.showLocation, forKey: .showLocation)
        try container.encode(link.viewCount, forKey: .viewCount)
        try container.encode(link.lastViewedAt, forKey: .lastViewedAt)
        try container.encode(link.createdAt, forKey: .createdAt)
        try container.encode(link.revokedAt, forKey: .revokedAt)
    }
}

struct ShareLinkListResponse: ResponseEncodable {
    let links: [ShareLinkResponse]
}

struct UnlockRequest: Decodable {
    let password: String
}

struct UnlockResponse: ResponseEncodable {
    let unlocked: Bool
    let unlockToken: String
    let expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case unlocked
        case unlockToken = "unlock_token"
        case expiresAt = "expires_at"
    }
}

/// `GET /api/share/:token`: what the share page shows, for custom frontends; `item_count` counts every page.
struct SharedCollectionResponse: ResponseEncodable {
    let title: String
    let description: String
    let itemCount: Int
    let createdAt: Date
    let coverMediaID: String?
    let allowDownload: Bool
    let expiresAt: Date?
    let page: Int
    let pageSize: Int
    let items: [CollectionItemResponse]

    enum CodingKeys: String, CodingKey {
        case title, description, items, page
        case pageSize = "page_size"
        case itemCount = "item_count"
        case createdAt = "created_at"
        case coverMediaID = "cover_media_id"
        case allowDownload = "allow_download"
        case expiresAt = "expires_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(itemCount, forKey: .itemCount)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(coverMediaID, forKey: .coverMediaID)
        try container.encode(allowDownload, forKey: .allowDownload)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(page, forKey: .page)
        try container.encode(pageSize, forKey: .pageSize)
        try container.encode(items, forKey: .items)
    }
}
