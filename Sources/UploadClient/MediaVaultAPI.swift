import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOConcurrencyHelpers
import NIOHTTP1
import ObjectStorage

/// What went wrong talking to the server, and whether trying again can help.
public struct UploadError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// Network failures, 5xx and 429 are worth another attempt; other 4xx answers are final for that file.
    public let isTransient: Bool
    public let code: String?

    public var description: String { message }
}

/// The few routes an uploader needs, with a personal API key (or a session token) as the bearer.
struct MediaVaultAPI: Sendable {
    let server: String
    let apiKey: String
    let http: HTTPClient

    struct Match: Decodable, Sendable {
        let sha256: String
        let mediaID: String
        let status: String
        let multipart: Bool
        enum CodingKeys: String, CodingKey {
            case sha256, status, multipart
            case mediaID = "media_id"
        }
    }

    struct Signed: Decodable, Sendable {
        let mediaID: String
        let uploadURL: String
        let headers: [String: String]
        enum CodingKeys: String, CodingKey {
            case headers
            case mediaID = "media_id"
            case uploadURL = "upload_url"
        }
    }

    struct Started: Decodable, Sendable {
        let mediaID: String
        let partSize: Int64
        let partCount: Int
        enum CodingKeys: String, CodingKey {
            case mediaID = "media_id"
            case partSize = "part_size"
            case partCount = "part_count"
        }
    }

    struct PartURL: Decodable, Sendable {
        let partNumber: Int
        let uploadURL: String
        enum CodingKeys: String, CodingKey {
            case partNumber = "part_number"
            case uploadURL = "upload_url"
        }
    }

    struct UploadedPart: Decodable, Sendable {
        let partNumber: Int
        let etag: String
        let sizeBytes: Int64
        enum CodingKeys: String, CodingKey {
            case etag
            case partNumber = "part_number"
            case sizeBytes = "size_bytes"
        }
    }

    /// A half-sent upload as the server has it: the parts it holds and the part size the upload was started with.
    struct UploadedParts: Decodable, Sendable {
        let partSize: Int64
        let parts: [UploadedPart]
        enum CodingKeys: String, CodingKey {
            case parts
            case partSize = "part_size"
        }
    }

    struct CompletedPart: Encodable, Sendable {
        let partNumber: Int
        let etag: String
        enum CodingKeys: String, CodingKey {
            case etag
            case partNumber = "part_number"
        }
    }

    struct Collection: Decodable, Sendable {
        let id: String
        let title: String
    }

    func checksums(_ hexes: [String]) async throws -> [Match] {
        struct Reply: Decodable { let matches: [Match] }
        return try await call(.POST, "/media/checksums", body: ["checksums": hexes], as: Reply.self).matches
    }

    func sign(filename: String, mimeType: String, size: Int64, sha256: String?) async throws -> Signed {
        var body: [String: AnyEncodable] = [
            "filename": .init(filename), "mime_type": .init(mimeType), "size_bytes": .init(size),
        ]
        if let sha256 { body["sha256"] = .init(sha256) }
        return try await call(.POST, "/media/upload/sign", body: body, as: Signed.self)
    }

    func confirm(mediaID: String) async throws {
        struct Reply: Decodable { let status: String }
        _ = try await call(.POST, "/media/upload/confirm", body: ["media_id": mediaID], as: Reply.self)
    }

    func startMultipart(
        filename: String, mimeType: String, size: Int64, partSize: Int64?, sha256: String?
    ) async throws -> Started {
        var body: [String: AnyEncodable] = [
            "filename": .init(filename), "mime_type": .init(mimeType), "size_bytes": .init(size),
        ]
        if let partSize { body["part_size"] = .init(partSize) }
        if let sha256 { body["sha256"] = .init(sha256) }
        return try await call(.POST, "/media/upload/multipart", body: body, as: Started.self)
    }

    func partURLs(mediaID: String, parts: [Int]) async throws -> [PartURL] {
        struct Reply: Decodable { let parts: [PartURL] }
        return try await call(
            .POST, "/media/upload/multipart/\(mediaID)/urls", body: ["part_numbers": parts], as: Reply.self
        ).parts
    }

    func uploadedParts(mediaID: String) async throws -> UploadedParts {
        try await call(.GET, "/media/upload/multipart/\(mediaID)/parts", body: nil as String?, as: UploadedParts.self)
    }

    func complete(mediaID: String, parts: [CompletedPart]) async throws {
        struct Reply: Decodable { let status: String }
        _ = try await call(
            .POST, "/media/upload/multipart/\(mediaID)/complete", body: ["parts": parts], as: Reply.self)
    }

