import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import ObjectStorage

/// Where the integration tests find an S3 server that checks signatures (SeaweedFS from
/// `scripts/start-seaweedfs.sh`, whose default credentials these defaults match).
enum S3TestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let endpointText = environment["S3_TEST_ENDPOINT"] ?? "127.0.0.1:8333"
    static let accessKey = environment["S3_TEST_ACCESS_KEY"] ?? "storage-test-access"
    static let secretKey = environment["S3_TEST_SECRET_KEY"] ?? "storage-test-secret-key-0123456789"
    /// One bucket per test run, so runs never see each other's objects.
    static let bucket = "objectstorage-test-\(UInt32.random(in: 0...UInt32.max))"

    static let skipReason: Comment = """
        no S3 server answers at S3_TEST_ENDPOINT (default 127.0.0.1:8333); start one with scripts/start-seaweedfs.sh
        """

    /// Whether anything answers HTTP at the endpoint within two seconds.
    static func isReachable() async -> Bool {
        var request = HTTPClientRequest(url: "http://\(endpointText)/")
        request.method = .HEAD
        return (try? await HTTPClient.shared.execute(request, timeout: .seconds(2))) != nil
    }

    static func configuration(
        bucket: String = bucket, clockSkew: TimeInterval = 0, multipartThreshold: Int64 = 256 * 1024 * 1024
    ) throws -> S3Configuration {
        S3Configuration(
            endpoint: try S3Endpoint(hostAndPort: endpointText, useTLS: false),
            bucket: bucket,
            credentials: AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey),
            requestTimeout: .seconds(15),
            transferTimeout: .seconds(60),
            retryPolicy: RetryPolicy(
                maximumAttempts: 3, initialBackoff: .milliseconds(50), maximumBackoff: .seconds(1)),
            multipartUploadThreshold: multipartThreshold,
            multipartPartSize: 5 * 1024 * 1024)
    }

    /// A client on the shared HTTPClient (tests only: the application passes its own client).
    static func client(
        clock: @escaping @Sendable () -> Date = { Date() }, multipartThreshold: Int64 = 256 << 20
    ) throws -> S3Client {
        try S3Client(
            configuration: configuration(multipartThreshold: multipartThreshold), httpClient: .shared, clock: clock)
    }
}

/// Plain HTTP as a browser would send it: no credentials, just the presigned URL and its headers.
enum Browser {
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    static func send(
        _ presigned: PresignedRequest, body: [UInt8]? = nil, overridingHeaders: [String: String] = [:],
        url: URL? = nil
    ) async throws -> Response {
        var request = HTTPClientRequest(url: (url ?? presigned.url).absoluteString)
        request.method = .init(rawValue: presigned.method.rawValue)
        for (name, value) in presigned.headers.merging(overridingHeaders, uniquingKeysWith: { $1 }) {
            request.headers.add(name: name, value: value)
        }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Response(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Array(bytes.readableBytesView))
    }
}

@Suite(
    "S3 client against a real S3 server (SeaweedFS)", .serialized,
    .enabled(S3TestServer.skipReason) { await S3TestServer.isReachable() })
struct S3IntegrationTests {
    let client: S3Client

    init() async throws {
        client = try S3TestServer.client()
        // Idempotent: every test calls it, only the first creates the bucket.
        try await client.ensureBucket()
    }

    @Test("ensureBucket twice is fine; a HEAD of a missing key is nil")
    func bucketAndMissingHead() async throws {
        try await client.ensureBucket()
        #expect(try await client.head(ObjectKey("never/written.bin")) == nil)
    }

