import Crypto
import Foundation
import NIOCore

/// An ``ObjectStore`` in a local folder, for single-machine installs.
///
/// Layout under ``Configuration/rootDirectory``:
/// - `objects/<key>`: the bytes, at the key's relative path;
/// - `metadata/<key>.json`: content type, ETag and SHA-256 (size and date come from the object file itself);
/// - `multipart/<upload id>/`: `upload.json` plus `NNNNN.part` / `NNNNN.json` per received part.
///
/// Every write goes to a temporary file in the destination folder, is fsynced and then renamed into place, so
/// readers see the old or the new object, never half of one. Presigned URLs point at the application itself
/// (`<publicBaseURL>/storage/<key>?…&sig=…`); the HTTP layer checks them with
/// ``authorize(method:path:query:contentType:)`` and then calls
/// ``writeObject(_:to:contentType:maximumSize:expectedSHA256:)``,
/// ``writePart(_:for:uploadID:partNumber:maximumSize:)`` or ``read(_:rangeHeader:downloadFilename:)``.
///
/// A key cannot be both an object and a folder of other objects here (`a` and `a/b`); such a write fails with
/// ``ObjectStorageError/fileSystem``.
public struct FileSystemObjectStore: ObjectStore {
    /// Where objects live and how URLs are signed.
    public struct Configuration: Sendable {
        /// The store's folder; created by ``FileSystemObjectStore/ensureBucket()``.
        public var rootDirectory: URL
        /// Where browsers reach the application, e.g. `https://vault.example.com` (no trailing path needed).
        public var publicBaseURL: URL
        /// Secret for URL signatures, at least 32 bytes (e.g. 32 random bytes from the app's configuration).
        public var signingKey: [UInt8]
        /// The first path segment of presigned URLs; the HTTP layer routes `/<routePrefix>/**` to this store.
        public var routePrefix: String
        /// Size cap of an object PUT whose URL was presigned without a content length.
        public var maximumObjectSize: Int64
        /// Size cap of one multipart part.
        public var maximumPartSize: Int64
        /// Read buffer size when streaming objects out.
        public var chunkSize: Int

        /// Collects the settings; ``FileSystemObjectStore/init(configuration:clock:)`` validates them.
        public init(
            rootDirectory: URL,
            publicBaseURL: URL,
            signingKey: [UInt8],
            routePrefix: String = "storage",
            maximumObjectSize: Int64 = 64 * 1024 * 1024 * 1024,
            maximumPartSize: Int64 = 5 * 1024 * 1024 * 1024,
            chunkSize: Int = 256 * 1024
        ) {
            self.rootDirectory = rootDirectory
            self.publicBaseURL = publicBaseURL
            self.signingKey = signingKey
            self.routePrefix = routePrefix
            self.maximumObjectSize = maximumObjectSize
            self.maximumPartSize = maximumPartSize
            self.chunkSize = chunkSize
        }
    }

    /// The settings the store was created with.
    public let configuration: Configuration

    public var publicOrigin: String {
        var origin = "\(configuration.publicBaseURL.scheme ?? "http")://\(configuration.publicBaseURL.host ?? "localhost")"
        if let port = configuration.publicBaseURL.port { origin += ":\(port)" }
        return origin
    }
    private let clock: @Sendable () -> Date
    private let signer: FileSystemURLSigner
    private let objectsPath: String
    private let metadataPath: String
    private let uploadsPath: String

