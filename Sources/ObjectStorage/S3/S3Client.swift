import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// An ``ObjectStore`` backed by one S3 bucket (AWS, MinIO, SeaweedFS, …), over AsyncHTTPClient.
///
/// The client owns no resources: it borrows the `HTTPClient` it is given. Shut that client down
/// (`try await httpClient.shutdown()`) after the last call on every `S3Client` using it; nothing else needs
/// closing. Set the `HTTPClient`'s read timeout (`HTTPClient.Configuration.Timeout(read:)`): it is what bounds a
/// download that stalls mid-body, since the deadlines here stop at the response head.
public struct S3Client: ObjectStore {
    /// The settings the client was created with.
    public let configuration: S3Configuration

    public var publicOrigin: String {
        let target = S3RequestTarget(
            endpoint: configuration.publicEndpoint ?? configuration.endpoint, bucket: configuration.bucket, key: nil,
            pathStyle: configuration.usePathStyle)
        return "\(target.endpoint.scheme)://\(target.host)"
    }
    private let httpClient: HTTPClient
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private let signer: SigV4Signer
    private let presigner: S3Presigner

    /// - Parameters:
    ///   - configuration: server, bucket and credentials.
    ///   - httpClient: the client to send requests with; the caller keeps ownership and shuts it down.
    ///   - logger: receives one debug line per request and per retry.
    ///   - clock: the signing time source; tests pass a fixed date.
    public init(
        configuration: S3Configuration,
        httpClient: HTTPClient,
        logger: Logger = Logger(label: "ObjectStorage.S3Client"),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(ObjectStorageError) {
        try configuration.validate()
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.clock = clock
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.presigner = try S3Presigner(configuration: configuration, clock: clock)
    }

    // MARK: - Presigned requests (pure, see S3Presigner)

    /// A presigned PutObject; see ``S3Presigner/presignedPutURL(for:contentType:contentLength:sha256:expiresIn:)``.
    public func presignedPutURL(
        for key: ObjectKey, contentType: String, contentLength: Int64?, sha256: [UInt8]? = nil, expiresIn: Duration
    ) throws -> PresignedRequest {
        try presigner.presignedPutURL(
            for: key, contentType: contentType, contentLength: contentLength, sha256: sha256, expiresIn: expiresIn)
    }

    /// A presigned GetObject; see ``S3Presigner/presignedGetURL(for:expiresIn:downloadFilename:)``.
    public func presignedGetURL(
        for key: ObjectKey, expiresIn: Duration, downloadFilename: String?
    ) throws -> PresignedRequest {
        try presigner.presignedGetURL(for: key, expiresIn: expiresIn, downloadFilename: downloadFilename)
    }

    /// A presigned UploadPart; see ``S3Presigner/presignedUploadPartURL(for:uploadID:partNumber:expiresIn:)``.
    public func presignedUploadPartURL(
        for key: ObjectKey, uploadID: MultipartUploadID, partNumber: Int, expiresIn: Duration
    ) throws -> PresignedRequest {
        try presigner.presignedUploadPartURL(for: key, uploadID: uploadID, partNumber: partNumber, expiresIn: expiresIn)
    }

    // MARK: - Objects

    /// HeadObject; nil on 404.
    public func head(_ key: ObjectKey) async throws -> ObjectInfo? {
        do {
            // Checksum mode asks for the checksum stored with the object; servers that keep none simply omit it.
            let operation = S3Operation(
                "HeadObject", .head, key: key, headers: [HTTPField("x-amz-checksum-mode", "ENABLED")],
                idempotent: true)
            return try await perform(operation) { response in
                let headers = response.headers
                return ObjectInfo(
                    key: key,
                    size: headers.first(name: "content-length").flatMap { Int64($0) } ?? 0,
                    etag: headers.first(name: "etag")?.withoutETagQuotes,
                    contentType: headers.first(name: "content-type"),
                    lastModified: headers.first(name: "last-modified").flatMap(HTTPDate.parse),
                    sha256: Self.wholeObjectSHA256(
                        headers.first(name: "x-amz-checksum-sha256"), type: headers.first(name: "x-amz-checksum-type"))
                )
            }
        } catch let error as S3Error where error.httpStatus == 404 && error.code != .noSuchBucket {
            return nil
        }
    }

    /// The object's SHA-256 from HeadObject's checksum header: only a full-object checksum is the SHA-256 of the
    /// content. A multipart object's is a checksum of its parts' checksums (type `COMPOSITE`, or a `-N` suffix on
    /// servers that do not send the type) and is no use for comparing with a file's hash.
    static func wholeObjectSHA256(_ header: String?, type: String?) -> [UInt8]? {
        guard let header, type.map({ $0.uppercased() == "FULL_OBJECT" }) ?? true, !header.contains("-"),
            let bytes = Data(base64Encoded: header), bytes.count == 32
        else { return nil }
        return Array(bytes)
    }

    /// DeleteObject; a missing key is fine.
    public func delete(_ key: ObjectKey) async throws {
        do {
            try await perform(S3Operation("DeleteObject", .delete, key: key, idempotent: true)) { try await drain($0) }
        } catch let error as S3Error where error.code == .noSuchKey {
            // S3 itself answers 204 for a missing key; some compatible servers say 404. Either way: gone.
        }
    }

    /// GetObject streamed to a temporary file next to `fileURL`, renamed into place when complete.
    public func download(_ key: ObjectKey, to fileURL: URL) async throws {
        let destination = fileURL.path
        var operation = S3Operation("GetObject", .get, key: key, idempotent: true)
        operation.timeout = configuration.transferTimeout
        try await perform(operation) { response in
            // Written next to the destination and renamed at the end: a reader never sees half a file, and a
            // retry after a broken connection starts from a fresh temporary file.
            let writer = try await AtomicFileWriter.begin(destinationPath: destination)
            do {
                for try await chunk in response.body {
                    try await writer.write(chunk)
                }
                try await writer.commit()
            } catch {
                await writer.discard()
                throw error
            }
        }
    }

    @discardableResult
    /// PutObject streamed from the file (`UNSIGNED-PAYLOAD`), or a multipart upload above the threshold.
    public func upload(from fileURL: URL, to key: ObjectKey, contentType: String) async throws -> ObjectInfo {
        try ObjectStoreLimits.validate(contentType: contentType)
        let path = fileURL.path
        let size = try await BlockingIO.run { try LocalFile.openForReading(path).size() }
        if size > configuration.multipartUploadThreshold {
            return try await uploadInParts(path: path, size: size, to: key, contentType: contentType)
        }
        var operation = S3Operation(
            "PutObject", .put, key: key, headers: [HTTPField("content-type", contentType)], idempotent: true)
        operation.body = .file(path: path, offset: 0, length: size)
        operation.timeout = configuration.transferTimeout
        let etag = try await perform(operation) { response in
            try await drain(response)
            return response.headers.first(name: "etag")?.withoutETagQuotes
        }
        return ObjectInfo(key: key, size: size, etag: etag, contentType: contentType, lastModified: nil)
    }

    /// Uploads a large file as a multipart upload signed by this server; aborts the upload on failure.
    private func uploadInParts(
        path: String, size: Int64, to key: ObjectKey, contentType: String
    ) async throws -> ObjectInfo {
        let partSize = max(configuration.multipartPartSize, 5 * 1024 * 1024)
        let uploadID = try await createMultipartUpload(for: key, contentType: contentType)
        do {
            var completed: [CompletedPart] = []
            var offset: Int64 = 0
            var partNumber = 1
            while offset < size {
                let length = min(partSize, size - offset)
                var operation = S3Operation(
                    "UploadPart", .put, key: key,
                    query: [HTTPField("partNumber", String(partNumber)), HTTPField("uploadId", uploadID.rawValue)],
                    idempotent: true)
                operation.body = .file(path: path, offset: offset, length: length)
                operation.timeout = configuration.transferTimeout
                let etag = try await perform(operation) { response in
                    try await drain(response)
                    return response.headers.first(name: "etag")
                }
                guard let etag else { throw ObjectStorageError(.malformedResponse, "UploadPart answered no ETag") }
                completed.append(CompletedPart(partNumber: partNumber, etag: etag))
                offset += length
                partNumber += 1
            }
            let etag = try await completeMultipartUpload(for: key, uploadID: uploadID, parts: completed)
            return ObjectInfo(key: key, size: size, etag: etag, contentType: contentType, lastModified: nil)
        } catch {
            try? await abortMultipartUpload(for: key, uploadID: uploadID)
            throw error
        }
    }

    // MARK: - Multipart uploads

    /// CreateMultipartUpload (not retried: a retry would open a second upload).
    public func createMultipartUpload(for key: ObjectKey, contentType: String) async throws -> MultipartUploadID {
        try ObjectStoreLimits.validate(contentType: contentType)
        // Not retried: each attempt would open (and leak) another upload.
        let operation = S3Operation(
            "CreateMultipartUpload", .post, key: key, query: [HTTPField("uploads", "")],
            headers: [HTTPField("content-type", contentType)], idempotent: false)
        return try await perform(operation) { response in
            try S3Documents.uploadID(fromInitiateResult: try await collect(response))
        }
    }

    /// ListParts, following pagination; one entry per part number.
    public func listParts(for key: ObjectKey, uploadID: MultipartUploadID) async throws -> [UploadedPart] {
        // S3 lists each part number once, with its latest upload. Some compatible servers (SeaweedFS) list every
        // upload of a re-sent part; keeping the newest copy per number gives S3's answer either way.
        var newest: [Int: (part: UploadedPart, lastModified: Date?)] = [:]
        var marker: Int?
        while true {
            var query = [HTTPField("uploadId", uploadID.rawValue), HTTPField("max-parts", "1000")]
            if let marker { query.append(HTTPField("part-number-marker", String(marker))) }
            let operation = S3Operation("ListParts", .get, key: key, query: query, idempotent: true)
            let page = try await perform(operation) { response in
                try S3Documents.partsPage(fromListPartsResult: try await collect(response))
            }
            for (part, lastModified) in zip(page.parts, page.lastModified) {
                if let kept = newest[part.partNumber], let keptDate = kept.lastModified, let lastModified,
                    lastModified < keptDate
                {
                    continue
                }
                newest[part.partNumber] = (part, lastModified)
            }
            guard page.isTruncated else { break }
            guard let next = page.nextPartNumberMarker ?? page.parts.last?.partNumber, next != marker else {
                throw ObjectStorageError(.malformedResponse, "ListParts is truncated but gives no next marker")
            }
            marker = next
        }
        return newest.values.map(\.part).sorted { $0.partNumber < $1.partNumber }
    }

    @discardableResult
    /// CompleteMultipartUpload; an `<Error>` inside a 200 answer is thrown as ``S3Error``.
    public func completeMultipartUpload(
        for key: ObjectKey, uploadID: MultipartUploadID, parts: [CompletedPart]
    ) async throws -> String? {
        guard !parts.isEmpty else {
            throw ObjectStorageError(.invalidPart, "a multipart upload needs at least one part")
        }
        for part in parts { try ObjectStoreLimits.validate(partNumber: part.partNumber) }
        var operation = S3Operation(
            "CompleteMultipartUpload", .post, key: key, query: [HTTPField("uploadId", uploadID.rawValue)],
            headers: [HTTPField("content-type", "application/xml")], idempotent: false)
        operation.body = .bytes(Array(S3Documents.completeMultipartUpload(parts: parts).utf8))
        // S3 may take minutes joining large parts (sending spaces meanwhile), hence the transfer deadline.
        operation.timeout = configuration.transferTimeout
        return try await perform(operation) { response in
            try S3Documents.etag(
                fromCompleteResult: try await collect(response),
                requestID: response.headers.first(name: "x-amz-request-id"))
        }
    }

    /// AbortMultipartUpload; NoSuchUpload counts as done.
    public func abortMultipartUpload(for key: ObjectKey, uploadID: MultipartUploadID) async throws {
        let operation = S3Operation(
            "AbortMultipartUpload", .delete, key: key, query: [HTTPField("uploadId", uploadID.rawValue)],
            idempotent: true)
        do {
            try await perform(operation) { try await drain($0) }
        } catch let error as S3Error where error.code == .noSuchUpload {
            // Already aborted or completed: nothing left to discard.
        }
    }

    // MARK: - Bucket

    /// HeadBucket, then CreateBucket when it is missing.
    public func ensureBucket() async throws {
        do {
            try await perform(S3Operation("HeadBucket", .head, key: nil, idempotent: true)) { try await drain($0) }
            return
        } catch let error as S3Error where error.httpStatus == 404 {
            logger.info("creating bucket", metadata: ["bucket": "\(configuration.bucket)"])
        }
        var operation = S3Operation("CreateBucket", .put, key: nil, idempotent: true)
        if let body = S3Documents.createBucketConfiguration(region: configuration.region) {
            operation.body = .bytes(Array(body.utf8))
            operation.headers.append(HTTPField("content-type", "application/xml"))
        }
        do {
            try await perform(operation) { try await drain($0) }
        } catch let error as S3Error where error.code == .bucketAlreadyOwnedByYou {
            // Created concurrently by another instance of the app.
        }
    }

    /// PutBucketCors: PUT, GET and HEAD from `allowedOrigins`, any header, `ETag` exposed.
    public func configureCORS(allowedOrigins: [String]) async throws {
        guard !allowedOrigins.isEmpty else {
            throw ObjectStorageError(.invalidArgument, "CORS needs at least one allowed origin")
        }
        let body = Array(S3Documents.corsConfiguration(allowedOrigins: allowedOrigins).utf8)
        // PutBucketCors requires Content-MD5 (an integrity check, not security, hence Insecure.MD5).
        let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
        var operation = S3Operation(
            "PutBucketCors", .put, key: nil, query: [HTTPField("cors", "")],
            headers: [HTTPField("content-md5", md5), HTTPField("content-type", "application/xml")], idempotent: true)
        operation.body = .bytes(body)
        try await perform(operation) { try await drain($0) }
    }

    // MARK: - Sending

    /// One S3 call, described before signing so that every retry signs afresh.
    private struct S3Operation: Sendable {
        /// The methods S3 calls use (NIOHTTP1's type is not among this target's dependencies).
        enum Method: String, Sendable {
            case get = "GET"
            case head = "HEAD"
            case put = "PUT"
            case post = "POST"
            case delete = "DELETE"
        }

        enum Body: Sendable {
            case none
            /// A small in-memory body, signed with its SHA-256.
            case bytes([UInt8])
            /// A byte range of a local file, streamed and sent as `UNSIGNED-PAYLOAD`.
            case file(path: String, offset: Int64, length: Int64)
        }

        var name: String
        var method: Method
        var key: ObjectKey?
        var query: [HTTPField]
        /// Headers to send and sign.
        var headers: [HTTPField]
        var body: Body = .none
        /// Whether a failed attempt may be repeated (5xx and connection failures only).
        var idempotent: Bool
        var timeout: Duration?

        init(
            _ name: String, _ method: Method, key: ObjectKey?, query: [HTTPField] = [],
            headers: [HTTPField] = [], idempotent: Bool
        ) {
            self.name = name
            self.method = method
            self.key = key
            self.query = query
            self.headers = headers
            self.idempotent = idempotent
        }
    }

    /// Sends `operation`, retrying as the policy allows, and hands a 2xx response to `onSuccess`.
    ///
    /// Failures inside `onSuccess` (a connection dropping mid-download) are retried like failures before it.
    @discardableResult
    private func perform<Result: Sendable>(
        _ operation: S3Operation, onSuccess: (HTTPClientResponse) async throws -> Result
    ) async throws -> Result {
        let policy = configuration.retryPolicy
        var random = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            do {
                let request = try await makeRequest(operation)
                let timeout = operation.timeout ?? configuration.requestTimeout
                logger.debug(
                    "S3 request",
                    metadata: [
                        "operation": "\(operation.name)", "key": "\(operation.key?.rawValue ?? "")",
                        "attempt": "\(attempt)",
                    ])
                let response = try await httpClient.execute(request, timeout: TimeAmount(timeout), logger: logger)
                guard (200..<300).contains(response.status.code) else {
                    throw await error(from: response)
                }
                return try await onSuccess(response)
            } catch {
                let (failure, retryable) = classify(error)
                guard operation.idempotent, retryable, attempt < policy.maximumAttempts, !Task.isCancelled else {
                    throw failure
                }
                let delay = policy.backoff(beforeRetry: attempt, using: &random)
                logger.debug(
                    "retrying S3 request",
                    metadata: ["operation": "\(operation.name)", "error": "\(failure)", "delay": "\(delay)"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Builds and signs the HTTP request for one attempt.
    private func makeRequest(_ operation: S3Operation) async throws -> HTTPClientRequest {
        let target = S3RequestTarget(
            endpoint: configuration.endpoint, bucket: configuration.bucket, key: operation.key,
            query: operation.query, pathStyle: configuration.usePathStyle)
        var request = HTTPClientRequest(url: target.urlString())
        switch operation.method {
        case .get: request.method = .GET
        case .head: request.method = .HEAD
        case .put: request.method = .PUT
        case .post: request.method = .POST
        case .delete: request.method = .DELETE
        }

        let payload: PayloadSignature
        switch operation.body {
        case .none:
            payload = .empty
        case .bytes(let bytes):
            payload = .sha256(of: bytes)
            request.body = .bytes(ByteBuffer(bytes: bytes))
        case .file(let path, let offset, let length):
            payload = .unsigned
            let file = try await BlockingIO.run { try LocalFile.openForReading(path) }
            let chunks = FileChunkSequence(
                file: file, offset: offset, length: length, chunkSize: configuration.uploadChunkSize)
            request.body = .stream(chunks, length: .known(length))
        }

        let signed = signer.signHeaders(
            target.sigV4Request(method: operation.method.rawValue, headers: operation.headers),
            payload: payload, date: clock())
        request.headers.replaceOrAdd(name: "host", value: target.host)
        for header in operation.headers + signed.headers {
            request.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        return request
    }

    /// The ``S3Error`` an unsuccessful response describes (its body is read, up to 64 KiB).
    private func error(from response: HTTPClientResponse) async -> S3Error {
        let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
        return S3Error.fromResponse(
            status: Int(response.status.code), body: body.readableBytesView,
            requestID: response.headers.first(name: "x-amz-request-id"))
    }

    /// What to throw for `error` and whether another attempt may help.
    private func classify(_ error: any Error) -> (error: any Error, retryable: Bool) {
        switch error {
        case let error as S3Error:
            return (error, error.isRetryable)
        case let error as ObjectStorageError:
            return (error, false)
        case let error as LocalFileError:
            return (ObjectStorageError(.fileSystem, error.description), false)
        case is CancellationError:
            return (error, false)
        case let error as HTTPClientError where error == .deadlineExceeded:
            return (ObjectStorageError(.timedOut, "S3 request timed out"), true)
        case let error as HTTPClientError where error == .cancelled && Task.isCancelled:
            return (CancellationError(), false)
        default:
            // Refused, reset or dropped connections, TLS failures, read timeouts: all transport-level.
            return (ObjectStorageError(.transport, "S3 connection failed: \(error)"), true)
        }
    }

    /// Reads a small XML response body (at most 4 MiB: a full ListParts page is well under that).
    private func collect(_ response: HTTPClientResponse) async throws -> ByteBufferView {
        try await response.body.collect(upTo: 4 * 1024 * 1024).readableBytesView
    }

    /// Consumes an unneeded body so the connection can be reused.
    private func drain(_ response: HTTPClientResponse) async throws {
        for try await _ in response.body {}
    }
}
