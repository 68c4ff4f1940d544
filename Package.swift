// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "MediaVault",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mediavault", targets: ["mediavault"]),
        .executable(name: "mediavault-worker", targets: ["mediavault-worker"]),
        .library(name: "NSQ", targets: ["NSQ"]),
        .library(name: "ObjectStorage", targets: ["ObjectStorage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // Shared plumbing: configuration, error envelope, database + migrations, logging, metrics, HTTP middleware,
        // the contracts between modules, signed tokens, the periodic-service loop.
        .target(
            name: "MediaVaultCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Discord sign-in, sessions and the authentication middleware other modules use.
        .target(
            name: "Auth",
            dependencies: [
                "MediaVaultCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Media module: presigned uploads, confirmation, tags, listing, deletion, quotas; the media side of processing.
        .target(
            name: "Media",
            dependencies: [
                "MediaVaultCore", "ObjectStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Collection module: collections, share links and the public share page.
        .target(
            name: "Collection",
            dependencies: [
                "MediaVaultCore", "ObjectStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            // Compiled into the binary: the share page cannot break because a resource bundle was not installed
            // beside the executable.
            resources: [
                .embedInCode("Templates/share-head.mustache"), .embedInCode("Templates/share-item.mustache"),
                .embedInCode("Templates/share-gallery.mustache"), .embedInCode("Templates/share-message.mustache"),
                .embedInCode("Templates/share-password.mustache"),
            ]
        ),
        // Processing module: jobs, outbox, the processing status route, and the worker's job logic (runner,
        // processor, transports) over Core's media contract.
        .target(
            name: "Processing",
            dependencies: [
                "MediaVaultCore", "NSQ", "ObjectStorage", "Transcoding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Object store selection from configuration, and the routes serving the filesystem store's signed URLs.
        .target(
            name: "StorageService",
            dependencies: [
                "MediaVaultCore", "ObjectStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // NSQ TCP protocol (V2) client: no application dependencies.
        .target(
            name: "NSQ",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // In-process nsqd stand-in for tests; written independently of `NSQ` so the two cross-check each other.
        .target(
            name: "NSQTestBroker",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // MPUB/PUB throughput against the test broker (a benchmark, not a test).
        .executableTarget(
            name: "NSQPublishBenchmark",
            dependencies: [
                "NSQ", "NSQTestBroker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/NSQPublishBenchmark"
        ),
        // AWS Signature V4, S3 client and the filesystem store.
        .target(
            name: "ObjectStorage",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // ffprobe/ffmpeg: probing, HEVC transcode plans, progress, posters and thumbnails.
        .target(
            name: "Transcoding",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Transcoder overhead over bare ffmpeg (a benchmark, not a test).
        .executableTarget(
            name: "TranscodeBenchmark",
            dependencies: [
                "Transcoding",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/TranscodeBenchmark"
        ),
        // `mediavault import-original`: reads a deployment of the original backend and hands its records to the
        // modules through Core's import contracts; owns the ledger of what was brought over.
        .target(
            name: "OriginalImport",
            dependencies: [
                "MediaVaultCore", "ObjectStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Composes modules and services into the gateway application.
        .target(
            name: "GatewayApp",
            dependencies: [
                "Auth", "Collection", "Media", "MediaVaultCore", "NSQ", "OriginalImport", "Processing", "StorageService",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The API description, compiled in so the binary always serves the document of its own routes.
            resources: [.embedInCode("openapi.json")]
        ),
        // `mediavault upload`: scan, hash, check, upload (single or multipart, resumable) and confirm, over the API
        // with a personal API key. No server code: it only talks HTTP.
        .target(
            name: "UploadClient",
            dependencies: [
                "MediaVaultCore", "ObjectStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Composes the processing worker from Processing's job logic, storage and ffmpeg; no module's own code.
        .target(
            name: "WorkerApp",
            dependencies: [
                "MediaVaultCore", "ObjectStorage", "Processing", "StorageService", "Transcoding",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The gateway binary: argument parsing only.
        .executableTarget(
            name: "mediavault",
            dependencies: [
                "GatewayApp", "Media", "MediaVaultCore", "OriginalImport", "UploadClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The worker binary: argument parsing, and handing Media's side of a job to the worker.
        .executableTarget(
            name: "mediavault-worker",
            dependencies: [
                "Media", "MediaVaultCore", "WorkerApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fakes of external systems for tests: Discord OAuth, database helpers.
        .target(
            name: "TestSupport",
            dependencies: [
                "MediaVaultCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MediaVaultCoreTests",
            dependencies: [
                "MediaVaultCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        .testTarget(
            name: "AuthTests",
            dependencies: [
                "Auth", "MediaVaultCore",
            ]
        ),
        .testTarget(
            name: "MediaTests",
            dependencies: [
                "Media", "MediaVaultCore",
            ]
        ),
        .testTarget(
            name: "OriginalImportTests",
            dependencies: [
                "MediaVaultCore", "OriginalImport",
            ]
        ),
        .testTarget(
            name: "CollectionTests",
            dependencies: [
                "Collection", "MediaVaultCore",
            ]
        ),
        .testTarget(
            name: "ProcessingTests",
            dependencies: [
                "MediaVaultCore", "Processing", "Transcoding",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "NSQTests",
            dependencies: [
                "NSQ", "NSQTestBroker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TranscodingTests",
            dependencies: [
                "TestSupport", "Transcoding",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Integration tests: the real gateway and worker against PostgreSQL, SeaweedFS, ffmpeg and Chromium.
        .testTarget(
            name: "GatewayIntegrationTests",
            dependencies: [
                "Auth", "GatewayApp", "Media", "MediaVaultCore", "NSQTestBroker", "ObjectStorage", "OriginalImport",
                "StorageService", "TestSupport", "Transcoding", "UploadClient", "WorkerApp",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