    /// - Parameter clock: the time source for signing and expiry checks; tests pass a controllable one.
    public init(
        configuration: Configuration, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(ObjectStorageError) {
        guard configuration.signingKey.count >= 32 else {
            throw ObjectStorageError(.invalidArgument, "the signing key needs at least 32 bytes")
        }
        let prefix = configuration.routePrefix
        guard !prefix.isEmpty, !prefix.hasPrefix("/"), !prefix.hasSuffix("/"), ObjectKey.problem(in: prefix) == nil
        else {
            throw ObjectStorageError(.invalidArgument, "invalid route prefix \(String(reflecting: prefix))")
        }
        guard configuration.rootDirectory.isFileURL, configuration.maximumObjectSize > 0,
            configuration.maximumPartSize > 0, configuration.chunkSize > 0
        else {
            throw ObjectStorageError(.invalidArgument, "root must be a file URL and sizes must be positive")
        }
        self.configuration = configuration
        self.clock = clock
        self.signer = FileSystemURLSigner(
            signingKey: configuration.signingKey, publicBaseURL: configuration.publicBaseURL, routePrefix: prefix)
        let root = configuration.rootDirectory.standardizedFileURL.path
        self.objectsPath = root + "/objects"
        self.metadataPath = root + "/metadata"
        self.uploadsPath = root + "/multipart"
    }

    // MARK: - Presigned URLs

    /// A URL to `/<routePrefix>/<key>` allowing one PUT of at most `contentLength` (or the maximum object size);
    /// with `sha256`, only of a body with that SHA-256 (checked while writing, before the object replaces anything).
    public func presignedPutURL(
        for key: ObjectKey, contentType: String, contentLength: Int64?, sha256: [UInt8]? = nil, expiresIn: Duration
    ) throws -> PresignedRequest {
        try ObjectStoreLimits.validate(contentType: contentType)
        let maximumSize = contentLength ?? configuration.maximumObjectSize
        guard maximumSize >= 0, maximumSize <= configuration.maximumObjectSize else {
            throw ObjectStorageError(.invalidArgument, "content length \(maximumSize) is outside the allowed size")
        }
        var fields = try fields(method: "PUT", key: key, expiresIn: expiresIn)
        fields.contentType = contentType
        fields.maximumSize = maximumSize
        if let sha256 {
            guard sha256.count == 32 else {
                throw ObjectStorageError(.invalidArgument, "a SHA-256 has 32 bytes, not \(sha256.count)")
            }
            fields.sha256 = sha256
        }
        return try presignedRequest(fields, method: .put, headers: ["Content-Type": contentType])
    }

    /// A URL to `/<routePrefix>/<key>` allowing GET and HEAD.
    public func presignedGetURL(
        for key: ObjectKey, expiresIn: Duration, downloadFilename: String?
    ) throws -> PresignedRequest {
        var fields = try fields(method: "GET", key: key, expiresIn: expiresIn)
        if let downloadFilename {
            guard !downloadFilename.isEmpty, !Self.hasControlCharacters(downloadFilename) else {
                throw ObjectStorageError(.invalidArgument, "invalid download filename")
            }
            fields.downloadFilename = downloadFilename
        }
        return try presignedRequest(fields, method: .get, headers: [:])
    }

    /// A URL allowing one PUT of a part, at most ``Configuration/maximumPartSize`` bytes.
    public func presignedUploadPartURL(
        for key: ObjectKey, uploadID: MultipartUploadID, partNumber: Int, expiresIn: Duration
    ) throws -> PresignedRequest {
        try ObjectStoreLimits.validate(partNumber: partNumber)
        guard Self.isWellFormed(uploadID: uploadID.rawValue) else {
            throw ObjectStorageError(.uploadNotFound, "malformed upload id")
        }
        var fields = try fields(method: "PUT", key: key, expiresIn: expiresIn)
        fields.maximumSize = configuration.maximumPartSize
        fields.uploadID = uploadID
        fields.partNumber = partNumber
        return try presignedRequest(fields, method: .put, headers: [:])
    }

    private func fields(method: String, key: ObjectKey, expiresIn: Duration) throws -> FileSystemURLSigner.Fields {
        let seconds = try ObjectStoreLimits.expirySeconds(expiresIn)
        let now = Int64(clock().timeIntervalSince1970.rounded(.down))
        return FileSystemURLSigner.Fields(method: method, key: key, expires: now + seconds)
    }

    private func presignedRequest(
        _ fields: FileSystemURLSigner.Fields, method: PresignedRequest.Method, headers: [String: String]
    ) throws -> PresignedRequest {
        guard let url = signer.url(for: fields) else {
            throw ObjectStorageError(.invalidArgument, "cannot form a URL from \(configuration.publicBaseURL)")
        }
        return PresignedRequest(
            url: url, method: method, headers: headers,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(fields.expires)))
    }

