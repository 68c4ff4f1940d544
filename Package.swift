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
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // Shared plumbing: configuration, error envelope, database + migrations, logging, metrics, HTTP middleware.
        .target(
            name: "MediaVaultCore",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Discord sign-in, sessions and the authentication middleware other modules use.
        .target(
            name: "Auth",
            dependencies: [
                "MediaVaultCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Media module: presigned uploads, confirmation, tags, listing, deletion, quotas.
        .target(
            name: "Media",
            dependencies: [
                "MediaVaultCore", "ObjectStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
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
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Processing module: jobs, outbox and the processing status route.
        .target(
            name: "Processing",
            dependencies: [
                "MediaVaultCore", "NSQ",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
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
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // NSQ TCP protocol (V2) client: no application dependencies.
        .target(
            name: "NSQ",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // In-process nsqd stand-in for tests; written independently of `NSQ` so the two cross-check each other.
        .target(
            name: "NSQTestBroker",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // MPUB/PUB throughput against the test broker (a benchmark, not a test).
        .executableTarget(
            name: "NSQPublishBenchmark",
            dependencies: ["NSQ", "NSQTestBroker"],
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
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // ffprobe/ffmpeg: probing, HEVC transcode plans, progress, posters and thumbnails.
        .target(
            name: "Transcoding",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        // Composes modules and services into the gateway application.
        .target(
            name: "GatewayApp",
            dependencies: [
                "MediaVaultCore", "Auth", "Media", "Collection", "Processing", "StorageService", "ObjectStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Composes the processing worker.
        .target(
            name: "WorkerApp",
            dependencies: [
                "MediaVaultCore", "StorageService", "Processing", "Media", "Transcoding", "ObjectStorage", "NSQ",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "mediavault",
            dependencies: [
                "GatewayApp", "MediaVaultCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "mediavault-worker",
            dependencies: [
                "WorkerApp", "MediaVaultCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fakes of external systems for tests: Discord OAuth, database helpers.
        .target(
            name: "TestSupport",
            dependencies: [
                "MediaVaultCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TranscodingTests",
            dependencies: ["Transcoding", .product(name: "Logging", package: "swift-log")]
        ),
        // Transcoder overhead over bare ffmpeg (a benchmark, not a test).
        .executableTarget(
            name: "TranscodeBenchmark",
            dependencies: ["Transcoding", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/TranscodeBenchmark"
        ),
        .testTarget(
            name: "NSQTests",
            dependencies: [
                "NSQ", "NSQTestBroker",
                .product(name: "NIOEmbedded", package: "swift-nio"),
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
            name: "CollectionTests",
            dependencies: ["Collection", "MediaVaultCore"]
        ),
        .testTarget(
            name: "MediaVaultCoreTests",
            dependencies: ["MediaVaultCore", "TestSupport"]
        ),
        .testTarget(
            name: "GatewayIntegrationTests",
            dependencies: [
                "GatewayApp", "WorkerApp", "Auth", "Media", "Collection", "MediaVaultCore", "ObjectStorage", "TestSupport",
                "NSQTestBroker", "Transcoding",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
