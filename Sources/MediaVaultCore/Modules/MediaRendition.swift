import PostgresNIO

/// Which playable file of a video a rendition is.
public enum RenditionKind: String, Sendable, CaseIterable, PostgresCodable {
    /// The HEVC file, storage-efficient; what `stream_url` points at.
    case primary
    /// H.264/AAC within a capped height, for browsers without HEVC.
    case compatibility
    /// The upload itself, listed when a browser can play it as it is.
    case original

    /// Best first: the order in which a player should try them.
    public var preference: Int {
        switch self {
        case .primary: return 0
        case .compatibility: return 1
        case .original: return 2
        }
    }
}

/// One playable file of a video and what a browser needs to choose it.
public struct MediaRendition: Sendable, Equatable {
    public var kind: RenditionKind
    public var objectKey: String
    /// The container type with the exact RFC 6381 codecs of the file, e.g. `video/mp4; codecs="avc1.64001F, mp4a.40.2"`.
    public var mimeType: String
    /// ffprobe's name of the video codec (`hevc`, `h264`).
    public var videoCodec: String
    public var width: Int?
    public var height: Int?
    /// Overall bits per second, when known.
    public var bitRate: Int?
    public var sizeBytes: Int64
    /// Whether the file carries high dynamic range video (PQ or HLG).
    public var isHDR: Bool

    public init(
        kind: RenditionKind, objectKey: String, mimeType: String, videoCodec: String, width: Int?, height: Int?,
        bitRate: Int?, sizeBytes: Int64, isHDR: Bool
    ) {
        self.kind = kind
        self.objectKey = objectKey
        self.mimeType = mimeType
        self.videoCodec = videoCodec
        self.width = width
        self.height = height
        self.bitRate = bitRate
        self.sizeBytes = sizeBytes
        self.isHDR = isHDR
    }

    /// Files the media owns besides its original: these count towards the owner's quota and are removed with it.
    public var isStoredSeparately: Bool { kind != .original }
}

/// A rendition as every API route shows it (`GET /media/:id`, the collection routes, `/api/share/:token`).
public struct RenditionResponse: Encodable, Sendable, Equatable {
    public let kind: String
    /// `video/mp4; codecs="…"`: what a `<source type>` or `MediaSource.isTypeSupported` takes as it is.
    public let mimeType: String
    public let videoCodec: String
    public let width: Int?
    public let height: Int?
    public let bitRate: Int?
    public let sizeBytes: Int64
    public let hdr: Bool
    public let url: String

    public init(_ rendition: MediaRendition, url: String) {
        kind = rendition.kind.rawValue
        mimeType = rendition.mimeType
        videoCodec = rendition.videoCodec
        width = rendition.width
        height = rendition.height
        bitRate = rendition.bitRate
        sizeBytes = rendition.sizeBytes
        hdr = rendition.isHDR
        self.url = url
    }

    enum CodingKeys: String, CodingKey {
        case kind, width, height, hdr, url
        case mimeType = "mime_type"
        case videoCodec = "video_codec"
        case bitRate = "bit_rate"
        case sizeBytes = "size_bytes"
    }
}

extension Sequence<MediaRendition> {
    /// In ``RenditionKind/preference`` order: the order in which a player should try them.
    public func bestFirst() -> [MediaRendition] {
        sorted { $0.kind.preference < $1.kind.preference }
    }
}