    // MARK: - For the HTTP layer

    /// Checks a request made with one of this store's presigned URLs and says what it may do.
    ///
    /// - Parameters:
    ///   - method: the request method (`HEAD` is accepted where `GET` was signed).
    ///   - path: the raw, still percent-encoded request path, e.g. `/storage/media/a%20b.mp4`.
    ///   - query: the raw query string, without `?`.
    ///   - contentType: the request's `Content-Type` header; must equal the signed one for object PUTs.
    public func authorize(
        method: String, path: String, query: String?, contentType: String?
    ) throws(SignedURLError) -> SignedOperation {
        try signer.verify(method: method, path: path, query: query, contentType: contentType, now: clock())
    }

    /// Stores `body` as `key`: streamed to a temporary file while its MD5 (the ETag) and SHA-256 are computed,
    /// fsynced, then renamed into place.
    ///
    /// More than `maximumSize` bytes throws ``ObjectStorageError/entityTooLarge`` (answer 413), and a body whose
    /// SHA-256 is not `expectedSHA256` throws ``ObjectStorageError/badDigest`` (answer 400); either way nothing is
    /// left behind. Reject a `Content-Length` above `maximumSize` before calling, to fail fast.
    @discardableResult
    public func writeObject<Body: AsyncSequence>(
        _ body: Body, to key: ObjectKey, contentType: String, maximumSize: Int64, expectedSHA256: [UInt8]? = nil
    ) async throws -> ObjectInfo where Body.Element == ByteBuffer {
        try ObjectStoreLimits.validate(contentType: contentType)
        let (digests, size) = try await writeAtomically(
            to: try objectPath(key), maximumSize: maximumSize, digests: [.md5, .sha256], expectingSHA256: expectedSHA256
        ) { writer in
            for try await chunk in body {
                try await writer.write(chunk)
            }
        }
        let metadata = StoredMetadata(
            contentType: contentType, etag: digests.md5, sha256: digests.sha256.map { Hex.encode($0) })
        try await writeJSON(metadata, to: metadataFilePath(key))
        return try await head(key)
            ?? ObjectInfo(
                key: key, size: size, etag: digests.md5, contentType: contentType, lastModified: nil,
                sha256: digests.sha256)
    }

    /// Stores `body` as part `partNumber` of an upload (replacing an earlier copy of that part).
    @discardableResult
    public func writePart<Body: AsyncSequence>(
        _ body: Body, for key: ObjectKey, uploadID: MultipartUploadID, partNumber: Int, maximumSize: Int64
    ) async throws -> UploadedPart where Body.Element == ByteBuffer {
        try ObjectStoreLimits.validate(partNumber: partNumber)
        let directory = try await uploadDirectory(uploadID, for: key)
        let partPath = "\(directory)/\(Self.partName(partNumber)).part"
        let (digests, size) = try await writeAtomically(
            to: partPath, maximumSize: maximumSize, digests: .md5
        ) { writer in
            for try await chunk in body {
                try await writer.write(chunk)
            }
        }
        let part = UploadedPart(partNumber: partNumber, etag: digests.md5 ?? "", size: size)
        try await writeJSON(part, to: "\(directory)/\(Self.partName(partNumber)).json")
        return part
    }

