/// Where an S3 server listens.
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address.
    public var host: String
    /// nil means the scheme's default (443 with TLS, 80 without).
    public var port: Int?
    /// `https` when true.
    public var useTLS: Bool

    /// An endpoint from its parts.
    public init(host: String, port: Int? = nil, useTLS: Bool) {
        self.host = host
        self.port = port
        self.useTLS = useTLS
    }

    /// Parses `host`, `host:port` or `[v6addr]:port`; throws ``ObjectStorageError/invalidArgument`` otherwise.
    public init(hostAndPort: String, useTLS: Bool) throws(ObjectStorageError) {
        var host = Substring(hostAndPort)
        var port: Int?
        if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") {
            guard let parsed = Int(host[host.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw ObjectStorageError(
                    .invalidArgument, "invalid port in endpoint \(String(reflecting: hostAndPort))")
            }
            port = parsed
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains("/") else {
            throw ObjectStorageError(.invalidArgument, "invalid endpoint \(String(reflecting: hostAndPort))")
        }
        self.init(host: String(host), port: port, useTLS: useTLS)
    }

    var scheme: String { useTLS ? "https" : "http" }

    /// The `Host` header value: the port only appears when it is not the scheme's default, as browsers send it.
    func hostHeader(prefixedWith bucket: String? = nil) -> String {
        let name = bucket.map { "\($0).\(host)" } ?? host
        guard let port, port != (useTLS ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader())" }
}

/// Everything an ``S3Client`` needs to reach one bucket.
public struct S3Configuration: Sendable {
    /// Where the server is reached from this process.
    public var endpoint: S3Endpoint
    /// Where browsers reach the same server, used only for presigned URLs (e.g. `localhost:9000` while the
    /// server talks to `minio:9000`). nil means ``endpoint``.
    public var publicEndpoint: S3Endpoint?
    /// The SigV4 region (`us-east-1` for MinIO and SeaweedFS unless configured otherwise).
    public var region: String
    /// The one bucket this client works in.
    public var bucket: String
    /// Keys used to sign requests and presigned URLs.
    public var credentials: AWSCredentials
    /// `http://host/bucket/key` (true, what MinIO and SeaweedFS expect) or `http://bucket.host/key` (false).
    public var usePathStyle: Bool
    /// Deadline for a whole request that carries no large body (HEAD, DELETE, multipart calls, XML).
    public var requestTimeout: Duration
    /// Deadline for sending an uploaded file up to the response, and for receiving a download's headers.
    public var transferTimeout: Duration
    /// Retries of idempotent calls after 5xx answers and connection failures.
    public var retryPolicy: RetryPolicy
    /// Size of the buffers files are read and written in while uploading and downloading.
    public var uploadChunkSize: Int
    /// ``S3Client/upload(from:to:contentType:)`` sends files larger than this as a multipart upload (S3 caps a
    /// single PUT at 5 GiB).
    public var multipartUploadThreshold: Int64
    /// Part size of those uploads (at least 5 MiB); parts go one after another, so memory stays constant.
    public var multipartPartSize: Int64

    /// Collects the settings; ``S3Client`` checks them when created.
    public init(
        endpoint: S3Endpoint,
        publicEndpoint: S3Endpoint? = nil,
        region: String = "us-east-1",
        bucket: String,
        credentials: AWSCredentials,
        usePathStyle: Bool = true,
        requestTimeout: Duration = .seconds(30),
        transferTimeout: Duration = .seconds(3600),
        retryPolicy: RetryPolicy = .default,
        uploadChunkSize: Int = 256 * 1024,
        multipartUploadThreshold: Int64 = 256 * 1024 * 1024,
        multipartPartSize: Int64 = 64 * 1024 * 1024
    ) {
        self.endpoint = endpoint
        self.publicEndpoint = publicEndpoint
        self.region = region
        self.bucket = bucket
        self.credentials = credentials
        self.usePathStyle = usePathStyle
        self.requestTimeout = requestTimeout
        self.transferTimeout = transferTimeout
        self.retryPolicy = retryPolicy
        self.uploadChunkSize = uploadChunkSize
        self.multipartUploadThreshold = multipartUploadThreshold
        self.multipartPartSize = multipartPartSize
    }

    /// Checks the bucket name (3–63 lowercase letters, digits, `-`, `.`) so URLs can be built from it as is.
    func validate() throws(ObjectStorageError) {
        let allowed = bucket.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        guard (3...63).contains(bucket.utf8.count), allowed else {
            throw ObjectStorageError(.invalidArgument, "invalid bucket name \(String(reflecting: bucket))")
        }
        guard !region.isEmpty, !credentials.accessKeyID.isEmpty, !credentials.secretAccessKey.isEmpty else {
            throw ObjectStorageError(.invalidArgument, "region, access key and secret key must not be empty")
        }
    }
}

/// Exponential backoff with full jitter for idempotent requests.
///
/// Attempt `n` (from 1) waits a random time in `0...min(maximumBackoff, initialBackoff * 2^(n-1))` before
/// retrying, so many clients failing together do not retry in lockstep.
public struct RetryPolicy: Sendable, Hashable {
    /// Total tries including the first; 1 disables retrying.
    public var maximumAttempts: Int
    /// Ceiling of the first wait.
    public var initialBackoff: Duration
    /// Upper bound of every wait.
    public var maximumBackoff: Duration

    /// A policy; `maximumAttempts` below 1 counts as 1.
    public init(maximumAttempts: Int, initialBackoff: Duration, maximumBackoff: Duration) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// Three attempts, 100 ms then 200 ms ceilings, capped at 2 s.
    public static let `default` = RetryPolicy(
        maximumAttempts: 3, initialBackoff: .milliseconds(100), maximumBackoff: .seconds(2))
    /// One attempt only.
    public static let none = RetryPolicy(maximumAttempts: 1, initialBackoff: .zero, maximumBackoff: .zero)

    /// The wait before retry number `retry` (1 for the first retry), drawn with `generator`.
    func backoff(beforeRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = min(maximumBackoff, initialBackoff * (1 << exponent))
        let ceilingNanoseconds =
            ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard ceilingNanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...ceilingNanoseconds, using: &generator))
    }
}
