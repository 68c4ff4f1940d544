import ArgumentParser
import Foundation
import GatewayApp
import Media
import Hummingbird
import Logging
import MediaVaultCore
import OriginalImport

@main
struct MediaVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediavault",
        abstract: "MediaVault gateway: REST API for sign-in, media and collections.",
        subcommands: [
            Serve.self, Migrate.self, Reprocess.self, ImportOriginalCommand.self, UploadCommand.self, CheckConfig.self,
            Settings.self,
        ],
        defaultSubcommand: Serve.self)
}

/// Loads configuration or exits with one line per problem (exit code 78, EX_CONFIG).
func loadGatewayConfiguration() -> GatewayConfiguration {
    do {
        return try GatewayConfiguration(source: ConfigSource.load())
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        exit(78)
    } catch {
        FileHandle.standardError.write(Data("configuration error: \(error)\n".utf8))
        exit(78)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP gateway (default).")

    @Flag(name: .customLong("no-migrate"), help: "Do not apply database migrations at start.")
    var noMigrate = false

    func run() async throws {
        let configuration = loadGatewayConfiguration()
        StructuredLogHandler.bootstrap(configuration.core.logging)
        let logger = Logger(label: "mediavault")
        logger.info(
            "starting gateway",
            metadata: [
                "port": "\(configuration.port)", "environment": "\(configuration.core.environment.rawValue)",
                "database": "\(configuration.core.database.host):\(configuration.core.database.port)/\(configuration.core.database.database)",
            ])
        let app = try buildGateway(
            configuration: configuration, logger: logger,
            options: GatewayOptions(runMigrations: noMigrate ? false : nil))
        try await app.runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    func run() async throws {
        let configuration = loadGatewayConfiguration()
        StructuredLogHandler.bootstrap(configuration.core.logging)
        let logger = Logger(label: "mediavault.migrate")
        let applied = try await migrateDatabase(configuration: configuration.core, logger: logger)
        logger.info("migrations done", metadata: ["applied": "\(applied.count)"])
    }
}

struct Reprocess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue media for processing again (after changing transcode settings).",
        discussion: "Each item gets a new job through the normal queue; items already being processed are skipped.")

    @Flag(help: "Every ready or failed item.")
    var all = false

    @Option(help: "Only items in this state: ready or failed.")
    var status: String?

    @Option(name: .customLong("media"), help: "One item by id (repeatable).")
    var mediaIDs: [String] = []

    func validate() throws {
        guard [all, status != nil, !mediaIDs.isEmpty].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --all, --status or --media")
        }
        if let status, !["ready", "failed"].contains(status) {
            throw ValidationError("--status must be ready or failed")
        }
        for id in mediaIDs where UUID(uuidString: id) == nil { throw ValidationError("--media \(id) is not a media id") }
    }

    func run() async throws {
        let configuration = loadGatewayConfiguration()
        StructuredLogHandler.bootstrap(configuration.core.logging)
        let selection: ReprocessSelection =
            all ? .all : status.flatMap(MediaStatus.init(rawValue:)).map { .status($0) }
            ?? .media(mediaIDs.compactMap(UUID.init(uuidString:)))
        let bar = ProgressLine(label: "reprocess")
        let summary = try await reprocessMedia(
            configuration: configuration, selection: selection, logger: Logger(label: "mediavault.reprocess")
        ) { bar.update(done: $0.queued + $0.skipped, total: $0.total) }
        bar.finish()
        print("queued \(summary.queued), skipped \(summary.skipped) already being processed, of \(summary.total)")
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate configuration and exit (0 when valid).")

    func run() async throws {
        _ = loadGatewayConfiguration()
        print("configuration is valid")
    }
}

struct Settings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the configuration reference (every setting, default and meaning) as Markdown.")

    func run() async throws {
        print(GatewayConfiguration.catalog.markdownReference(), terminator: "")
    }
}