    /// The answer to a GET or HEAD of `key`: status, headers and the body as a stream of chunks.
    ///
    /// - Parameters:
    ///   - rangeHeader: the request's `Range` header; a satisfiable single range gives a 206 answer.
    ///   - downloadFilename: adds `Content-Disposition: attachment` with this name.
    /// - Throws: ``ObjectStorageError/objectNotFound`` (404), ``RangeNotSatisfiable`` (416).
    public func read(
        _ key: ObjectKey, rangeHeader: String? = nil, downloadFilename: String? = nil
    ) async throws -> ObjectReadResponse {
        let path = try objectPath(key)
        let file = try await openObject(at: path, key: key)
        let (size, modified) = try await run { (try file.size(), try file.modificationDate()) }
        let metadata = try await readMetadata(for: key)
        let range = try ByteRange.parse(rangeHeader: rangeHeader, objectSize: size)

        let info = ObjectInfo(
            key: key, size: size, etag: metadata?.etag, contentType: metadata?.contentType ?? Self.defaultContentType,
            lastModified: modified, sha256: metadata?.sha256Bytes)
        let offset = range?.offset ?? 0
        let length = range?.length ?? size
        var headers = [
            HTTPField("Content-Type", info.contentType ?? Self.defaultContentType),
            HTTPField("Content-Length", String(length)),
            HTTPField("Accept-Ranges", "bytes"),
            HTTPField("Last-Modified", HTTPDate.format(modified)),
        ]
        if let etag = info.etag { headers.append(HTTPField("ETag", "\"\(etag)\"")) }
        if let range { headers.append(HTTPField("Content-Range", range.contentRange(objectSize: size))) }
        if let downloadFilename {
            headers.append(HTTPField("Content-Disposition", ContentDisposition.attachment(filename: downloadFilename)))
        }
        return ObjectReadResponse(
            info: info, status: range == nil ? 200 : 206, range: range, headers: headers,
            body: FileChunkSequence(file: file, offset: offset, length: length, chunkSize: configuration.chunkSize))
    }

    // MARK: - ObjectStore

    /// Size and date from `stat`, type, ETag and SHA-256 from the metadata file; nil when missing.
    public func head(_ key: ObjectKey) async throws -> ObjectInfo? {
        let path = try objectPath(key)
        guard let info = try await run({ try FileOperations.status(path) }),
            FileOperations.isRegularFile(info)
        else { return nil }
        let metadata = try await readMetadata(for: key)
        return ObjectInfo(
            key: key, size: Int64(info.st_size), etag: metadata?.etag,
            contentType: metadata?.contentType ?? Self.defaultContentType, lastModified: LocalFile.date(of: info),
            sha256: metadata?.sha256Bytes)
    }

    /// Removes the object and its metadata, then folders left empty; missing objects are fine.
    public func delete(_ key: ObjectKey) async throws {
        let (path, metadataFile) = (try objectPath(key), metadataFilePath(key))
        let (objectsRoot, metadataRoot) = (objectsPath, metadataPath)
        try await run {
            // A folder at the key's path holds other objects (`a/b`); the object `a` itself does not exist.
            if let info = try FileOperations.status(path), FileOperations.isRegularFile(info) {
                try FileOperations.removeFileIfPresent(path)
            }
            try FileOperations.removeFileIfPresent(metadataFile)
            // Keys like media/<uuid>/file would otherwise leave one empty folder per deleted object.
            FileOperations.removeEmptyParents(of: path, below: objectsRoot)
            FileOperations.removeEmptyParents(of: metadataFile, below: metadataRoot)
        }
    }

    /// Copies the object to `fileURL` in chunks, through a temporary file renamed at the end.
    public func download(_ key: ObjectKey, to fileURL: URL) async throws {
        let file = try await openObject(at: try objectPath(key), key: key)
        let size = try await run { try file.size() }
        let chunks = FileChunkSequence(file: file, offset: 0, length: size, chunkSize: configuration.chunkSize)
        try await writeAtomically(to: fileURL.path) { writer in
            for try await chunk in chunks {
                try await writer.write(chunk)
            }
        }
    }

