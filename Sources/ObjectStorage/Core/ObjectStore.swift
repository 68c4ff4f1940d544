import Foundation

/// What both backends — ``S3Client`` and ``FileSystemObjectStore`` — offer the application.
///
/// Browsers move the bytes themselves through presigned requests; the server only signs, checks and
/// finishes. Conventions shared by all implementations:
/// - `head` answers nil for a missing object; `delete` and `abortMultipartUpload` succeed when there is
///   nothing to remove.
/// - `download` and `upload` stream through a fixed-size buffer and never hold a whole file in memory.
/// - Presigning is pure computation and uses the store's injected clock.
public protocol ObjectStore: Sendable {
    /// `scheme://host[:port]` of the presigned URLs this store hands out, for Content-Security-Policy source lists.
    var publicOrigin: String { get }

    /// A request that lets a client `PUT` one object; the client must send `headers` (Content-Type, and the
    /// checksum header when `sha256` is set) as given.
    /// When `contentLength` is set the body must have exactly that size (S3) or at most it (filesystem).
    /// When `sha256` is set the store refuses a body with another SHA-256 and stores nothing (S3 through a signed
    /// `x-amz-checksum-sha256`, answered `BadDigest` by servers that check it; the filesystem store hashes while
    /// writing). Servers that ignore the header store the body anyway, so callers still check what they read back.
    func presignedPutURL(
        for key: ObjectKey, contentType: String, contentLength: Int64?, sha256: [UInt8]?, expiresIn: Duration
    ) throws -> PresignedRequest

    /// A request that lets a client `GET` one object; `downloadFilename` makes browsers save it under that name.
    func presignedGetURL(for key: ObjectKey, expiresIn: Duration, downloadFilename: String?) throws -> PresignedRequest

    /// Size, ETag, type, date and (when the store knows it) SHA-256 of an object, or nil when it does not exist.
    func head(_ key: ObjectKey) async throws -> ObjectInfo?

    /// Removes an object; removing a missing object succeeds.
    func delete(_ key: ObjectKey) async throws

    /// Streams an object into `fileURL` (replaced atomically once complete).
    func download(_ key: ObjectKey, to fileURL: URL) async throws

    /// Streams the file at `fileURL` into an object and returns what was stored.
    @discardableResult
    func upload(from fileURL: URL, to key: ObjectKey, contentType: String) async throws -> ObjectInfo

    /// Starts a multipart upload; clients send its parts to URLs from
    /// ``presignedUploadPartURL(for:uploadID:partNumber:expiresIn:)``.
    func createMultipartUpload(for key: ObjectKey, contentType: String) async throws -> MultipartUploadID

    /// A request that lets a client `PUT` part `partNumber` (1...10000) of a multipart upload.
    func presignedUploadPartURL(
        for key: ObjectKey, uploadID: MultipartUploadID, partNumber: Int, expiresIn: Duration
    ) throws -> PresignedRequest

    /// The parts received so far, ordered by part number (use it to resume or to collect ETags).
    func listParts(for key: ObjectKey, uploadID: MultipartUploadID) async throws -> [UploadedPart]

    /// Joins `parts` (ascending part numbers) into the object and returns its ETag.
    @discardableResult
    func completeMultipartUpload(
        for key: ObjectKey, uploadID: MultipartUploadID, parts: [CompletedPart]
    ) async throws -> String?

    /// Discards a multipart upload and its parts; aborting an unknown upload succeeds.
    func abortMultipartUpload(for key: ObjectKey, uploadID: MultipartUploadID) async throws

    /// Creates the bucket (S3) or folders (filesystem) when missing.
    func ensureBucket() async throws

    /// Lets browsers at `allowedOrigins` PUT/GET/HEAD with presigned URLs (S3); a no-op where not meaningful.
    func configureCORS(allowedOrigins: [String]) async throws
}

