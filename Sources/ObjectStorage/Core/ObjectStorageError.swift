/// A failure detected by this library itself (as opposed to ``S3Error``, which an S3 server reported).
///
/// Compare with the static members, e.g. `catch let error as ObjectStorageError where error == .objectNotFound`;
/// equality looks at the kind of failure only, never at ``message``.
public struct ObjectStorageError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: String, Sendable, Hashable {
        case invalidKey
        case invalidArgument
        case objectNotFound
        case uploadNotFound
        case invalidPart
        case entityTooLarge
        case badDigest
        case rangeNotSatisfiable
        case malformedResponse
        case timedOut
        case transport
        case fileSystem
    }

    let code: Code
    /// Human-readable detail for logs; not part of equality.
    public let message: String

    init(_ code: Code, _ message: String? = nil) {
        self.code = code
        self.message = message ?? code.rawValue
    }

    /// A key broke the rules of ``ObjectKey``.
    public static let invalidKey = Self(.invalidKey)
    /// An argument was out of range (expiry, part number, content type, configuration, …).
    public static let invalidArgument = Self(.invalidArgument)
    /// The object does not exist (filesystem store; S3 reports ``S3Error/Code/noSuchKey``).
    public static let objectNotFound = Self(.objectNotFound)
    /// The multipart upload does not exist or belongs to another key.
    public static let uploadNotFound = Self(.uploadNotFound)
    /// A part given to complete a multipart upload is missing, out of order or has another ETag.
    public static let invalidPart = Self(.invalidPart)
    /// An upload is larger than the size it was allowed.
    public static let entityTooLarge = Self(.entityTooLarge)
    /// Content does not have the SHA-256 it was promised to have (answer HTTP 400, S3's `BadDigest`).
    public static let badDigest = Self(.badDigest)
    /// A `Range` header asks for bytes outside the object (answer HTTP 416).
    public static let rangeNotSatisfiable = Self(.rangeNotSatisfiable)
    /// A server's answer could not be understood.
    public static let malformedResponse = Self(.malformedResponse)
    /// A request did not finish in time, even after retries.
    public static let timedOut = Self(.timedOut)
    /// The connection failed (refused, reset, closed early), even after retries.
    public static let transport = Self(.transport)
    /// A local file operation failed (disk full, permissions, …).
    public static let fileSystem = Self(.fileSystem)

    public var description: String { "ObjectStorageError.\(code.rawValue): \(message)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// True when `error` says the object is missing, whichever backend threw it.
    public static func isNotFound(_ error: any Error) -> Bool {
        if let error = error as? ObjectStorageError { return error == .objectNotFound }
        if let error = error as? S3Error { return error.code == .noSuchKey }
        return false
    }
}
