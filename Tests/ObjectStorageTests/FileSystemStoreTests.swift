import Foundation
import NIOCore
import Testing

@testable import ObjectStorage

/// A filesystem store in a fresh temporary folder with a controllable clock.
struct FileSystemFixture {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: FileSystemObjectStore

    init(maximumObjectSize: Int64 = 1 << 30, chunkSize: Int = 64 * 1024) async throws {
        directory = try TemporaryDirectory("fs-store")
        store = try FileSystemObjectStore(
            configuration: .init(
                rootDirectory: directory.url.appendingPathComponent("root"),
                publicBaseURL: URL(string: "https://vault.example.com/")!,
                signingKey: Array("0123456789abcdef0123456789abcdef-test-key".utf8),
                maximumObjectSize: maximumObjectSize,
                chunkSize: chunkSize),
            clock: clock.function)
        try await store.ensureBucket()
    }

    /// Splits a presigned URL into what an HTTP server sees: raw path and raw query.
    static func pathAndQuery(_ request: PresignedRequest) -> (path: String, query: String?) {
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)
        return (components?.percentEncodedPath ?? "", components?.percentEncodedQuery)
    }

    func authorize(
        _ request: PresignedRequest, method: String? = nil, contentType: String? = nil,
        query: String? = nil, path: String? = nil
    ) throws(SignedURLError) -> SignedOperation {
        let parts = Self.pathAndQuery(request)
        return try store.authorize(
            method: method ?? request.method.rawValue, path: path ?? parts.path, query: query ?? parts.query,
            contentType: contentType ?? request.headers["Content-Type"])
    }

    /// Files under the store's root, relative to it.
    func files() -> [String] {
        directory.allFiles().map { String($0.dropFirst("root/".count)) }
    }
}

