import ArgumentParser
import Foundation
import MediaVaultCore
import UploadClient

/// `mediavault upload PATH…`: argument parsing only; the work is `UploadClient`'s. A subcommand of the one binary
/// rather than its own executable: it adds no dependency the gateway does not already link.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload photos and videos from files and folders, skipping what the server already has.",
        discussion: """
            Phases: scan, hash (SHA-256, checked with the server in batches), upload (one PUT for small files, \
            parts in parallel for large ones), confirm. A run that was interrupted resumes when run again with the \
            same arguments: files already there are skipped, a half-sent large file continues from its parts. \
            The exit status is 1 when any file failed.
            """)

    @Argument(help: "Files and folders (folders are walked recursively; hidden files are skipped).")
    var paths: [String]

    @Option(help: "The MediaVault API, such as https://media.example.com (or MEDIAVAULT_SERVER).")
    var server: String?

    @Option(name: .customLong("api-key"), help: "A personal API key with media:read and media:write (or MEDIAVAULT_API_KEY).")
    var apiKey: String?

    @Option(help: "Only these extensions, comma-separated (jpg,heic,mov).")
    var ext: String?

    @Option(help: "Only these MIME types, comma-separated; type/* takes a family (image/*,video/quicktime).")
    var mime: String?

    @Option(help: "Files (and parts of one large file) sent at once.")
    var concurrency = 4

    @Option(help: "Put the files into this collection, in order; created when missing (needs collections:write).")
    var collection: String?

    @Flag(name: .customLong("dry-run"), help: "Scan, hash and check, but send nothing.")
    var dryRun = false

    @Flag(name: .customLong("skip-hash"), help: "Do not hash: nothing is checked, so a re-run uploads everything again.")
    var skipHash = false

    @Option(name: .customLong("multipart-threshold-mb"), help: "Files from this size (MiB) go up in resumable parts.")
    var multipartThresholdMB = 64

    @Option(
        name: .customLong("part-size-mb"),
        help: "Part size (MiB, 5 to 5120) of new multipart uploads; by default the server's (16, more for huge files).")
    var partSizeMB: Int?

    func run() async throws {
        // The client's own two values, from the environment or `.env` like every setting (they are not the
        // gateway's, so no catalogue lists them).
        let source = try ConfigSource.load()
        guard let server = server ?? source.rawValue("MEDIAVAULT_SERVER"), !server.isEmpty else {
            throw ValidationError("--server or MEDIAVAULT_SERVER is required")
        }
        guard let apiKey = apiKey ?? source.rawValue("MEDIAVAULT_API_KEY"), !apiKey.isEmpty else {
            throw ValidationError("--api-key or MEDIAVAULT_API_KEY is required (create one at POST /auth/api-keys)")
        }
        guard (1...32).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 32") }
        guard multipartThresholdMB >= 5 else { throw ValidationError("--multipart-threshold-mb must be at least 5") }
        if let partSizeMB, !(5...5120).contains(partSizeMB) {
            throw ValidationError("--part-size-mb must be 5 to 5120")
        }
        var options = UploadOptions(server: server, apiKey: apiKey, paths: paths)
        options.extensions = ext.map { Set($0.split(separator: ",").map { $0.lowercased().trimmingCharacters(in: .init(charactersIn: ". ")) }) }
        do {
            options.mimeTypes = try mime.map(MimeFilter.init)
        } catch let error as UploadError {
            throw ValidationError(error.message)
        }
        options.concurrency = concurrency
        options.collection = collection
        options.dryRun = dryRun
        options.skipHash = skipHash
        options.multipartThreshold = Int64(multipartThresholdMB) << 20
        options.partSize = partSizeMB.map { Int64($0) << 20 }
        let interrupts = Self.announceInterrupts()
        defer { interrupts.cancel() }
        do {
            let summary = try await Uploader(options: options).run()
            if !summary.succeeded { throw ExitCode(1) }
        } catch let error as UploadError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Ctrl-C ends the run at once, as users expect, but says what happens next: what the server has stays there
    /// (finished files and the parts of a half-sent one), and the same command continues from it. The process then
    /// dies of SIGINT itself rather than exiting, so a shell loop around it stops too.
    static func announceInterrupts() -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            let notice = "\ninterrupted: files and parts already sent stay on the server; "
                + "run the same command again to continue\n"
            FileHandle.standardError.write(Data(notice.utf8))
            // Dispatch's threads block signals, so this one unblocks SIGINT before raising it at itself.
            signal(SIGINT, SIG_DFL)
            var interrupt = sigset_t()
            sigemptyset(&interrupt)
            sigaddset(&interrupt, SIGINT)
            pthread_sigmask(SIG_UNBLOCK, &interrupt, nil)
            raise(SIGINT)
            Foundation.exit(130)
        }
        source.resume()
        return source
    }
}