struct ImportOriginalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-original",
        abstract: "Bring over a deployment of the original backend: users, media, tags, collections and share links.",
        discussion: """
            Reads the original's databases and writes into MediaVault's (configured as for `serve`). Media keep their \
            ids and object keys (nothing is copied in storage); collections keep their ids and share tokens, so every \
            share URL already handed out keeps working. Safe to interrupt and to run again: a re-run imports only \
            what is new.

            Give the original's infra config file, or connection URLs (one database holding every table works too):
              mediavault import-original --infra-config production.infra.json --dry-run
              mediavault import-original --database-url postgres://user:pass@db:5432/mediavault_media \\
                --auth-url postgres://user:pass@db:5432/mediavault_auth ...
            """)

    @Option(name: .customLong("infra-config"), help: "The original's infra JSON (its $env references are resolved).")
    var infraConfig: String?

    @Option(name: .customLong("database-url"), help: "The original's database, for every service without its own URL.")
    var databaseURL: String?

    @Option(name: .customLong("auth-url"), help: "The original's auth database (table users).")
    var authURL: String?

    @Option(name: .customLong("media-url"), help: "The original's media database (tables media, tags, media_tags).")
    var mediaURL: String?

    @Option(name: .customLong("collection-url"), help: "The original's collection database (collections, collection_items).")
    var collectionURL: String?

    @Option(name: .customLong("processing-url"), help: "The original's processing database (processing_jobs); optional.")
    var processingURL: String?

    @Flag(name: .customLong("dry-run"), help: "Count what would be imported; write nothing.")
    var dryRun = false

    @Flag(help: "HEAD every object the original's media name; report missing or differently sized objects.")
    var verify = false

    @Option(name: .customLong("batch-size"), help: "Rows per transaction (1–5000).")
    var batchSize = 500

    @Flag(help: "Print the summary as JSON.")
    var json = false

    var perService: [OriginalService: String] {
        var urls: [OriginalService: String] = [:]
        urls[.auth] = authURL
        urls[.media] = mediaURL
        urls[.collection] = collectionURL
        urls[.processing] = processingURL
        return urls
    }

    func validate() throws {
        let usesURLs = databaseURL != nil || !perService.isEmpty
        guard (infraConfig != nil) != usesURLs else {
            throw ValidationError("give either --infra-config or database URLs (--database-url, --auth-url, …)")
        }
        guard (1...5000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 5000") }
    }

    func run() async throws {
        let configuration = loadGatewayConfiguration()
        StructuredLogHandler.bootstrap(configuration.core.logging)
        let logger = Logger(label: "mediavault.import-original")
        do {
            let sources: OriginalSources
            if let infraConfig {
                guard let data = FileManager.default.contents(atPath: infraConfig) else {
                    throw ImportError.configuration("cannot read \(infraConfig)")
                }
                let source = try ConfigSource.load()
                sources = try OriginalSources(
                    infraJSON: data, environment: source.dotEnv.merging(source.environment) { $1 }, fileName: infraConfig)
            } else {
                sources = try OriginalSources(all: databaseURL, perService: perService)
            }
            let bars = ImportProgressBars()
            let summary = try await importOriginal(
                configuration: configuration, sources: sources,
                options: ImportOptions(dryRun: dryRun, verify: verify, batchSize: batchSize), logger: logger,
                progress: bars.update)
            bars.finish()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                print(summary.report)
            }
        } catch let error as ImportError {
            FileHandle.standardError.write(Data(("import-original: \(error)\n").utf8))
            switch error {
            case .configuration: throw ExitCode(64)
            case .unreachable: throw ExitCode(69)
            case .unexpectedSchema: throw ExitCode(65)
            }
        }
    }
}

/// One progress line per import phase, each finished when the next begins.
final class ImportProgressBars: @unchecked Sendable {
    private let lock = NSLock()
    private var current: (phase: ImportPhase, line: ProgressLine)?

    func update(_ progress: ImportProgress) {
        lock.withLock {
            if current?.phase != progress.phase {
                current?.line.finish()
                current = (progress.phase, ProgressLine(label: progress.phase.rawValue))
            }
            current?.line.update(done: progress.done, total: progress.total)
        }
    }

    func finish() {
        lock.withLock {
            current?.line.finish()
            current = nil
        }
    }
}