    @Test("presigned PUT via plain HTTP, then HEAD shows size and type, presigned GET returns the bytes")
    func presignedRoundTrip() async throws {
        let key = try ObjectKey("presigned/\(UUID().uuidString)/clip.mp4")
        let bytes = TestBytes.make(count: 70_000)
        let put = try client.presignedPutURL(
            for: key, contentType: "video/mp4", contentLength: Int64(bytes.count), expiresIn: .seconds(300))
        let putResponse = try await Browser.send(put, body: bytes)
        #expect(putResponse.status == 200)
        #expect(putResponse.header("ETag") != nil)

        let info = try #require(try await client.head(key))
        #expect(info.size == Int64(bytes.count))
        #expect(info.contentType == "video/mp4")
        #expect(info.etag == TestBytes.md5Hex(bytes))
        #expect(info.lastModified != nil)

        let get = try client.presignedGetURL(for: key, expiresIn: .seconds(300), downloadFilename: "Mon clip ü.mp4")
        let getResponse = try await Browser.send(get)
        #expect(getResponse.status == 200)
        #expect(getResponse.body == bytes)
        #expect(getResponse.header("Content-Disposition") == ContentDisposition.attachment(filename: "Mon clip ü.mp4"))
    }

    @Test("a PUT signed with a SHA-256: those bytes are stored and HEAD reports it; other bytes get BadDigest, nothing stored")
    func signedChecksum() async throws {
        let key = try ObjectKey("checksum/\(UUID().uuidString)/photo.jpg")
        let bytes = TestBytes.make(count: 90_000, seed: 5)
        let digest = try #require(Hex.decode(TestBytes.sha256(bytes)))
        var changed = bytes
        changed[45_000] ^= 0x01
        let refusedKey = try ObjectKey("checksum/\(UUID().uuidString)/changed.jpg")
        let refusedPut = try client.presignedPutURL(
            for: refusedKey, contentType: "image/jpeg", contentLength: Int64(bytes.count), sha256: digest,
            expiresIn: .seconds(300))
        #expect(refusedPut.headers["x-amz-checksum-sha256"] == Data(digest).base64EncodedString())
        let refused = try await Browser.send(refusedPut, body: changed)
        #expect(refused.status == 400)
        #expect(S3Error.fromResponse(status: refused.status, body: refused.body, requestID: nil).code == .badDigest)
        #expect(try await client.head(refusedKey) == nil)

        let put = try client.presignedPutURL(
            for: key, contentType: "image/jpeg", contentLength: Int64(bytes.count), sha256: digest,
            expiresIn: .seconds(300))
        #expect(try await Browser.send(put, body: bytes).status == 200)
        let info = try #require(try await client.head(key))
        #expect(info.sha256 == digest)
        #expect(info.size == Int64(bytes.count))

        // The header is signed: a client that leaves it out is refused too.
        let unsent = try ObjectKey("checksum/\(UUID().uuidString)/unsent.jpg")
        let unsentPut = try client.presignedPutURL(
            for: unsent, contentType: "image/jpeg", contentLength: nil, sha256: digest, expiresIn: .seconds(300))
        var stripped = unsentPut
        stripped.headers["x-amz-checksum-sha256"] = nil
        #expect(try await Browser.send(stripped, body: bytes).status == 403)
        #expect(try await client.head(unsent) == nil)
    }