@Suite("Filesystem store: signed URLs")
struct FileSystemSignedURLTests {
    @Test("a presigned PUT verifies and says what it allows")
    func goodPut() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("media/ümlaut ファイル+=&?#%.mp4")
        let request = try fixture.store.presignedPutURL(
            for: key, contentType: "video/mp4", contentLength: 1234, expiresIn: .seconds(600))
        #expect(
            request.url.absoluteString.hasPrefix(
                "https://vault.example.com/storage/media/%C3%BCmlaut%20%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB"
                    + "%2B%3D%26%3F%23%25.mp4?method=PUT&expires="
            ))
        #expect(request.headers == ["Content-Type": "video/mp4"])
        #expect(request.expiresAt == fixture.clock.now + 600)
        #expect(
            try fixture.authorize(request)
                == .putObject(key: key, contentType: "video/mp4", maximumSize: 1234, sha256: nil))
    }

    @Test("a presigned GET allows GET and HEAD and carries the download name")
    func goodGet() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("docs/report.pdf")
        let request = try fixture.store.presignedGetURL(
            for: key, expiresIn: .seconds(60), downloadFilename: "Résumé.pdf")
        #expect(try fixture.authorize(request) == .getObject(key: key, downloadFilename: "Résumé.pdf"))
        #expect(try fixture.authorize(request, method: "HEAD") == .getObject(key: key, downloadFilename: "Résumé.pdf"))
    }

    @Test("tampering with the path, any field or the signature is a bad signature")
    func tampered() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let request = try fixture.store.presignedPutURL(
            for: ObjectKey("a/b.bin"), contentType: "application/octet-stream", contentLength: 10,
            expiresIn: .seconds(60))
        let (path, query) = FileSystemFixture.pathAndQuery(request)
        let query1 = try #require(query)
        let tamperings = [
            (path.replacingOccurrences(of: "b.bin", with: "c.bin"), query1),
            (path, query1.replacingOccurrences(of: "max=10", with: "max=1000000")),
            (path, query1.replacingOccurrences(of: "expires=", with: "expires=9")),
            (path, String(query1.dropLast()) + (query1.hasSuffix("0") ? "1" : "0")),
            (path, query1 + "&dl=x.bin"),
        ]
        for (tamperedPath, tamperedQuery) in tamperings {
            #expect(throws: SignedURLError.badSignature) {
                try fixture.authorize(request, query: tamperedQuery, path: tamperedPath)
            }
        }
        // Another store with another key does not accept the URL either.
        let other = try FileSystemObjectStore(
            configuration: .init(
                rootDirectory: fixture.directory.url, publicBaseURL: URL(string: "https://vault.example.com")!,
                signingKey: Array(repeating: 1, count: 32)),
            clock: fixture.clock.function)
        #expect(throws: SignedURLError.badSignature) {
            try other.authorize(method: "PUT", path: path, query: query, contentType: "application/octet-stream")
        }
    }

    @Test("expiry follows the injected clock")
    func expired() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let request = try fixture.store.presignedGetURL(
            for: ObjectKey("k"), expiresIn: .seconds(60), downloadFilename: nil)
        fixture.clock.advance(by: 60)
        _ = try fixture.authorize(request)
        fixture.clock.advance(by: 1)
        #expect(throws: SignedURLError.expired) { try fixture.authorize(request) }
        #expect(SignedURLError.expired.httpStatus == 403)
    }

    @Test("the wrong method is refused")
    func wrongMethod() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let get = try fixture.store.presignedGetURL(for: ObjectKey("k"), expiresIn: .seconds(60), downloadFilename: nil)
        #expect(throws: SignedURLError.wrongMethod) { try fixture.authorize(get, method: "PUT") }
        #expect(throws: SignedURLError.wrongMethod) { try fixture.authorize(get, method: "DELETE") }
        let put = try fixture.store.presignedPutURL(
            for: ObjectKey("k"), contentType: "text/plain", contentLength: nil, expiresIn: .seconds(60))
        #expect(throws: SignedURLError.wrongMethod) { try fixture.authorize(put, method: "GET") }
    }

    @Test("a PUT with another content type is refused")
    func wrongContentType() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let put = try fixture.store.presignedPutURL(
            for: ObjectKey("k.png"), contentType: "image/png", contentLength: nil, expiresIn: .seconds(60))
        #expect(throws: SignedURLError.wrongContentType) { try fixture.authorize(put, contentType: "text/html") }
        #expect(throws: SignedURLError.wrongContentType) {
            try fixture.store.authorize(
                method: "PUT", path: FileSystemFixture.pathAndQuery(put).path,
                query: FileSystemFixture.pathAndQuery(put).query, contentType: nil)
        }
    }

    @Test("part URLs carry upload id and part number; parts have no content-type check")
    func partURL() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("big/file.bin")
        let uploadID = try await fixture.store.createMultipartUpload(for: key, contentType: "application/octet-stream")
        let request = try fixture.store.presignedUploadPartURL(
            for: key, uploadID: uploadID, partNumber: 7, expiresIn: .seconds(60))
        #expect(
            try fixture.authorize(request, contentType: "whatever/else")
                == .putPart(key: key, uploadID: uploadID, partNumber: 7, maximumSize: 5 * 1024 * 1024 * 1024))
    }

    @Test(
        "malformed requests are refused before any signature check",
        arguments: [
            ("/other/k", "method=GET&expires=1&sig=SIG"),
            ("/storage/k", "expires=1&sig=SIG"),
            ("/storage/k", "method=GET&expires=1"),
            ("/storage/k", "method=GET&expires=1&sig=zz"),
            ("/storage/k", "method=GET&method=GET&expires=99999999999&sig=SIG"),
            ("/storage/..%2F..%2Fetc%2Fpasswd", "method=GET&expires=1&sig=SIG"),
            ("/storage/a/../../b", "method=GET&expires=1&sig=SIG"),
            ("/storage/a%00b", "method=GET&expires=1&sig=SIG"),
            ("/storage/a%5Cb", "method=GET&expires=1&sig=SIG"),
            ("/storage//etc/passwd", "method=GET&expires=1&sig=SIG"),
            ("/storage/a%2", "method=GET&expires=1&sig=SIG"),
            ("/storage/k", "method=GET&expires=1&dl=a%0Ab&sig=SIG"),
        ])
    func malformed(path: String, query: String) async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        // A well-formed (wrong) signature, so only the property under test can make the request malformed.
        let query = query.replacingOccurrences(of: "SIG", with: String(repeating: "0", count: 64))
        #expect(throws: SignedURLError.malformed) {
            try fixture.store.authorize(method: "GET", path: path, query: query, contentType: nil)
        }
    }
}

@Suite("Filesystem store: keys")
struct ObjectKeyTests {
    @Test(
        "keys that could leave the folder are refused",
        arguments: [
            "", "/etc/passwd", "../secret", "a/../../b", "a/./b", ".", "..", "a//b", "a/", "a\\b",
            "a\u{0}b", "line\nbreak", "tab\tkey", String(repeating: "x", count: 1025),
        ])
    func refused(_ candidate: String) {
        #expect(throws: ObjectStorageError.invalidKey) { try ObjectKey(candidate) }
    }

