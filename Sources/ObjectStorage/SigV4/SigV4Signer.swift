import Crypto
import Foundation

/// Access key, secret and, for temporary credentials, the session token.
public struct AWSCredentials: Sendable, Hashable {
    /// The access key id, sent in the credential scope.
    public var accessKeyID: String
    /// The secret; only ever used to derive signing keys.
    public var secretAccessKey: String
    /// The session token of temporary credentials.
    public var sessionToken: String?

    /// Credentials from their parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// How the body takes part in a header signature.
public enum PayloadSignature: Sendable, Hashable {
    /// `UNSIGNED-PAYLOAD`: the body is not hashed (streamed uploads, presigned URLs).
    case unsigned
    /// The hex SHA-256 of the body.
    case sha256(hex: String)

    /// The hash of an empty body.
    public static let empty = PayloadSignature.sha256(hex: Hex.encode(SHA256.hash(data: [UInt8]())))

    /// The hash of `bytes`.
    public static func sha256<Bytes: Sequence>(of bytes: Bytes) -> PayloadSignature where Bytes.Element == UInt8 {
        .sha256(hex: Hex.encode(SHA256.hash(data: Array(bytes))))
    }

    /// The `x-amz-content-sha256` value.
    public var headerValue: String {
        switch self {
        case .unsigned: "UNSIGNED-PAYLOAD"
        case .sha256(let hex): hex
        }
    }
}

/// A request to sign: what is sent, before any authentication is added.
public struct SigV4Request: Sendable, Hashable {
    /// HTTP method.
    public var method: String
    /// The `Host` header value: the host, plus `:port` when the port is not the scheme's default.
    public var host: String
    /// The path as sent, already encoded (``AWSURIEncoding/encodePath(_:)`` for S3 keys), starting with `/`.
    public var path: String
    /// Query parameters, not encoded.
    public var query: [HTTPField]
    /// Further headers to sign and send (e.g. `content-type`, `range`); `host` is added automatically.
    public var headers: [HTTPField]

    /// A request from its parts.
    public init(method: String, host: String, path: String, query: [HTTPField] = [], headers: [HTTPField] = []) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
    }
}

/// The result of presigning: the query string to append to the URL and its signature.
public struct PresignedQuery: Sendable, Hashable {
    /// The encoded query string to put after `?`, ending in `X-Amz-Signature=…`.
    public var queryString: String
    /// Hex signature, also the last query parameter.
    public var signature: String
    /// The canonical request that was signed, for debugging signature mismatches.
    public var canonicalRequest: CanonicalRequest
}

/// The outcome of signing with headers.
public struct SignedHeaders: Sendable, Hashable {
    /// Headers to send in addition to the request's own: `authorization`, `x-amz-date`,
    /// `x-amz-content-sha256` and, with a session token, `x-amz-security-token`.
    public var headers: [HTTPField]
    /// Hex signature inside the `authorization` header.
    public var signature: String
    /// The canonical request that was signed, for debugging signature mismatches.
    public var canonicalRequest: CanonicalRequest
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as S3 uses it. Pure computation: the time is passed in.
public struct SigV4Signer: Sendable {
    /// The only algorithm S3 SigV4 uses.
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// Who signs.
    public let credentials: AWSCredentials
    /// The region in the credential scope.
    public let region: String
    /// The service in the credential scope (`s3`).
    public let service: String

    /// A signer for one credential scope.
    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Signs `request` for the `Authorization` header at time `date`.
    public func signHeaders(_ request: SigV4Request, payload: PayloadSignature, date: Date) -> SignedHeaders {
        let amzDate = AmzDate(date)
        var added = [
            HTTPField("x-amz-content-sha256", payload.headerValue),
            HTTPField("x-amz-date", amzDate.timestamp),
        ]
        if let token = credentials.sessionToken {
            added.append(HTTPField("x-amz-security-token", token))
        }
        let canonical = CanonicalRequest(
            method: request.method,
            canonicalURI: request.path,
            query: request.query,
            headers: [HTTPField("host", request.host)] + request.headers + added,
            payloadHash: payload.headerValue
        )
        let signature = sign(canonical, at: amzDate)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(amzDate)),"
            + "SignedHeaders=\(canonical.signedHeaders),Signature=\(signature)"
        return SignedHeaders(
            headers: [HTTPField("authorization", authorization)] + added,
            signature: signature,
            canonicalRequest: canonical
        )
    }

    /// Presigns `request` (query-string authentication) valid for `expires` seconds from `date`.
    ///
    /// Only `host` and the request's own `headers` are signed; the payload is `UNSIGNED-PAYLOAD`, as S3 requires
    /// for presigned URLs. A session token is signed as `X-Amz-Security-Token`.
    public func presign(_ request: SigV4Request, expires: Int64, date: Date) -> PresignedQuery {
        let amzDate = AmzDate(date)
        var canonical = CanonicalRequest(
            method: request.method,
            canonicalURI: request.path,
            query: [],
            headers: [HTTPField("host", request.host)] + request.headers,
            payloadHash: PayloadSignature.unsigned.headerValue
        )
        var query = request.query
        query.append(HTTPField("X-Amz-Algorithm", Self.algorithm))
        query.append(HTTPField("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(amzDate))"))
        query.append(HTTPField("X-Amz-Date", amzDate.timestamp))
        query.append(HTTPField("X-Amz-Expires", String(expires)))
        query.append(HTTPField("X-Amz-SignedHeaders", canonical.signedHeaders))
        if let token = credentials.sessionToken {
            query.append(HTTPField("X-Amz-Security-Token", token))
        }
        canonical.query = query
        let signature = sign(canonical, at: amzDate)
        return PresignedQuery(
            queryString: canonical.canonicalQueryString + "&X-Amz-Signature=" + signature,
            signature: signature,
            canonicalRequest: canonical
        )
    }

    /// `20130524/us-east-1/s3/aws4_request`.
    func scope(_ date: AmzDate) -> String {
        "\(date.dateStamp)/\(region)/\(service)/aws4_request"
    }

    /// The string to sign for `canonical` at `date`.
    func stringToSign(_ canonical: CanonicalRequest, at date: AmzDate) -> String {
        [Self.algorithm, date.timestamp, scope(date), canonical.hash].joined(separator: "\n")
    }

    /// The hex signature: HMAC of the string to sign with the key derived for date, region and service.
    func sign(_ canonical: CanonicalRequest, at date: AmzDate) -> String {
        let key = signingKey(dateStamp: date.dateStamp)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(stringToSign(canonical, at: date).utf8), using: key)
        return Hex.encode(mac)
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    func signingKey(dateStamp: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for step in [dateStamp, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(step.utf8), using: key))
        }
        return key
    }
}