    @Test("a tampered signature is refused with 403 SignatureDoesNotMatch")
    func tamperedSignature() async throws {
        let key = try ObjectKey("tamper/\(UUID().uuidString).txt")
        let put = try client.presignedPutURL(
            for: key, contentType: "text/plain", contentLength: nil, expiresIn: .seconds(60))
        var text = put.url.absoluteString
        let last = text.removeLast()
        text.append(last == "0" ? "1" : "0")
        let response = try await Browser.send(put, body: Array("hi".utf8), url: URL(string: text))
        #expect(response.status == 403)
        #expect(
            S3Error.fromResponse(status: response.status, body: response.body, requestID: nil).code
                == .signatureDoesNotMatch)
        #expect(try await client.head(key) == nil)
    }

    @Test("an expired presigned URL is refused with 403")
    func expiredURL() async throws {
        let key = try ObjectKey("expired/\(UUID().uuidString).txt")
        try await uploadSmallObject(key, bytes: Array("old news".utf8))
        // Signed two hours ago, valid for one minute.
        let pastClient = try S3TestServer.client(clock: { Date() - 7200 })
        let get = try pastClient.presignedGetURL(for: key, expiresIn: .seconds(60), downloadFilename: nil)
        let response = try await Browser.send(get)
        #expect(response.status == 403)
        #expect(S3Error.fromResponse(status: 403, body: response.body, requestID: nil).code == .accessDenied)
    }

    @Test("a PUT with another Content-Type than signed is refused")
    func wrongContentType() async throws {
        let key = try ObjectKey("type/\(UUID().uuidString).png")
        let put = try client.presignedPutURL(
            for: key, contentType: "image/png", contentLength: nil, expiresIn: .seconds(60))
        let response = try await Browser.send(put, body: [1, 2, 3], overridingHeaders: ["Content-Type": "text/html"])
        #expect(response.status == 403)
        #expect(try await client.head(key) == nil)
    }

    @Test("a PUT with another length than signed is refused")
    func wrongContentLength() async throws {
        let key = try ObjectKey("length/\(UUID().uuidString).bin")
        let put = try client.presignedPutURL(
            for: key, contentType: "application/octet-stream", contentLength: 10, expiresIn: .seconds(60))
        let response = try await Browser.send(put, body: Array(repeating: 7, count: 11))
        #expect(response.status == 403)
        #expect(try await client.head(key) == nil)
    }

    @Test("streaming upload and download of 20 MiB stay within bounded memory")
    func streamingLargeFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = directory.file("source.bin")
        let size = 20 * 1024 * 1024
        let digest = try TestBytes.writeFile(source, count: size)
        let key = try ObjectKey("large/\(UUID().uuidString)/stream.bin")
        // Warm up first, so one-time costs (thread pools starting, code paged in) do not count as growth.
        try await uploadSmallObject(key, bytes: TestBytes.make(count: 300_000))
        try await client.download(key, to: directory.file("warm-up.bin"))
        try FileManager.default.removeItem(at: directory.file("warm-up.bin"))

        let (uploaded, uploadGrowth) = try await HeapUsage.measurePeakGrowth {
            try await client.upload(from: source, to: key, contentType: "application/octet-stream")
        }
        #expect(uploaded.size == Int64(size))
        #expect(try await client.head(key)?.size == Int64(size))

        let destination = directory.file("downloaded.bin")
        let (_, downloadGrowth) = try await HeapUsage.measurePeakGrowth {
            try await client.download(key, to: destination)
        }
        #expect(try TestBytes.sha256(ofFile: destination) == digest)
        // Buffering the file would add at least its 20 MiB; streaming needs a few 256 KiB buffers.
        if let uploadGrowth, let downloadGrowth {
            #expect(uploadGrowth < 12 * 1024 * 1024, "upload grew resident memory by \(uploadGrowth) bytes")
            #expect(downloadGrowth < 12 * 1024 * 1024, "download grew resident memory by \(downloadGrowth) bytes")
        }
        #expect(directory.allFiles() == ["downloaded.bin", "source.bin"])  // no temporary file left behind
    }

    @Test("a file above the multipart threshold is uploaded in parts by the server")
    func serverSideMultipart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = directory.file("parts.bin")
        let digest = try TestBytes.writeFile(source, count: 11 * 1024 * 1024 + 123, seed: 3)
        let key = try ObjectKey("large/\(UUID().uuidString)/parts.bin")
        let partsClient = try S3TestServer.client(multipartThreshold: 8 * 1024 * 1024)
        let info = try await partsClient.upload(from: source, to: key, contentType: "application/x-test")
        #expect(info.etag?.hasSuffix("-3") == true)  // 5 + 5 + 1 MiB
        let head = try #require(try await client.head(key))
        #expect(head.size == 11 * 1024 * 1024 + 123)
        #expect(head.contentType == "application/x-test")
        try await client.download(key, to: directory.file("back.bin"))
        #expect(try TestBytes.sha256(ofFile: directory.file("back.bin")) == digest)
    }

    @Test("12 MiB multipart upload through presigned part URLs, with a part retried after ListParts")
    func presignedMultipart() async throws {
        let key = try ObjectKey("multipart/\(UUID().uuidString)/movie ü.mkv")
        let mebibyte = 1024 * 1024
        let parts = [
            TestBytes.make(count: 5 * mebibyte, seed: 1), TestBytes.make(count: 5 * mebibyte, seed: 2),
            TestBytes.make(count: 2 * mebibyte, seed: 3),
        ]
        let uploadID = try await client.createMultipartUpload(for: key, contentType: "video/x-matroska")

        func sendPart(_ number: Int) async throws -> String {
            let url = try client.presignedUploadPartURL(
                for: key, uploadID: uploadID, partNumber: number, expiresIn: .seconds(600))
            let response = try await Browser.send(url, body: parts[number - 1])
            #expect(response.status == 200)
            return try #require(response.header("ETag"))
        }

        let firstETag = try await sendPart(1)
        _ = try await sendPart(2)
        // The client lost track after part 2 (say, a reload): it asks which parts arrived, sends 2 again, then 3.
        let listed = try await client.listParts(for: key, uploadID: uploadID)
        #expect(listed.map(\.partNumber) == [1, 2])
        #expect(listed.map(\.size) == [Int64(5 * mebibyte), Int64(5 * mebibyte)])
        #expect(listed.first?.etag == firstETag.withoutETagQuotes)
        _ = try await sendPart(2)
        _ = try await sendPart(3)

        let finalParts = try await client.listParts(for: key, uploadID: uploadID)
        #expect(finalParts.map(\.partNumber) == [1, 2, 3])
        let etag = try await client.completeMultipartUpload(
            for: key, uploadID: uploadID,
            parts: finalParts.map { CompletedPart(partNumber: $0.partNumber, etag: $0.etag) })
        #expect(etag?.hasSuffix("-3") == true)

        let info = try #require(try await client.head(key))
        #expect(info.size == Int64(12 * mebibyte))
        #expect(info.contentType == "video/x-matroska")
        #expect(info.sha256 == nil, "a multipart object's checksum, if any, is not the content's SHA-256")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await client.download(key, to: directory.file("movie.mkv"))
        #expect(try TestBytes.sha256(ofFile: directory.file("movie.mkv")) == TestBytes.sha256(parts.flatMap { $0 }))
    }

    @Test("completing with a wrong ETag fails with a typed error")
    func completeWithWrongETag() async throws {
        let key = try ObjectKey("multipart/\(UUID().uuidString)/bad.bin")
        let uploadID = try await client.createMultipartUpload(for: key, contentType: "application/octet-stream")
        let url = try client.presignedUploadPartURL(
            for: key, uploadID: uploadID, partNumber: 1, expiresIn: .seconds(60))
        #expect(try await Browser.send(url, body: TestBytes.make(count: 1000)).status == 200)
        await #expect {
            try await client.completeMultipartUpload(
                for: key, uploadID: uploadID,
                parts: [CompletedPart(partNumber: 1, etag: "00000000000000000000000000000000")])
        } throws: { error in
            (error as? S3Error)?.code == .invalidPart
        }
        try await client.abortMultipartUpload(for: key, uploadID: uploadID)
    }

    @Test("abort discards the upload; aborting again is fine")
    func abortMultipart() async throws {
        let key = try ObjectKey("multipart/\(UUID().uuidString)/aborted.bin")
        let uploadID = try await client.createMultipartUpload(for: key, contentType: "application/octet-stream")
        let url = try client.presignedUploadPartURL(
            for: key, uploadID: uploadID, partNumber: 1, expiresIn: .seconds(60))
        #expect(try await Browser.send(url, body: TestBytes.make(count: 1000)).status == 200)
        try await client.abortMultipartUpload(for: key, uploadID: uploadID)
        await #expect {
            try await client.listParts(for: key, uploadID: uploadID)
        } throws: { error in
            (error as? S3Error)?.code == .noSuchUpload
        }
        try await client.abortMultipartUpload(for: key, uploadID: uploadID)
        #expect(try await client.head(key) == nil)
    }

    @Test("delete removes the object and is idempotent")
    func deleteIsIdempotent() async throws {
        let key = try ObjectKey("delete/\(UUID().uuidString).txt")
        try await uploadSmallObject(key, bytes: Array("bye".utf8))
        #expect(try await client.head(key) != nil)
        try await client.delete(key)
        #expect(try await client.head(key) == nil)
        try await client.delete(key)
        try await client.delete(ObjectKey("delete/never-existed.txt"))
    }

    @Test("an empty file round-trips")
    func emptyObject() async throws {
        let key = try ObjectKey("empty/\(UUID().uuidString)")
        try await uploadSmallObject(key, bytes: [])
        #expect(try await client.head(key)?.size == 0)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await client.download(key, to: directory.file("empty"))
        #expect(try Data(contentsOf: directory.file("empty")).isEmpty)
    }

    @Test("a missing key is a typed NoSuchKey error")
    func noSuchKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        await #expect {
            try await client.download(ObjectKey("missing/\(UUID().uuidString)"), to: directory.file("x"))
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.code == .noSuchKey && error.httpStatus == 404 && ObjectStorageError.isNotFound(error)
        }
        #expect(directory.allFiles().isEmpty)
    }

    @Test("an unknown bucket and wrong credentials give typed errors")
    func typedFailures() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let otherBucket = try S3Client(
            configuration: S3TestServer.configuration(bucket: "missing-\(UUID().uuidString.prefix(8).lowercased())"),
            httpClient: .shared)
        await #expect {
            try await otherBucket.download(ObjectKey("k"), to: directory.file("k"))
        } throws: { error in
            (error as? S3Error)?.code == .noSuchBucket
        }
        var configuration = try S3TestServer.configuration()
        configuration.credentials.secretAccessKey = "not-the-secret"
        let wrongSecret = try S3Client(configuration: configuration, httpClient: .shared)
        await #expect {
            try await wrongSecret.delete(ObjectKey("k"))
        } throws: { error in
            (error as? S3Error)?.code == .signatureDoesNotMatch
        }
    }

    @Test("CORS configuration is accepted")
    func cors() async throws {
        try await client.configureCORS(allowedOrigins: ["http://localhost:5173", "https://vault.example.com"])
    }

    @Test(
        "keys with spaces, unicode and reserved characters round-trip",
        arguments: [
            "dir with space/ümlaut ファイル.mp4", "r/a+b=c&d?e#f%g.txt", "r/quotes'and(parens)*!$@;,.txt",
            "r/~tilde-_.dots..txt",
        ])
    func specialKeys(_ name: String) async throws {
        let key = try ObjectKey("keys/\(UUID().uuidString)/\(name)")
        let bytes = Array("content of \(name)".utf8)

        let put = try client.presignedPutURL(
            for: key, contentType: "text/plain", contentLength: nil, expiresIn: .seconds(60))
        #expect(try await Browser.send(put, body: bytes).status == 200)
        #expect(try await client.head(key)?.size == Int64(bytes.count))
        let get = try client.presignedGetURL(for: key, expiresIn: .seconds(60), downloadFilename: nil)
        #expect(try await Browser.send(get).body == bytes)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await client.download(key, to: directory.file("copy"))
        #expect(try Array(Data(contentsOf: directory.file("copy"))) == bytes)
        try await client.delete(key)
        #expect(try await client.head(key) == nil)
    }

    /// Uploads `bytes` through the client's own streaming PUT.
    private func uploadSmallObject(_ key: ObjectKey, bytes: [UInt8]) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("small")
        try Data(bytes).write(to: file)
        try await client.upload(from: file, to: key, contentType: "text/plain")
    }
}