    @Test(
        "ordinary keys, including unicode and reserved characters, are accepted",
        arguments: ["a", "media/2026/clip.mp4", "ümlaut ファイル.mp4", "a+b=c&d?e#f%g", "...", "a/.hidden", "x..y"])
    func accepted(_ candidate: String) throws {
        #expect(try ObjectKey(candidate).rawValue == candidate)
    }

    @Test("decoding JSON validates too")
    func decoding() {
        #expect(throws: ObjectStorageError.invalidKey) {
            try JSONDecoder().decode(ObjectKey.self, from: Data("\"../x\"".utf8))
        }
    }
}

@Suite("Filesystem store: objects")
struct FileSystemObjectTests {
    @Test("write, head, read back, delete (idempotent) removes object and metadata")
    func lifecycle() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("photos/ümlaut ファイル.jpg")
        let bytes = TestBytes.make(count: 200_000)
        let written = try await fixture.store.writeObject(
            ChunkSequence(bytes, chunkSize: 10_000), to: key, contentType: "image/jpeg", maximumSize: 1 << 20)
        #expect(written.size == 200_000)
        #expect(written.etag == TestBytes.md5Hex(bytes))

        let info = try #require(try await fixture.store.head(key))
        #expect(info.size == 200_000)
        #expect(info.contentType == "image/jpeg")
        #expect(info.etag == TestBytes.md5Hex(bytes))
        #expect(info.lastModified != nil)

        let read = try await fixture.store.read(key)
        #expect(read.status == 200)
        #expect(try await read.body.collectBytes() == bytes)
        #expect(read.headers.contains(HTTPField("Content-Length", "200000")))
        #expect(read.headers.contains(HTTPField("ETag", "\"\(TestBytes.md5Hex(bytes))\"")))
        #expect(fixture.files() == ["metadata/photos/ümlaut ファイル.jpg.json", "objects/photos/ümlaut ファイル.jpg"])

