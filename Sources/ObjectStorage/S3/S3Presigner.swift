import Foundation

/// Presigned S3 URLs for browsers, computed without any I/O (``S3Client`` uses it; it also works alone, e.g. in
/// a process that only hands out URLs).
///
/// URLs point at ``S3Configuration/publicEndpoint`` (or the endpoint) and are signed for that host, because the
/// browser sends that `Host` header.
public struct S3Presigner: Sendable {
    /// The settings URLs are built from.
    public let configuration: S3Configuration
    private let clock: @Sendable () -> Date
    private let signer: SigV4Signer

    /// - Parameter clock: the signing time source; tests pass a fixed date.
    public init(
        configuration: S3Configuration, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(ObjectStorageError) {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
    }

    /// A PUT of `key`; `Content-Type` (and `Content-Length` and `x-amz-checksum-sha256` when given) are signed, so
    /// S3 refuses other values. A server that checks checksums (AWS, MinIO, SeaweedFS) refuses a body with another
    /// SHA-256 with `BadDigest` and stores nothing.
    public func presignedPutURL(
        for key: ObjectKey, contentType: String, contentLength: Int64?, sha256: [UInt8]? = nil, expiresIn: Duration
    ) throws -> PresignedRequest {
        try ObjectStoreLimits.validate(contentType: contentType)
        var signedHeaders = [HTTPField("content-type", contentType)]
        if let contentLength {
            guard contentLength >= 0 else {
                throw ObjectStorageError(.invalidArgument, "content length \(contentLength) is negative")
            }
            signedHeaders.append(HTTPField("content-length", String(contentLength)))
        }
        var clientHeaders = ["Content-Type": contentType]
        if let sha256 {
            guard sha256.count == 32 else {
                throw ObjectStorageError(.invalidArgument, "a SHA-256 has 32 bytes, not \(sha256.count)")
            }
            let checksum = Data(sha256).base64EncodedString()
            signedHeaders.append(HTTPField("x-amz-checksum-sha256", checksum))
            clientHeaders["x-amz-checksum-sha256"] = checksum
        }
        // Browsers set Content-Length themselves (and may not set it by hand), so it is not handed out.
        return try presign(
            .put, key: key, query: [], signedHeaders: signedHeaders, expiresIn: expiresIn, clientHeaders: clientHeaders)
    }

    /// A GET of `key`; with `downloadFilename`, S3 answers `Content-Disposition: attachment` with that name.
    public func presignedGetURL(
        for key: ObjectKey, expiresIn: Duration, downloadFilename: String?
    ) throws -> PresignedRequest {
        var query: [HTTPField] = []
        if let downloadFilename {
            query.append(
                HTTPField("response-content-disposition", ContentDisposition.attachment(filename: downloadFilename)))
        }
        return try presign(.get, key: key, query: query, signedHeaders: [], expiresIn: expiresIn, clientHeaders: [:])
    }

    /// A PUT of one part of a multipart upload.
    public func presignedUploadPartURL(
        for key: ObjectKey, uploadID: MultipartUploadID, partNumber: Int, expiresIn: Duration
    ) throws -> PresignedRequest {
        try ObjectStoreLimits.validate(partNumber: partNumber)
        let query = [HTTPField("partNumber", String(partNumber)), HTTPField("uploadId", uploadID.rawValue)]
        return try presign(.put, key: key, query: query, signedHeaders: [], expiresIn: expiresIn, clientHeaders: [:])
    }

    /// Presigns any request on `key`.
    ///
    /// - Parameters:
    ///   - query: extra query parameters (not encoded), signed with the rest.
    ///   - signedHeaders: headers the client must send with exactly these values.
    ///   - clientHeaders: what ``PresignedRequest/headers`` tells the client to send.
    public func presign(
        _ method: PresignedRequest.Method, key: ObjectKey, query: [HTTPField], signedHeaders: [HTTPField],
        expiresIn: Duration, clientHeaders: [String: String]
    ) throws -> PresignedRequest {
        let seconds = try ObjectStoreLimits.expirySeconds(expiresIn)
        let target = S3RequestTarget(
            endpoint: configuration.publicEndpoint ?? configuration.endpoint, bucket: configuration.bucket,
            key: key, query: query, pathStyle: configuration.usePathStyle)
        let now = clock()
        let presigned = signer.presign(
            target.sigV4Request(method: method.rawValue, headers: signedHeaders), expires: seconds, date: now)
        guard let url = URL(string: target.urlString(encodedQuery: presigned.queryString)) else {
            throw ObjectStorageError(.invalidArgument, "cannot form a URL for key \(key)")
        }
        let signedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return PresignedRequest(
            url: url, method: method, headers: clientHeaders, expiresAt: signedAt + TimeInterval(seconds))
    }
}
