import ArgumentParser
import Foundation
import Logging
import MediaVaultCore
import WorkerApp

@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediavault-worker", abstract: "MediaVault processing worker.")

    func run() async throws {
        let configuration: WorkerConfiguration
        do {
            configuration = try WorkerConfiguration(source: ConfigSource.load())
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
        StructuredLogHandler.bootstrap(configuration.core.logging)
        try await runWorker(configuration: configuration, logger: Logger(label: "mediavault.worker"))
    }
}
