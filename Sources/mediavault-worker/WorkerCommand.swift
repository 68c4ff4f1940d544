import ArgumentParser
import Foundation
import Logging
import Media
import MediaVaultCore
import WorkerApp

@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediavault-worker", abstract: "MediaVault processing worker: transcodes uploads to HEVC.")

    @Flag(help: "Print the worker's configuration reference (Markdown) and exit.")
    var settings = false

    @Option(
        name: .customLong("print-plan"),
        help: ArgumentHelp("Print the ffmpeg arguments the worker would run for this file (as video/mp4) and exit.",
            valueName: "file"))
    var planFile: String?

    func run() async throws {
        if settings {
            print(WorkerConfiguration.catalog.markdownReference(), terminator: "")
            return
        }
        let configuration: WorkerConfiguration
        do {
            configuration = try WorkerConfiguration(source: ConfigSource.load())
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
        StructuredLogHandler.bootstrap(configuration.core.logging)
        let logger = Logger(label: "mediavault.worker")
        if let planFile {
            let arguments = try await transcodeArguments(
                configuration: configuration, file: URL(fileURLWithPath: planFile), mimeType: "video/mp4",
                primary: URL(fileURLWithPath: "primary.mp4"), compatibility: URL(fileURLWithPath: "compatibility.mp4"),
                logger: logger)
            print(arguments.joined(separator: "\n"))
            return
        }
        do {
            let media = MediaModule.processingLedger(logger: logger)
            try await buildWorker(configuration: configuration, media: media, logger: logger).run()
        } catch {
            logger.critical("worker stopped", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
