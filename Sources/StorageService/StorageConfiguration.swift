import AsyncHTTPClient
import Foundation
import Logging
import MediaVaultCore
import ObjectStorage

/// Which object store to use and how to reach it.
public struct StorageConfiguration: Sendable {
    public enum Backend: Sendable {
        case filesystem(directory: URL)
        case s3(S3Configuration, createBucket: Bool, configureCORS: Bool)
    }

    public var backend: Backend

    /// Which store and where, for the start-up log line; never the keys.
    public var summary: Logger.Metadata {
        switch backend {
        case .s3(let configuration, _, _):
            return [
                "store": "s3", "endpoint": "\(configuration.endpoint)", "bucket": .string(configuration.bucket),
                "region": .string(configuration.region),
            ]
        case .filesystem(let directory):
            return ["store": "filesystem", "directory": .string(directory.path)]
        }
    }

    public init(backend: Backend) {
        self.backend = backend
    }

    public init(reading reader: ConfigReader) {
        // The original backend's settings name S3 and no backend: S3 is meant, not a disk inside a container.
        let chosen =
            reader.optional(StorageSettings.backend)?.lowercased()
            ?? (reader.optional(StorageSettings.s3Endpoint) == nil ? "filesystem" : "s3")
        if !["filesystem", "s3"].contains(chosen) {
            reader.fail(StorageSettings.backend, "must be one of filesystem, s3, got \(chosen)")
        }
        switch chosen {
        case "s3":
            let useSSL = reader.bool(StorageSettings.s3UseSSL)
            let endpointText = reader.required(StorageSettings.s3Endpoint, because: "STORAGE_BACKEND=s3")
            let endpoint = Self.endpoint(endpointText, useSSL: useSSL, setting: StorageSettings.s3Endpoint, reader)
            let publicEndpoint = reader.optional(StorageSettings.s3PublicEndpoint).map {
                Self.endpoint($0, useSSL: useSSL, setting: StorageSettings.s3PublicEndpoint, reader)
            }
            let bucket = reader.required(StorageSettings.s3Bucket)
            if bucket.count < 3 || bucket.count > 63 {
                reader.fail(StorageSettings.s3Bucket, "must be 3 to 63 characters")
            }
            let credentials = AWSCredentials(
                accessKeyID: reader.required(StorageSettings.s3AccessKey, because: "STORAGE_BACKEND=s3"),
                secretAccessKey: reader.required(StorageSettings.s3SecretKey, because: "STORAGE_BACKEND=s3"),
                sessionToken: nil)
            let configuration = S3Configuration(
                endpoint: endpoint ?? S3Endpoint(host: "invalid", useTLS: false),
                publicEndpoint: publicEndpoint ?? nil, region: reader.string(StorageSettings.s3Region), bucket: bucket,
                credentials: credentials, usePathStyle: reader.bool(StorageSettings.s3PathStyle))
            backend = .s3(
                configuration, createBucket: reader.bool(StorageSettings.s3CreateBucket),
                configureCORS: reader.bool(StorageSettings.s3ConfigureCORS))
        default:
            let path = reader.string(StorageSettings.directory)
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            backend = .filesystem(directory: URL(fileURLWithPath: absolute))
        }
    }

    /// Accepts `host:port` or a URL, whose scheme then decides TLS.
    static func endpoint(_ text: String, useSSL: Bool, setting: Setting, _ reader: ConfigReader) -> S3Endpoint? {
        var hostAndPort = text
        var tls = useSSL
        if let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme) {
            tls = scheme == "https"
            hostAndPort = (url.host ?? "") + (url.port.map { ":\($0)" } ?? "")
        }
        do {
            return try S3Endpoint(hostAndPort: hostAndPort, useTLS: tls)
        } catch {
            reader.fail(setting, "must be host:port or an http(s) URL, got \"\(text)\"")
            return nil
        }
    }
}

/// The configured object store, ready to use.
public struct Storage: Sendable {
    public let store: any ObjectStore
    /// Set for the filesystem backend, whose signed URLs the gateway serves itself.
    public let fileSystem: FileSystemObjectStore?

    /// Builds the store. `publicBaseURL` and `signingKey` are only used by the filesystem backend.
    public static func make(
        _ configuration: StorageConfiguration, httpClient: HTTPClient, publicBaseURL: URL, signingKey: String,
        logger: Logger
    ) throws -> Storage {
        switch configuration.backend {
        case .filesystem(let directory):
            // A derived key keeps URL signatures independent of other uses of the session secret.
            let key = Array(("storage-urls:" + signingKey).utf8)
            let store = try FileSystemObjectStore(
                configuration: .init(rootDirectory: directory, publicBaseURL: publicBaseURL, signingKey: key))
            return Storage(store: store, fileSystem: store)
        case .s3(let s3, _, _):
            return Storage(store: try S3Client(configuration: s3, httpClient: httpClient, logger: logger), fileSystem: nil)
        }
    }

    /// Creates the bucket (or folders) and bucket CORS, as configured.
    public func prepare(_ configuration: StorageConfiguration, corsOrigins: [String]) async throws {
        switch configuration.backend {
        case .filesystem:
            try await store.ensureBucket()
        case .s3(_, let createBucket, let configureCORS):
            if createBucket { try await store.ensureBucket() }
            if configureCORS { try await store.configureCORS(allowedOrigins: corsOrigins) }
        }
    }
}