        try await fixture.store.delete(key)
        #expect(try await fixture.store.head(key) == nil)
        #expect(fixture.files().isEmpty)
        // Emptied folders are pruned, the store's own top-level folders stay.
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory.url.path + "/root/objects") == [])
        try await fixture.store.delete(key)
        await #expect(throws: ObjectStorageError.objectNotFound) { try await fixture.store.read(key) }
    }

    @Test("a large upload in thousands of uneven chunks is written whole, in order, with the right ETag")
    func largeUploadInManySmallChunks() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("videos/long.mp4")
        // 9 MiB in chunks of 1 to 3,000 bytes: more chunks per batch than one writev call takes, and batches of
        // 4 MiB that end mid-chunk.
        let bytes = TestBytes.make(count: 9 << 20)
        var chunks: [[UInt8]] = []
        var offset = 0
        var size = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            chunks.append(Array(bytes[offset..<end]))
            offset = end
            size = size % 3000 + 7
        }
        #expect(chunks.count > 4096)
        let written = try await fixture.store.writeObject(
            ChunkSequence(chunks), to: key, contentType: "video/mp4", maximumSize: 1 << 30)
        #expect(written.size == Int64(bytes.count))
        #expect(written.etag == TestBytes.md5Hex(bytes))
        #expect(try await fixture.store.read(key).body.collectBytes() == bytes)
    }

    @Test("a body failing while a batch is being written leaves no temporary file")
    func failureWithBatchInFlight() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("videos/broken.mp4")
        struct Broken: Error {}
        let failing = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            for _ in 0..<5 { continuation.yield(ByteBuffer(bytes: TestBytes.make(count: 1 << 20))) }
            continuation.finish(throwing: Broken())
        }
        await #expect(throws: Broken.self) {
            try await fixture.store.writeObject(failing, to: key, contentType: "video/mp4", maximumSize: 1 << 30)
        }
        #expect(try await fixture.store.head(key) == nil)
        #expect(fixture.files().isEmpty)
    }

    @Test("an empty object is stored and read back")
    func emptyObject() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("empty")
        let info = try await fixture.store.writeObject(ChunkSequence([]), to: key, contentType: "a/b", maximumSize: 0)
        #expect(info.size == 0)
        #expect(try await fixture.store.read(key).body.collectBytes().isEmpty)
        await #expect(throws: RangeNotSatisfiable(objectSize: 0)) {
            try await fixture.store.read(key, rangeHeader: "bytes=0-")
        }
    }

    @Test("an upload over its size cap fails and leaves no temporary file")
    func sizeCap() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("capped/file.bin")
        await #expect(throws: ObjectStorageError.entityTooLarge) {
            try await fixture.store.writeObject(
                ChunkSequence(TestBytes.make(count: 5000), chunkSize: 1000), to: key, contentType: "a/b",
                maximumSize: 4999)
        }
        #expect(try await fixture.store.head(key) == nil)
        #expect(fixture.files().isEmpty)

        // Exactly at the cap is fine.
        try await fixture.store.writeObject(
            ChunkSequence(TestBytes.make(count: 5000), chunkSize: 1000), to: key, contentType: "a/b", maximumSize: 5000)
        #expect(try await fixture.store.head(key)?.size == 5000)
    }

    @Test("a failing body stream leaves the previous object untouched and no temporary file")
    func failedStream() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("doc.txt")
        try await fixture.store.writeObject(
            ChunkSequence([Array("v1".utf8)]), to: key, contentType: "text/plain",
            maximumSize: 100)
        struct Broken: Error {}
        let failing = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            continuation.yield(ByteBuffer(string: "partial v2"))
            continuation.finish(throwing: Broken())
        }
        await #expect(throws: Broken.self) {
            try await fixture.store.writeObject(failing, to: key, contentType: "text/html", maximumSize: 100)
        }
        let read = try await fixture.store.read(key)
        #expect(try await read.body.collectBytes() == Array("v1".utf8))
        #expect(read.info.contentType == "text/plain")
        #expect(fixture.files() == ["metadata/doc.txt.json", "objects/doc.txt"])
    }

    @Test("readers see the old object until the new one is renamed into place")
    func atomicReplace() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("atomic/object.bin")
        let old = TestBytes.make(count: 50_000, seed: 1)
        let new = TestBytes.make(count: 80_000, seed: 2)
        try await fixture.store.writeObject(ChunkSequence([old]), to: key, contentType: "a/b", maximumSize: 1 << 20)

        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let writer = Task { [store = fixture.store] in
            try await store.writeObject(stream, to: key, contentType: "a/b", maximumSize: 1 << 20)
        }
        continuation.yield(ByteBuffer(bytes: new[0..<40_000]))
        // Wait until the first half reached the temporary file.
        for _ in 0..<500 where !fixture.files().contains(where: { $0.hasSuffix(".partial") }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(fixture.files().contains { $0.hasPrefix("objects/atomic/.object.bin.") && $0.hasSuffix(".partial") })
        #expect(try await fixture.store.read(key).body.collectBytes() == old)

        continuation.yield(ByteBuffer(bytes: new[40_000...]))
        continuation.finish()
        _ = try await writer.value
        #expect(try await fixture.store.read(key).body.collectBytes() == new)
        #expect(!fixture.files().contains { $0.hasSuffix(".partial") })
    }

    @Test("an open read keeps streaming the version it opened, even if replaced meanwhile")
    func readIsSnapshot() async throws {
        let fixture = try await FileSystemFixture(chunkSize: 1000)
        defer { fixture.directory.remove() }
        let key = try ObjectKey("snapshot.bin")
        let old = TestBytes.make(count: 10_000, seed: 1)
        try await fixture.store.writeObject(ChunkSequence([old]), to: key, contentType: "a/b", maximumSize: 1 << 20)
        let read = try await fixture.store.read(key)
        try await fixture.store.writeObject(
            ChunkSequence([TestBytes.make(count: 20_000, seed: 2)]), to: key, contentType: "a/b", maximumSize: 1 << 20)
        #expect(try await read.body.collectBytes() == old)
    }

    @Test("upload from and download to files, streamed in chunks")
    func fileCopies() async throws {
        let fixture = try await FileSystemFixture(chunkSize: 4096)
        defer { fixture.directory.remove() }
        let source = fixture.directory.file("source.bin")
        let digest = try TestBytes.writeFile(source, count: 1_000_003)
        let key = try ObjectKey("copies/file.bin")
        let info = try await fixture.store.upload(from: source, to: key, contentType: "application/x-test")
        #expect(info.size == 1_000_003)
        let destination = fixture.directory.file("back.bin")
        try await fixture.store.download(key, to: destination)
        #expect(try TestBytes.sha256(ofFile: destination) == digest)
        await #expect(throws: ObjectStorageError.objectNotFound) {
            try await fixture.store.download(ObjectKey("copies/missing"), to: fixture.directory.file("x"))
        }
    }

    @Test("a key cannot be both an object and a folder; the error is typed")
    func objectFolderConflict() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        try await fixture.store.writeObject(
            ChunkSequence([[1]]), to: ObjectKey("a"), contentType: "a/b", maximumSize: 10)
        await #expect(throws: ObjectStorageError.fileSystem) {
            try await fixture.store.writeObject(
                ChunkSequence([[2]]), to: ObjectKey("a/b"), contentType: "a/b", maximumSize: 10)
        }
        #expect(try await fixture.store.head(ObjectKey("a/b")) == nil)
        try await fixture.store.delete(ObjectKey("a/b"))
    }
}