    func collections() async throws -> [Collection] {
        struct Reply: Decodable { let collections: [Collection] }
        return try await call(.GET, "/collection", body: nil as String?, as: Reply.self).collections
    }

    func createCollection(title: String) async throws -> Collection {
        try await call(.POST, "/collection", body: ["title": title], as: Collection.self)
    }

    func add(mediaID: String, to collectionID: String) async throws {
        struct Reply: Decodable { let success: Bool }
        _ = try await call(.POST, "/collection/\(collectionID)/add", body: ["media_id": mediaID], as: Reply.self)
    }

    /// PUTs `length` bytes of `file` from `offset` to a presigned URL; answers the ETag.
    ///
    /// `sent` hears of bytes as they are read for sending; when the attempt fails they are taken back (a negative
    /// count), so progress does not count a retried range twice.
    func put(
        file: URL, offset: Int64, length: Int64, to url: String, headers: [String: String],
        sent: @escaping @Sendable (Int64) -> Void
    ) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Content-Length", value: String(length))
        // Bytes this attempt counted, and whether it is over: a chunk read after the failure is not counted at all.
        let attempt = NIOLockedValueBox((counted: Int64(0), over: false))
        let counted: @Sendable (Int64) -> Void = { count in
            let counts = attempt.withLockedValue { state in
                guard !state.over else { return false }
                state.counted += count
                return true
            }
            if counts { sent(count) }
        }
        request.body = .stream(
            FileChunks(file: file, offset: offset, length: length, sent: counted), length: .known(length))
        do {
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: .seconds(600))
            } catch let error as UploadError {
                throw error
            } catch {
                throw UploadError(message: "upload failed: \(error)", isTransient: true, code: nil)
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: 1 << 20)
            } catch {
                throw UploadError(message: "upload failed: \(error)", isTransient: true, code: nil)
            }
            guard (200..<300).contains(Int(response.status.code)) else {
                throw Self.error(status: Int(response.status.code), body: body, during: "storage PUT")
            }
            return response.headers.first(name: "ETag") ?? ""
        } catch {
            sent(-attempt.withLockedValue { state in
                state.over = true
                return state.counted
            })
            throw error
        }
    }

    private func call<Body: Encodable, Reply: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, as type: Reply.Type
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        }
        let response: HTTPClientResponse
        let collected: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(60))
            collected = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw UploadError(message: "\(method.rawValue) \(path): \(error)", isTransient: true, code: nil)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Self.error(status: Int(response.status.code), body: collected, during: "\(method.rawValue) \(path)")
        }
        do {
            return try JSONDecoder().decode(Reply.self, from: collected)
        } catch {
            throw UploadError(message: "\(path): unexpected answer from the server", isTransient: false, code: nil)
        }
    }

    /// The server's error envelope (or an S3 server's XML error), as one line; 5xx and 429 are transient.
    static func error(status: Int, body: ByteBuffer, during: String) -> UploadError {
        struct Envelope: Decodable {
            let code: String
            let message: String
        }
        let envelope =
            (try? JSONDecoder().decode(Envelope.self, from: body))
            ?? S3Error.fromErrorDocument(status: status, body: body.readableBytesView).map {
                Envelope(code: $0.code.rawValue, message: $0.message)
            }
        let message = envelope.map { "\($0.message) (\($0.code))" } ?? "HTTP \(status)"
        return UploadError(
            message: "\(during): \(message)", isTransient: status >= 500 || status == 429, code: envelope?.code)
    }
}

/// A JSON value of any encodable type, for request bodies built as dictionaries.
struct AnyEncodable: Encodable, Sendable {
    private let encodeValue: @Sendable (any Encoder) throws -> Void
    init<Value: Encodable & Sendable>(_ value: Value) { encodeValue = { try value.encode(to: $0) } }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}

/// A byte range of a file as an async sequence of 1 MiB buffers, counting what was read.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: URL
    let offset: Int64
    let length: Int64
    let sent: @Sendable (Int64) -> Void
    static let chunkSize = 1 << 20

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        var remaining: Int64
        let sent: @Sendable (Int64) -> Void

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0, let handle else { return nil }
            let count = Int(Swift.min(Int64(FileChunks.chunkSize), remaining))
            guard let data = try handle.read(upToCount: count), !data.isEmpty else {
                throw UploadError(message: "the file shrank while it was being sent", isTransient: false, code: nil)
            }
            remaining -= Int64(data.count)
            sent(Int64(data.count))
            if remaining == 0 { try? handle.close() }
            return ByteBuffer(data: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let handle = try? FileHandle(forReadingFrom: file)
        try? handle?.seek(toOffset: UInt64(offset))
        return AsyncIterator(handle: handle, remaining: length, sent: sent)
    }
}
