import Crypto
import Foundation

/// Why a filesystem-store URL was refused. Compare with the static members; ``httpStatus`` is the answer to send.
public struct SignedURLError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable, Hashable {
        case malformed
        case badSignature
        case expired
        case wrongMethod
        case wrongContentType
    }

    private let code: Code
    /// Detail for logs; not part of equality and not meant for clients.
    public let message: String

    private init(_ code: Code, _ message: String? = nil) {
        self.code = code
        self.message = message ?? code.rawValue
    }

    /// The path or query is not one this store issues (missing fields, invalid key, duplicate parameters).
    public static let malformed = Self(.malformed)
    /// The signature does not match: the URL was altered or signed with another key.
    public static let badSignature = Self(.badSignature)
    /// The URL's expiry time has passed.
    public static let expired = Self(.expired)
    /// The URL was signed for another HTTP method.
    public static let wrongMethod = Self(.wrongMethod)
    /// A PUT carries another Content-Type than the one signed.
    public static let wrongContentType = Self(.wrongContentType)

    static func malformed(_ message: String) -> Self { Self(.malformed, message) }

    /// 400 for malformed requests, 405 for a wrong method, 403 for everything else (as S3 answers).
    public var httpStatus: Int {
        switch code {
        case .malformed: 400
        case .wrongMethod: 405
        case .badSignature, .expired, .wrongContentType: 403
        }
    }

    public var description: String { "SignedURLError.\(code.rawValue): \(message)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// What a verified filesystem-store URL allows.
public enum SignedOperation: Sendable, Hashable {
    /// Store the request body as `key`; it must have `contentType`, at most `maximumSize` bytes and, when `sha256` is
    /// set, that SHA-256.
    case putObject(key: ObjectKey, contentType: String, maximumSize: Int64, sha256: [UInt8]?)
    /// Store the request body as part `partNumber` of a multipart upload, at most `maximumSize` bytes.
    case putPart(key: ObjectKey, uploadID: MultipartUploadID, partNumber: Int, maximumSize: Int64)
    /// Send the object (GET or HEAD), as an attachment named `downloadFilename` when set.
    case getObject(key: ObjectKey, downloadFilename: String?)
}

/// The filesystem store's URL scheme (pure: no I/O, the time is passed in).
///
/// `<publicBaseURL>/<routePrefix>/<key, percent-encoded per component>?method=PUT&expires=<unix seconds>`
/// `&ct=<content type>&max=<bytes>&sha256=<hex>&dl=<filename>&upload=<id>&part=<n>&sig=<hex HMAC-SHA256>`
///
/// The HMAC covers a versioned, newline-separated list of every field (absent ones as empty lines). No field
/// can contain a newline (keys, types and names are refused if they hold control characters), so two
/// different field sets can never produce the same signed text. The SHA-256 came later: it is one more line,
/// present only when set, so URLs handed out before it existed stay valid.
struct FileSystemURLSigner: Sendable {
    /// The signed facts of one URL.
    struct Fields: Sendable, Hashable {
        var method: String
        var key: ObjectKey
        var expires: Int64
        var contentType: String?
        var maximumSize: Int64?
        var downloadFilename: String?
        var uploadID: MultipartUploadID?
        var partNumber: Int?
        var sha256: [UInt8]?
    }

    private static let version = "ObjectStorage-FS-v1"
    /// Raw key bytes: swift-crypto's SymmetricKey is not Sendable in the versions this package allows.
    private let keyBytes: [UInt8]
    private let publicBaseURL: String
    private let routePrefix: String

    init(signingKey: [UInt8], publicBaseURL: URL, routePrefix: String) {
        self.keyBytes = signingKey
        var base = publicBaseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.publicBaseURL = base
        self.routePrefix = routePrefix
    }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    func signature(for fields: Fields) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(Self.signedText(fields).utf8), using: key))
    }

    static func signedText(_ fields: Fields) -> String {
        [
            version, fields.method, fields.key.rawValue, String(fields.expires), fields.contentType ?? "",
            fields.maximumSize.map { String($0) } ?? "", fields.downloadFilename ?? "",
            fields.uploadID?.rawValue ?? "", fields.partNumber.map { String($0) } ?? "",
        ].joined(separator: "\n") + (fields.sha256.map { "\nsha256:" + Hex.encode($0) } ?? "")
    }

    /// The full URL for `fields`.
    func url(for fields: Fields) -> URL? {
        var query = [("method", fields.method), ("expires", String(fields.expires))]
        if let contentType = fields.contentType { query.append(("ct", contentType)) }
        if let maximumSize = fields.maximumSize { query.append(("max", String(maximumSize))) }
        if let sha256 = fields.sha256 { query.append(("sha256", Hex.encode(sha256))) }
        if let downloadFilename = fields.downloadFilename { query.append(("dl", downloadFilename)) }
        if let uploadID = fields.uploadID { query.append(("upload", uploadID.rawValue)) }
        if let partNumber = fields.partNumber { query.append(("part", String(partNumber))) }
        query.append(("sig", signature(for: fields)))
        let queryString =
            query
            .map { "\($0.0)=\(AWSURIEncoding.encode($0.1, keepingSlashes: false))" }
            .joined(separator: "&")
        let path = "/\(routePrefix)/\(AWSURIEncoding.encodePath(fields.key.rawValue))"
        return URL(string: publicBaseURL + path + "?" + queryString)
    }

    /// Checks a request against its URL and says what it may do.
    ///
    /// - Parameters:
    ///   - method: the request's HTTP method.
    ///   - path: the raw (still percent-encoded) request path, e.g. `/storage/media/a%20b.mp4`.
    ///   - query: the raw query string (without `?`).
    ///   - contentType: the request's `Content-Type` header (checked for object PUTs).
    ///   - now: the current time.
    func verify(
        method: String, path: String, query: String?, contentType: String?, now: Date
    ) throws(SignedURLError) -> SignedOperation {
        let fields = try parse(path: path, query: query)
        guard let signature = fields.signature, let provided = Hex.decode(signature), provided.count == 32 else {
            throw .malformed("missing or malformed sig")
        }
        // isValidAuthenticationCode compares in constant time, so timing reveals nothing about the right MAC.
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                provided, authenticating: Array(Self.signedText(fields.signed).utf8), using: key)
        else { throw .badSignature }

        guard Int64(now.timeIntervalSince1970.rounded(.down)) <= fields.signed.expires else { throw .expired }

        let requestMethod = method.uppercased()
        let allowed = fields.signed.method == "GET" ? ["GET", "HEAD"] : [fields.signed.method]
        guard allowed.contains(requestMethod) else { throw .wrongMethod }

        let signed = fields.signed
        switch signed.method {
        case "GET":
            return .getObject(key: signed.key, downloadFilename: signed.downloadFilename)
        case "PUT":
            guard let maximumSize = signed.maximumSize else { throw .malformed("PUT URL without max") }
            if let uploadID = signed.uploadID, let partNumber = signed.partNumber {
                return .putPart(key: signed.key, uploadID: uploadID, partNumber: partNumber, maximumSize: maximumSize)
            }
            guard let signedType = signed.contentType else { throw .malformed("PUT URL without ct") }
            guard contentType?.trimmingCharacters(in: .whitespaces) == signedType else {
                throw SignedURLError.wrongContentType
            }
            return .putObject(
                key: signed.key, contentType: signedType, maximumSize: maximumSize, sha256: signed.sha256)
        default:
            throw .malformed("unsupported signed method \(signed.method)")
        }
    }

    private func parse(path: String, query: String?) throws(SignedURLError) -> (signed: Fields, signature: String?) {
        let prefix = "/\(routePrefix)/"
        guard path.hasPrefix(prefix) else { throw .malformed("path outside /\(routePrefix)/") }
        guard let decodedKey = AWSURIEncoding.decode(path.dropFirst(prefix.count)) else {
            throw .malformed("bad percent-encoding in path")
        }
        let objectKey: ObjectKey
        do {
            objectKey = try ObjectKey(decodedKey)
        } catch {
            throw .malformed(error.message)
        }

        var parameters: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = AWSURIEncoding.decode(parts[0]),
                let value = AWSURIEncoding.decode(parts.count > 1 ? parts[1] : "")
            else { throw .malformed("bad percent-encoding in query") }
            // A repeated parameter could be read differently by different layers; refuse it outright.
            guard parameters.updateValue(value, forKey: name) == nil else { throw .malformed("repeated \(name)") }
        }

        guard let method = parameters["method"], let expires = parameters["expires"].flatMap({ Int64($0) }) else {
            throw .malformed("missing method or expires")
        }
        var fields = Fields(method: method, key: objectKey, expires: expires)
        // Control characters never appear in what this store signs; refusing them keeps the signed text's
        // line structure unambiguous even for forged input.
        guard !parameters.values.contains(where: FileSystemObjectStore.hasControlCharacters) else {
            throw .malformed("control characters in query")
        }
        fields.contentType = parameters["ct"]
        if let text = parameters["max"] {
            guard let maximumSize = Int64(text), maximumSize >= 0 else { throw .malformed("bad max") }
            fields.maximumSize = maximumSize
        }
        if let text = parameters["sha256"] {
            // Lowercase only, as signed: one spelling per digest keeps the signed text canonical.
            guard text.utf8.count == 64, text == text.lowercased(), let digest = Hex.decode(text) else {
                throw .malformed("bad sha256")
            }
            fields.sha256 = digest
        }
        fields.downloadFilename = parameters["dl"]
        if let text = parameters["upload"] {
            guard FileSystemObjectStore.isWellFormed(uploadID: text) else { throw .malformed("bad upload id") }
            fields.uploadID = MultipartUploadID(text)
        }
        if let text = parameters["part"] {
            guard let partNumber = Int(text), ObjectStoreLimits.partNumbers.contains(partNumber) else {
                throw .malformed("bad part number")
            }
            fields.partNumber = partNumber
        }
        return (fields, parameters["sig"])
    }
}