@Suite("Filesystem store: ranges")
struct FileSystemRangeTests {
    @Test(
        "Range header forms",
        arguments: [
            ("bytes=0-9", ByteRange(offset: 0, length: 10)),
            ("bytes=10-", ByteRange(offset: 10, length: 90)),
            ("bytes=-5", ByteRange(offset: 95, length: 5)),
            ("bytes=-500", ByteRange(offset: 0, length: 100)),
            ("bytes=90-1000", ByteRange(offset: 90, length: 10)),
            ("Bytes= 5-5 ", ByteRange(offset: 5, length: 1)),
        ])
    func parses(header: String, expected: ByteRange) throws {
        #expect(try ByteRange.parse(rangeHeader: header, objectSize: 100) == expected)
    }

    @Test(
        "absent, foreign, multiple or malformed ranges mean the whole object",
        arguments: [nil, "items=0-1", "bytes=0-1,5-6", "bytes=abc", "bytes=5-2", "bytes=-", "bytes=+1-2", "bytes=1"])
    func ignored(header: String?) throws {
        #expect(try ByteRange.parse(rangeHeader: header, objectSize: 100) == nil)
    }

    @Test(
        "unsatisfiable ranges are a typed error carrying the size",
        arguments: [("bytes=100-", 100), ("bytes=200-300", 100), ("bytes=-0", 100), ("bytes=-1", 0), ("bytes=0-", 0)])
    func unsatisfiable(header: String, size: Int64) {
        #expect(throws: RangeNotSatisfiable(objectSize: size)) {
            try ByteRange.parse(rangeHeader: header, objectSize: size)
        }
        #expect(RangeNotSatisfiable(objectSize: size).contentRange == "bytes */\(size)")
    }

    @Test("reading a range streams exactly those bytes with 206 headers")
    func rangeRead() async throws {
        let fixture = try await FileSystemFixture(chunkSize: 1000)
        defer { fixture.directory.remove() }
        let key = try ObjectKey("video.mp4")
        let bytes = TestBytes.make(count: 10_000)
        try await fixture.store.writeObject(
            ChunkSequence([bytes]), to: key, contentType: "video/mp4", maximumSize: 1 << 20)

        let middle = try await fixture.store.read(key, rangeHeader: "bytes=1500-4499", downloadFilename: "clip.mp4")
        #expect(middle.status == 206)
        #expect(middle.range == ByteRange(offset: 1500, length: 3000))
        #expect(middle.headers.contains(HTTPField("Content-Range", "bytes 1500-4499/10000")))
        #expect(middle.headers.contains(HTTPField("Content-Length", "3000")))
        #expect(
            middle.headers.contains(
                HTTPField("Content-Disposition", ContentDisposition.attachment(filename: "clip.mp4"))))
        #expect(try await middle.body.collectBytes() == Array(bytes[1500..<4500]))

        let tail = try await fixture.store.read(key, rangeHeader: "bytes=-10")
        #expect(try await tail.body.collectBytes() == Array(bytes[9990...]))
        let open = try await fixture.store.read(key, rangeHeader: "bytes=9000-")
        #expect(try await open.body.collectBytes() == Array(bytes[9000...]))

        await #expect(throws: RangeNotSatisfiable(objectSize: 10_000)) {
            try await fixture.store.read(key, rangeHeader: "bytes=10000-")
        }
    }
}

