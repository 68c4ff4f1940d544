/// An error an S3 server reported, from its `<Error><Code>…</Code><Message>…</Message>…</Error>` document or,
/// for bodiless answers such as a `HEAD`, from the HTTP status alone.
public struct S3Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// S3's error code. Compare with the static members; codes this library does not name keep their text.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Known: String, CaseIterable {
            case noSuchKey = "NoSuchKey"
            case noSuchBucket = "NoSuchBucket"
            case noSuchUpload = "NoSuchUpload"
            case accessDenied = "AccessDenied"
            case signatureDoesNotMatch = "SignatureDoesNotMatch"
            case invalidAccessKeyID = "InvalidAccessKeyId"
            case expiredToken = "ExpiredToken"
            case requestTimeTooSkewed = "RequestTimeTooSkewed"
            case entityTooLarge = "EntityTooLarge"
            case entityTooSmall = "EntityTooSmall"
            case invalidPart = "InvalidPart"
            case invalidPartOrder = "InvalidPartOrder"
            case invalidRequest = "InvalidRequest"
            case invalidArgument = "InvalidArgument"
            case invalidRange = "InvalidRange"
            case invalidBucketName = "InvalidBucketName"
            case bucketAlreadyExists = "BucketAlreadyExists"
            case bucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
            case malformedXML = "MalformedXML"
            case badDigest = "BadDigest"
            case preconditionFailed = "PreconditionFailed"
            case requestTimeout = "RequestTimeout"
            case internalError = "InternalError"
            case serviceUnavailable = "ServiceUnavailable"
            case slowDown = "SlowDown"
            case notImplemented = "NotImplemented"
        }

        private enum Base: Hashable, Sendable {
            case known(Known)
            case other(String)
        }

        private let base: Base

        private init(_ known: Known) { base = .known(known) }

        /// The code for S3's text, e.g. `"NoSuchKey"` → ``noSuchKey``.
        public init(rawValue: String) {
            base = Known(rawValue: rawValue).map(Base.known) ?? .other(rawValue)
        }

        /// S3's text for the code, e.g. `NoSuchKey`.
        public var rawValue: String {
            switch base {
            case .known(let known): known.rawValue
            case .other(let text): text
            }
        }

        public var description: String { rawValue }

        /// The object does not exist (also assumed for a bodiless 404).
        public static let noSuchKey = Code(.noSuchKey)
        /// The bucket does not exist.
        public static let noSuchBucket = Code(.noSuchBucket)
        /// The multipart upload does not exist (aborted, completed or never started).
        public static let noSuchUpload = Code(.noSuchUpload)
        /// Not allowed, or a presigned URL expired (also assumed for a bodiless 403).
        public static let accessDenied = Code(.accessDenied)
        /// The signature is wrong: altered URL, other secret, or an unsigned header changed.
        public static let signatureDoesNotMatch = Code(.signatureDoesNotMatch)
        /// The access key is unknown.
        public static let invalidAccessKeyID = Code(.invalidAccessKeyID)
        /// The session token has expired.
        public static let expiredToken = Code(.expiredToken)
        /// This machine's clock is too far from the server's.
        public static let requestTimeTooSkewed = Code(.requestTimeTooSkewed)
        /// The body is larger than allowed.
        public static let entityTooLarge = Code(.entityTooLarge)
        /// A part other than the last is below 5 MiB.
        public static let entityTooSmall = Code(.entityTooSmall)
        /// A part named in CompleteMultipartUpload is missing or has another ETag.
        public static let invalidPart = Code(.invalidPart)
        /// Parts in CompleteMultipartUpload are not in ascending order.
        public static let invalidPartOrder = Code(.invalidPartOrder)
        /// The request is invalid (also assumed for a bodiless 400).
        public static let invalidRequest = Code(.invalidRequest)
        /// An argument is invalid.
        public static let invalidArgument = Code(.invalidArgument)
        /// The requested range is outside the object.
        public static let invalidRange = Code(.invalidRange)
        /// The bucket name is not allowed.
        public static let invalidBucketName = Code(.invalidBucketName)
        /// Another account owns a bucket with this name.
        public static let bucketAlreadyExists = Code(.bucketAlreadyExists)
        /// The bucket exists and is yours.
        public static let bucketAlreadyOwnedByYou = Code(.bucketAlreadyOwnedByYou)
        /// The XML body was not understood.
        public static let malformedXML = Code(.malformedXML)
        /// `Content-MD5` does not match the body.
        public static let badDigest = Code(.badDigest)
        /// A conditional header did not hold.
        public static let preconditionFailed = Code(.preconditionFailed)
        /// The server gave up waiting for the request body.
        public static let requestTimeout = Code(.requestTimeout)
        /// The server failed; worth retrying.
        public static let internalError = Code(.internalError)
        /// The server is overloaded; worth retrying.
        public static let serviceUnavailable = Code(.serviceUnavailable)
        /// Too many requests; worth retrying later.
        public static let slowDown = Code(.slowDown)
        /// The server does not support this feature.
        public static let notImplemented = Code(.notImplemented)

        /// The code to assume when a response carries no error document.
        static func forStatus(_ status: Int) -> Code {
            switch status {
            case 400: .invalidRequest
            case 403: .accessDenied
            case 404: .noSuchKey
            case 409: Code(rawValue: "Conflict")
            case 412: .preconditionFailed
            case 416: .invalidRange
            case 500: .internalError
            case 501: .notImplemented
            case 503: .serviceUnavailable
            default: Code(rawValue: "HTTP\(status)")
            }
        }
    }

    /// S3's error code.
    public var code: Code
    /// The HTTP status of the response (200 for an error inside a successful CompleteMultipartUpload).
    public var httpStatus: Int
    /// S3's message, for logs.
    public var message: String
    /// The server's request id, for its logs.
    public var requestID: String?
    /// The bucket or key the error is about, when the server said.
    public var resource: String?

    /// Creates an error (the client builds these from responses).
    public init(code: Code, httpStatus: Int, message: String, requestID: String? = nil, resource: String? = nil) {
        self.code = code
        self.httpStatus = httpStatus
        self.message = message
        self.requestID = requestID
        self.resource = resource
    }

    /// Worth retrying an idempotent request: server-side failures and throttling, never client errors.
    public var isRetryable: Bool {
        httpStatus >= 500 || code == .internalError || code == .serviceUnavailable || code == .slowDown
    }

    public var description: String {
        var text = "S3Error \(code) (HTTP \(httpStatus)): \(message)"
        if let resource { text += " [\(resource)]" }
        if let requestID { text += " request-id \(requestID)" }
        return text
    }

    /// The error in an S3 `<Error>` document, or nil when `root` is not one.
    static func fromDocument(_ root: XMLElementTree, httpStatus: Int, requestID: String?) -> S3Error? {
        guard root.name == "Error", let code = root.value(of: "Code"), !code.isEmpty else { return nil }
        return S3Error(
            code: Code(rawValue: code),
            httpStatus: httpStatus,
            message: root.value(of: "Message") ?? code,
            requestID: root.value(of: "RequestId") ?? requestID,
            resource: root.value(of: "Key") ?? root.value(of: "Resource") ?? root.value(of: "BucketName")
        )
    }

    /// The error an S3 server's `<Error>` document describes, or nil when `body` is not one. For clients that hold
    /// only a presigned URL and read the server's refusal themselves (e.g. `BadDigest` for bytes that changed).
    public static func fromErrorDocument(status: Int, body: some Collection<UInt8>) -> S3Error? {
        guard !body.isEmpty, let root = try? XMLElementTree.parse(body) else { return nil }
        return fromDocument(root, httpStatus: status, requestID: nil)
    }

    /// The error an unsuccessful response describes: its `<Error>` document when it has one, else its status.
    static func fromResponse(status: Int, body: some Collection<UInt8>, requestID: String?) -> S3Error {
        if !body.isEmpty, let root = try? XMLElementTree.parse(body),
            let error = fromDocument(root, httpStatus: status, requestID: requestID)
        {
            return error
        }
        return S3Error(
            code: .forStatus(status), httpStatus: status, message: "HTTP \(status) without error document",
            requestID: requestID)
    }
}