    @discardableResult
    /// Copies a local file into the store in chunks (no size cap).
    public func upload(from fileURL: URL, to key: ObjectKey, contentType: String) async throws -> ObjectInfo {
        let path = fileURL.path
        let source = try await run { try LocalFile.openForReading(path) }
        let size = try await run { try source.size() }
        let chunks = FileChunkSequence(file: source, offset: 0, length: size, chunkSize: configuration.chunkSize)
        return try await writeObject(chunks, to: key, contentType: contentType, maximumSize: .max)
    }

    /// Creates `multipart/<random id>/` with the upload's key and content type.
    public func createMultipartUpload(for key: ObjectKey, contentType: String) async throws -> MultipartUploadID {
        try ObjectStoreLimits.validate(contentType: contentType)
        var random = SystemRandomNumberGenerator()
        let uploadID = MultipartUploadID(Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }))
        let directory = "\(uploadsPath)/\(uploadID.rawValue)"
        try await run { try FileOperations.createDirectory(directory) }
        try await writeJSON(UploadManifest(key: key, contentType: contentType), to: "\(directory)/upload.json")
        return uploadID
    }

    /// The parts stored so far, by number; each part's ETag is its MD5.
    public func listParts(for key: ObjectKey, uploadID: MultipartUploadID) async throws -> [UploadedPart] {
        let directory = try await uploadDirectory(uploadID, for: key)
        let names = try await run { try FileOperations.contentsOfDirectory(directory) ?? [] }
        var parts: [UploadedPart] = []
        for name in names where name.hasSuffix(".json") && name != "upload.json" {
            guard let part: UploadedPart = try await readJSON(from: "\(directory)/\(name)") else { continue }
            // The record is written after its part; a part replaced since would have another size.
            let dataPath = "\(directory)/\(Self.partName(part.partNumber)).part"
            if let info = try await run({ try FileOperations.status(dataPath) }), Int64(info.st_size) == part.size {
                parts.append(part)
            }
        }
        return parts.sorted { $0.partNumber < $1.partNumber }
    }

    @discardableResult
    /// Concatenates the parts in order into the object, hashing it on the way (so ``head(_:)`` knows the whole
    /// object's SHA-256), then removes the staging folder; S3-style ETag.
    public func completeMultipartUpload(
        for key: ObjectKey, uploadID: MultipartUploadID, parts: [CompletedPart]
    ) async throws -> String? {
        let directory = try await uploadDirectory(uploadID, for: key)
        guard let manifest: UploadManifest = try await readJSON(from: "\(directory)/upload.json") else {
            throw ObjectStorageError(.uploadNotFound, "upload \(uploadID) has no manifest")
        }
        guard !parts.isEmpty else { throw ObjectStorageError(.invalidPart, "a multipart upload needs parts") }
        let received = Dictionary(
            try await listParts(for: key, uploadID: uploadID).map { ($0.partNumber, $0) }, uniquingKeysWith: { $1 })
        var previous = 0
        var partDigests: [UInt8] = []
        for part in parts {
            guard part.partNumber > previous else {
                throw ObjectStorageError(.invalidPart, "parts must be listed in ascending order without repeats")
            }
            previous = part.partNumber
            guard let stored = received[part.partNumber],
                stored.etag.lowercased() == part.etag.withoutETagQuotes.lowercased(),
                let digest = Hex.decode(stored.etag)
            else {
                throw ObjectStorageError(.invalidPart, "part \(part.partNumber) is missing or has another ETag")
            }
            partDigests += digest
        }

        let chunkSize = configuration.chunkSize
        let (digests, _) = try await writeAtomically(to: try objectPath(key), digests: .sha256) { writer in
            for part in parts {
                let partFile = try await BlockingIO.run {
                    try LocalFile.openForReading("\(directory)/\(Self.partName(part.partNumber)).part")
                }
                let size = try await BlockingIO.run { try partFile.size() }
                let chunks = FileChunkSequence(file: partFile, offset: 0, length: size, chunkSize: chunkSize)
                for try await chunk in chunks {
                    try await writer.write(chunk)
                }
            }
        }
        // S3's multipart ETag: MD5 of the concatenated binary part MD5s, then "-" and the part count.
        let etag = Hex.encode(Insecure.MD5.hash(data: partDigests)) + "-\(parts.count)"
        let metadata = StoredMetadata(
            contentType: manifest.contentType, etag: etag, sha256: digests.sha256.map { Hex.encode($0) })
        try await writeJSON(metadata, to: metadataFilePath(key))
        try await run { try FileOperations.removeTreeIfPresent(directory) }
        return etag
    }

    /// Removes the staging folder; unknown uploads are fine, another key's upload is refused.
    public func abortMultipartUpload(for key: ObjectKey, uploadID: MultipartUploadID) async throws {
        guard Self.isWellFormed(uploadID: uploadID.rawValue) else { return }
        let directory = "\(uploadsPath)/\(uploadID.rawValue)"
        guard let manifest: UploadManifest = try await readJSON(from: "\(directory)/upload.json") else {
            try await run { try FileOperations.removeTreeIfPresent(directory) }
            return
        }
        guard manifest.key == key else {
            throw ObjectStorageError(.uploadNotFound, "upload \(uploadID) belongs to another key")
        }
        try await run { try FileOperations.removeTreeIfPresent(directory) }
    }

    /// Creates the `objects`, `metadata` and `multipart` folders.
    public func ensureBucket() async throws {
        let folders = [objectsPath, metadataPath, uploadsPath]
        try await run {
            for folder in folders { try FileOperations.createDirectory(folder) }
        }
    }

    /// Nothing to do: browsers talk to the application itself, whose HTTP layer answers CORS.
    public func configureCORS(allowedOrigins: [String]) async throws {}

    // MARK: - Paths and records

    static let defaultContentType = "application/octet-stream"

    /// Upload ids are 32 lowercase hex digits; anything else never names a folder.
    static func isWellFormed(uploadID: String) -> Bool {
        uploadID.utf8.count == 32
            && uploadID.utf8.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
    }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    private static func partName(_ partNumber: Int) -> String {
        let digits = String(partNumber)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// The object's file. ``ObjectKey`` already refused `..`, absolute paths, empty components, backslashes and
    /// control characters, so the joined path stays inside `objects/`; the check below guards that promise.
    private func objectPath(_ key: ObjectKey) throws(ObjectStorageError) -> String {
        guard ObjectKey.problem(in: key.rawValue) == nil else {
            throw ObjectStorageError(.invalidKey, "key \(String(reflecting: key.rawValue)) would leave the store")
        }
        return "\(objectsPath)/\(key.rawValue)"
    }

    private func metadataFilePath(_ key: ObjectKey) -> String {
        "\(metadataPath)/\(key.rawValue).json"
    }

    /// The staging folder of `uploadID`, after checking the upload exists and belongs to `key`.
    private func uploadDirectory(_ uploadID: MultipartUploadID, for key: ObjectKey) async throws -> String {
        guard Self.isWellFormed(uploadID: uploadID.rawValue) else {
            throw ObjectStorageError(.uploadNotFound, "malformed upload id")
        }
        let directory = "\(uploadsPath)/\(uploadID.rawValue)"
        guard let manifest: UploadManifest = try await readJSON(from: "\(directory)/upload.json"), manifest.key == key
        else {
            throw ObjectStorageError(.uploadNotFound, "no upload \(uploadID) for key \(key)")
        }
        return directory
    }

    private func openObject(at path: String, key: ObjectKey) async throws -> LocalFile {
        do {
            return try await BlockingIO.run {
                guard let info = try FileOperations.status(path), FileOperations.isRegularFile(info) else {
                    throw ObjectStorageError(.objectNotFound, "no object at key \(key)")
                }
                return try LocalFile.openForReading(path)
            }
        } catch let error as LocalFileError where error.isNotFound {
            throw ObjectStorageError(.objectNotFound, "no object at key \(key)")
        } catch let error as LocalFileError {
            throw ObjectStorageError(.fileSystem, error.description)
        }
    }

    /// Writes `path` through an ``AtomicFileWriter`` that `produce` fills; on any failure the temporary file is
    /// removed and the destination left as it was. Returns the digests asked for and the size.
    @discardableResult
    private func writeAtomically(
        to path: String, maximumSize: Int64 = .max, digests kinds: FileDigests.Kinds = [],
        expectingSHA256 expected: [UInt8]? = nil, _ produce: (AtomicFileWriter) async throws -> Void
    ) async throws -> (digests: FileDigests, size: Int64) {
        let writer: AtomicFileWriter
        do {
            writer = try await AtomicFileWriter.begin(destinationPath: path, maximumSize: maximumSize, digests: kinds)
        } catch {
            throw Self.translated(error)
        }
        do {
            try await produce(writer)
            let digests = try await writer.commit(expectingSHA256: expected)
            return (digests, writer.bytesWritten)
        } catch {
            await writer.discard()
            throw Self.translated(error)
        }
    }

    /// POSIX failures surface as ``ObjectStorageError/fileSystem``; everything else unchanged.
    private static func translated(_ error: any Error) -> any Error {
        guard let error = error as? LocalFileError else { return error }
        return ObjectStorageError(.fileSystem, error.description)
    }

    private func readMetadata(for key: ObjectKey) async throws -> StoredMetadata? {
        try await readJSON(from: metadataFilePath(key))
    }

    /// Reads a small JSON record; nil when the file does not exist.
    private func readJSON<Record: Decodable & Sendable>(from path: String) async throws -> Record? {
        let data: Data? = try await run {
            guard let info = try FileOperations.status(path), FileOperations.isRegularFile(info) else { return nil }
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        guard let data else { return nil }
        do {
            return try JSONDecoder().decode(Record.self, from: data)
        } catch {
            throw ObjectStorageError(.fileSystem, "unreadable record \(path): \(error)")
        }
    }

    /// Writes a small JSON record atomically (temporary file, fsync, rename).
    private func writeJSON(_ record: some Encodable, to path: String) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(record)
        try await writeAtomically(to: path) { writer in
            try await writer.write(ByteBuffer(data: data))
        }
    }

    /// Runs blocking file work, turning POSIX failures into ``ObjectStorageError/fileSystem``.
    private func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        do {
            return try await BlockingIO.run(body)
        } catch {
            throw Self.translated(error)
        }
    }

    /// Objects written before SHA-256s were recorded have none; their ``sha256Bytes`` is nil.
    private struct StoredMetadata: Codable, Sendable {
        var contentType: String
        var etag: String?
        /// Hex SHA-256 of the whole object.
        var sha256: String?

        var sha256Bytes: [UInt8]? { sha256.flatMap { Hex.decode($0) }.flatMap { $0.count == 32 ? $0 : nil } }
    }

    private struct UploadManifest: Codable, Sendable {
        var key: ObjectKey
        var contentType: String
    }
}

/// How to answer a GET or HEAD of a filesystem-store object.
public struct ObjectReadResponse: Sendable {
    /// What is known about the object.
    public var info: ObjectInfo
    /// 200, or 206 for a range.
    public var status: Int
    /// The bytes sent, when a range was asked for.
    public var range: ByteRange?
    /// Content-Type, Content-Length, Accept-Ranges, Last-Modified, ETag, Content-Range and Content-Disposition
    /// as they apply.
    public var headers: [HTTPField]
    /// The bytes to send (skip it for HEAD); reads lazily, one chunk at a time.
    public var body: FileChunkSequence
}