@Suite("Filesystem store: multipart uploads")
struct FileSystemMultipartTests {
    @Test("parts arrive out of order and twice; complete joins them in order and removes the staging folder")
    func complete() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("uploads/movie.mkv")
        let uploadID = try await fixture.store.createMultipartUpload(for: key, contentType: "video/x-matroska")
        let parts = (1...3).map { TestBytes.make(count: 30_000 + $0, seed: UInt8($0)) }

        for number in [3, 1, 2, 2] {
            let part = try await fixture.store.writePart(
                ChunkSequence(parts[number - 1], chunkSize: 7000), for: key, uploadID: uploadID, partNumber: number,
                maximumSize: 1 << 20)
            #expect(part.etag == TestBytes.md5Hex(parts[number - 1]))
        }
        let listed = try await fixture.store.listParts(for: key, uploadID: uploadID)
        #expect(listed.map(\.partNumber) == [1, 2, 3])
        #expect(listed.map(\.size) == [30_001, 30_002, 30_003])

        await #expect(throws: ObjectStorageError.invalidPart) {
            try await fixture.store.completeMultipartUpload(
                for: key, uploadID: uploadID, parts: [CompletedPart(partNumber: 1, etag: "ffff")])
        }
        await #expect(throws: ObjectStorageError.invalidPart) {
            try await fixture.store.completeMultipartUpload(
                for: key, uploadID: uploadID,
                parts: listed.reversed().map { CompletedPart(partNumber: $0.partNumber, etag: $0.etag) })
        }
        let etag = try await fixture.store.completeMultipartUpload(
            for: key, uploadID: uploadID,
            parts: listed.map { CompletedPart(partNumber: $0.partNumber, etag: "\"\($0.etag)\"") })
        #expect(etag?.hasSuffix("-3") == true)

        let info = try #require(try await fixture.store.head(key))
        #expect(info.contentType == "video/x-matroska")
        #expect(info.etag == etag)
        // Hashed while the parts were joined: the whole object's SHA-256, which S3 cannot tell for multipart objects.
        #expect(info.sha256.map { Hex.encode($0) } == TestBytes.sha256(parts.flatMap { $0 }))
        #expect(try await fixture.store.read(key).body.collectBytes() == parts.flatMap { $0 })
        #expect(fixture.files() == ["metadata/uploads/movie.mkv.json", "objects/uploads/movie.mkv"])
        await #expect(throws: ObjectStorageError.uploadNotFound) {
            try await fixture.store.listParts(for: key, uploadID: uploadID)
        }
    }

    @Test("abort removes the staging folder and is idempotent; parts are size-capped")
    func abort() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("uploads/aborted.bin")
        let uploadID = try await fixture.store.createMultipartUpload(for: key, contentType: "application/octet-stream")
        try await fixture.store.writePart(
            ChunkSequence([TestBytes.make(count: 1000)]), for: key, uploadID: uploadID, partNumber: 1, maximumSize: 1000
        )
        await #expect(throws: ObjectStorageError.entityTooLarge) {
            try await fixture.store.writePart(
                ChunkSequence([TestBytes.make(count: 1001)]), for: key, uploadID: uploadID, partNumber: 2,
                maximumSize: 1000)
        }
        #expect(try await fixture.store.listParts(for: key, uploadID: uploadID).map(\.partNumber) == [1])

        await #expect(throws: ObjectStorageError.uploadNotFound) {
            try await fixture.store.abortMultipartUpload(for: ObjectKey("other/key"), uploadID: uploadID)
        }
        try await fixture.store.abortMultipartUpload(for: key, uploadID: uploadID)
        #expect(fixture.files().isEmpty)
        try await fixture.store.abortMultipartUpload(for: key, uploadID: uploadID)
        await #expect(throws: ObjectStorageError.uploadNotFound) {
            try await fixture.store.writePart(
                ChunkSequence([[1]]), for: key, uploadID: uploadID, partNumber: 1, maximumSize: 10)
        }
    }

    @Test("upload ids that are not ours never reach the file system")
    func foreignUploadIDs() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("k")
        for id in ["../../objects", "", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcdef"] {
            await #expect(throws: ObjectStorageError.uploadNotFound) {
                try await fixture.store.listParts(for: key, uploadID: MultipartUploadID(id))
            }
            try await fixture.store.abortMultipartUpload(for: key, uploadID: MultipartUploadID(id))
        }
    }
}

