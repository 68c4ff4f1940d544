import ArgumentParser
import Foundation
import GatewayApp
import Media
import Hummingbird
import Logging
import MediaVaultCore

@main
struct MediaVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediavault",
        abstract: "MediaVault gateway: REST API for sign-in, media and collections.",
        subcommands: [Serve.self, Migrate.self, Reprocess.self, CheckConfig.self, Settings.self],
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
