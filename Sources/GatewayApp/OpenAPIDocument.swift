import Foundation
import Hummingbird
import MediaVaultCore
import NIOCore

/// The API description (`openapi.json` beside this file, compiled into the binary) and its route, `/openapi.json`.
///
/// The repository's document describes every route any deployment may serve. Operations marked
/// `x-mediavault-when` exist only with a feature (development sign-in, the filesystem store); the served copy
/// leaves out those this gateway does not serve and names this gateway's address as the server, so a client
/// generator or a fuzzer sees exactly what is there.
public enum OpenAPIDocument {
    /// Features an operation may depend on (`x-mediavault-when`).
    public enum Feature: String, CaseIterable, Sendable {
        case devLogin = "dev_login"
        case filesystemStorage = "filesystem_storage"
    }

    /// The document as kept in the repository.
    public static var repositoryCopy: [UInt8] { PackageResources.openapi_json }

    /// The repository's document as parsed JSON.
    public static func parsed() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(repositoryCopy))
    }

    /// The document for a gateway at `serverURL` offering `features`.
    public static func served(serverURL: String, features: Set<Feature>) throws -> [UInt8] {
        guard case .object(var document) = try parsed(), case .object(let paths)? = document["paths"] else {
            throw DocumentError(message: "openapi.json has no paths object")
        }
        var servedPaths: [String: JSONValue] = [:]
        for (path, item) in paths {
            guard case .object(var operations) = item else { continue }
            for (method, operation) in operations {
                guard case .object(let fields) = operation, case .string(let when)? = fields["x-mediavault-when"]
                else { continue }
                guard let feature = Feature(rawValue: when) else {
                    throw DocumentError(message: "\(method) \(path): unknown x-mediavault-when `\(when)`")
                }
                if !features.contains(feature) { operations[method] = nil }
            }
            if operations.keys.contains(where: { Self.methods.contains($0) }) { servedPaths[path] = .object(operations) }
        }
        document["paths"] = .object(servedPaths)
        document["servers"] = .array([.object(["url": .string(serverURL)])])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(JSONValue.object(document)))
    }

    /// Keys of a path item that are operations (the others are parameters, summaries, extensions).
    public static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    struct DocumentError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func register(on router: AccessRouter, document: [UInt8]) {
        let body = ByteBuffer(bytes: document)
        router.get("/openapi.json", .open) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                body: .init(byteBuffer: body))
        }
    }
}