@Suite("Filesystem store: checksums")
struct FileSystemChecksumTests {
    static func digest(_ bytes: [UInt8]) throws -> [UInt8] { try #require(Hex.decode(TestBytes.sha256(bytes))) }

    @Test("a URL signed with a SHA-256 carries it; dropping, changing or re-spelling it breaks the URL")
    func signedChecksum() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("photos/a.jpg")
        let digest = try Self.digest(Array("photo".utf8))
        let request = try fixture.store.presignedPutURL(
            for: key, contentType: "image/jpeg", contentLength: 5, sha256: digest, expiresIn: .seconds(60))
        #expect(request.headers == ["Content-Type": "image/jpeg"], "the URL carries it: nothing more to send")
        #expect(
            try fixture.authorize(request)
                == .putObject(key: key, contentType: "image/jpeg", maximumSize: 5, sha256: digest))
        let query = try #require(FileSystemFixture.pathAndQuery(request).query)
        let hex = Hex.encode(digest)
        let other = TestBytes.sha256(Array("other".utf8))
        let dropped = query.split(separator: "&").filter { !$0.hasPrefix("sha256=") }.joined(separator: "&")
        #expect(throws: SignedURLError.badSignature) { try fixture.authorize(request, query: dropped) }
        #expect(throws: SignedURLError.badSignature) {
            try fixture.authorize(request, query: query.replacingOccurrences(of: hex, with: other))
        }
        #expect(throws: SignedURLError.malformed) {
            try fixture.authorize(request, query: query.replacingOccurrences(of: hex, with: hex.uppercased()))
        }
        #expect(throws: SignedURLError.malformed) {
            try fixture.authorize(request, query: query.replacingOccurrences(of: hex, with: String(hex.dropLast(2))))
        }
        #expect(throws: ObjectStorageError.invalidArgument) {
            try fixture.store.presignedPutURL(
                for: key, contentType: "image/jpeg", contentLength: 5, sha256: [1, 2, 3], expiresIn: .seconds(60))
        }
    }

    @Test("the SHA-256 is computed while writing: kept for HEAD, and a body with another one is refused, storing nothing")
    func checkedWhileWriting() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("photos/b.jpg")
        let original = TestBytes.make(count: 300_000, seed: 4)
        let stored = try await fixture.store.writeObject(
            ChunkSequence(original, chunkSize: 7000), to: key, contentType: "image/jpeg", maximumSize: 1 << 20,
            expectedSHA256: try Self.digest(original))
        #expect(stored.sha256 == (try Self.digest(original)))
        #expect(try await fixture.store.head(key)?.sha256 == (try Self.digest(original)))
        let filesBefore = fixture.files()

        // Bytes changed on the way: refused at the end of the body, before anything replaces the stored object.
        var changed = original
        changed[150_000] ^= 0x01
        await #expect(throws: ObjectStorageError.badDigest) {
            try await fixture.store.writeObject(
                ChunkSequence(changed, chunkSize: 7000), to: key, contentType: "image/jpeg", maximumSize: 1 << 20,
                expectedSHA256: try Self.digest(original))
        }
        #expect(fixture.files() == filesBefore, "no temporary file is left behind")
        #expect(try await fixture.store.read(key).body.collectBytes() == original)

        // Without an expectation every write still records what it stored.
        let plain = try ObjectKey("photos/c.jpg")
        try await fixture.store.writeObject(
            ChunkSequence(changed, chunkSize: 7000), to: plain, contentType: "image/jpeg", maximumSize: 1 << 20)
        #expect(try await fixture.store.head(plain)?.sha256 == (try Self.digest(changed)))
    }

    @Test("objects stored before SHA-256s were recorded have none")
    func olderMetadata() async throws {
        let fixture = try await FileSystemFixture()
        defer { fixture.directory.remove() }
        let key = try ObjectKey("old/d.png")
        try await fixture.store.writeObject(
            ChunkSequence([1, 2, 3], chunkSize: 3), to: key, contentType: "image/png", maximumSize: 10)
        let metadata = fixture.directory.url.appendingPathComponent("root/metadata/old/d.png.json")
        try Data(#"{"contentType":"image/png","etag":"5289df737df57326fcdd22597afb1fac"}"#.utf8).write(to: metadata)
        let info = try #require(try await fixture.store.head(key))
        #expect(info.sha256 == nil)
        #expect(info.etag == "5289df737df57326fcdd22597afb1fac")
    }
}