/// What a store knows about one object.
public struct ObjectInfo: Sendable, Hashable {
    /// The object's key.
    public var key: ObjectKey
    /// Size in bytes.
    public var size: Int64
    /// Entity tag without surrounding quotes, when known.
    public var etag: String?
    /// `Content-Type` stored with the object.
    public var contentType: String?
    /// Time of the last write, to the second.
    public var lastModified: Date?
    /// SHA-256 of the whole content as the store computed or verified it: the filesystem store for every object,
    /// S3 for objects PUT with a checksum. Nil when the store does not know it (e.g. S3 multipart objects, whose
    /// checksum is one of the parts' checksums).
    public var sha256: [UInt8]?

    /// Creates the description of an object.
    public init(
        key: ObjectKey, size: Int64, etag: String?, contentType: String?, lastModified: Date?, sha256: [UInt8]? = nil
    ) {
        self.key = key
        self.size = size
        self.etag = etag
        self.contentType = contentType
        self.lastModified = lastModified
        self.sha256 = sha256
    }
}

/// A request a client (usually a browser) may send without credentials until `expiresAt`.
public struct PresignedRequest: Sendable, Hashable, Codable {
    /// The HTTP method the signature allows.
    public enum Method: String, Sendable, Hashable, Codable {
        case get = "GET"
        case put = "PUT"
        case head = "HEAD"
        case delete = "DELETE"
    }

    /// The URL to send the request to, signature included.
    public var url: URL
    /// The method to send.
    public var method: Method
    /// Headers the client must send unchanged (they are part of the signature), e.g. `Content-Type`.
    public var headers: [String: String]
    /// The moment the signature stops being accepted.
    public var expiresAt: Date

    /// Creates a presigned request description.
    public init(url: URL, method: Method, headers: [String: String], expiresAt: Date) {
        self.url = url
        self.method = method
        self.headers = headers
        self.expiresAt = expiresAt
    }
}

/// The identifier of a multipart upload, as issued by the store.
public struct MultipartUploadID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The id as the store issued it.
    public let rawValue: String

    /// Wraps an id received from a client; stores check it before use.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A part the store has received.
public struct UploadedPart: Sendable, Hashable, Codable {
    /// Part number, 1...10000.
    /// Part number, 1...10000.
    public var partNumber: Int
    /// ETag without surrounding quotes.
    public var etag: String
    /// Size in bytes.
    public var size: Int64

    /// Creates a received-part description.
    public init(partNumber: Int, etag: String, size: Int64) {
        self.partNumber = partNumber
        self.etag = etag
        self.size = size
    }
}

/// A part named when completing a multipart upload (the ETag the client saw for it).
public struct CompletedPart: Sendable, Hashable, Codable {
    public var partNumber: Int
    /// ETag with or without surrounding quotes.
    public var etag: String

    /// Names a part and the ETag its upload returned.
    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// Limits shared by both backends, taken from S3's.
public enum ObjectStoreLimits {
    /// Part numbers run from 1 to 10 000.
    public static let partNumbers = 1...10_000
    /// A presigned request may live at most 7 days.
    public static let maximumExpiry: Duration = .seconds(604_800)

    static func validate(partNumber: Int) throws(ObjectStorageError) {
        guard partNumbers.contains(partNumber) else {
            throw ObjectStorageError(.invalidArgument, "part number \(partNumber) is outside 1...10000")
        }
    }

    /// Whole seconds of `expiresIn`, checked against 1 s ... 7 days.
    static func expirySeconds(_ expiresIn: Duration) throws(ObjectStorageError) -> Int64 {
        let seconds = expiresIn.components.seconds
        guard seconds >= 1, expiresIn <= maximumExpiry else {
            throw ObjectStorageError(.invalidArgument, "expiry must be between 1 second and 7 days, got \(expiresIn)")
        }
        return seconds
    }

    /// Content types end up in signed headers and metadata files, so control characters are refused.
    static func validate(contentType: String) throws(ObjectStorageError) {
        guard !contentType.isEmpty, contentType.utf8.count <= 256,
            !contentType.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw ObjectStorageError(.invalidArgument, "invalid content type \(String(reflecting: contentType))")
        }
    }
}

extension String {
    /// ETags travel quoted on the wire; the API hands them out bare.
    var withoutETagQuotes: String {
        var value = Substring(self)
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
        return String(value)
    }
}
