import Foundation
import HTTPTypes
import Hummingbird
import MediaVaultCore
import ObjectStorage

/// Serves the filesystem store's signed URLs: `PUT`/`GET`/`HEAD /storage/**`. The signature is the authorisation.
public struct FileStoreRoutes: Sendable {
    let store: FileSystemObjectStore

    public init(store: FileSystemObjectStore) {
        self.store = store
    }

    public func register(on router: AccessRouter) {
        router.put("/storage/**", .open, use: handle)
        router.get("/storage/**", .open, use: handle)
        router.head("/storage/**", .open, use: handle)
    }

    @Sendable func handle(_ request: Request, context: AppRequestContext) async throws -> Response {
        let operation: SignedOperation
        do {
            operation = try store.authorize(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                contentType: request.headers[.contentType])
        } catch {
            throw AppError(
                error.httpStatus == 400 ? .invalidArgument : .permissionDenied,
                status: HTTPResponse.Status(code: error.httpStatus), "storage URL is invalid or expired")
        }
        do {
            switch operation {
            case .putObject(let key, let contentType, let maximumSize, let sha256):
                try Self.checkLength(request, maximumSize: maximumSize)
                let info = try await store.writeObject(
                    request.body, to: key, contentType: contentType, maximumSize: maximumSize, expectedSHA256: sha256)
                return Response(status: .ok, headers: [.eTag: "\"\(info.etag ?? "")\""])
            case .putPart(let key, let uploadID, let partNumber, let maximumSize):
                try Self.checkLength(request, maximumSize: maximumSize)
                let part = try await store.writePart(
                    request.body, for: key, uploadID: uploadID, partNumber: partNumber, maximumSize: maximumSize)
                return Response(status: .ok, headers: [.eTag: "\"\(part.etag)\""])
            case .getObject(let key, let downloadFilename):
                let read = try await store.read(
                    key, rangeHeader: request.headers[.range], downloadFilename: downloadFilename)
                var headers = HTTPFields()
                for field in read.headers {
                    if let name = HTTPTypes.HTTPField.Name(field.name) { headers[name] = field.value }
                }
                headers[.cacheControl] = "private, max-age=300"
                let body = request.method == .head ? ResponseBody() : ResponseBody(asyncSequence: read.body)
                return Response(status: .init(code: read.status), headers: headers, body: body)
            }
        } catch let error as ObjectStorageError {
            throw Self.appError(error) ?? error
        } catch let error as RangeNotSatisfiable {
            throw AppError(
                .invalidArgument, status: .rangeNotSatisfiable, "requested range not satisfiable",
                headers: [.contentRange: error.contentRange])
        }
    }

    /// Whether a request with this head would have its body read: a PUT whose signed URL is valid and whose declared
    /// length fits. The HTTP layer answers `Expect: 100-continue` for exactly these; the rest get their refusal
    /// before the client sends the body.
    public func willReadBody(_ head: HTTPRequest) -> Bool {
        guard head.method == .put, let target = head.path, target.hasPrefix("/storage/") else { return false }
        let (path, query) = Self.split(target)
        let operation: SignedOperation
        do {
            operation = try store.authorize(
                method: "PUT", path: path, query: query, contentType: head.headerFields[.contentType])
        } catch {
            return false
        }
        let maximumSize: Int64
        switch operation {
        case .putObject(_, _, let size, _), .putPart(_, _, _, let size): maximumSize = size
        case .getObject: return false
        }
        guard let length = head.headerFields[.contentLength] else { return true }
        return Int64(length).map { $0 <= maximumSize } ?? false
    }

    /// `/path?query` as the path and the query (without `?`).
    static func split(_ target: String) -> (path: String, query: String?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    static func checkLength(_ request: Request, maximumSize: Int64) throws {
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > maximumSize {
            throw AppError.resourceExhausted("upload is larger than allowed", status: .contentTooLarge)
        }
    }

    /// The caller-facing error, or `nil` for failures that are ours (logged and answered as `internal`).
    static func appError(_ error: ObjectStorageError) -> AppError? {
        switch error {
        case .objectNotFound, .uploadNotFound: return .notFound("object not found")
        case .entityTooLarge: return .resourceExhausted("upload is larger than allowed", status: .contentTooLarge)
        case .badDigest:
            // What S3 answers too; the bytes changed between hashing and arriving, so nothing was stored.
            return .invalidArgument(
                "BadDigest: the body's SHA-256 is not the one this URL was signed for; nothing was stored",
                details: ["reason": "bad_digest"])
        case .invalidArgument, .invalidKey, .invalidPart: return .invalidArgument("invalid upload request")
        default: return nil
        }
    }
}
