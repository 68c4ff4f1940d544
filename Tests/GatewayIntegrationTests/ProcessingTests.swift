import Foundation
import Logging
import Media
import MediaVaultCore
import NSQTestBroker
import TestSupport
import Testing
import Transcoding
import WorkerApp
import ServiceLifecycle

/// Upload → confirm → worker → ready, with real ffmpeg, through NSQ (test broker) and through PostgreSQL alone.
@Suite("Processing: jobs, NSQ delivery and the HEVC worker",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg"), "ffmpeg is not installed"))
struct ProcessingTests {
    /// A short test clip (testsrc + sine), H.264/AAC.
    static func makeClip(seconds: Int = 2, size: String = "320x240") async throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-clip-\(UUID().uuidString).mp4")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=\(size):rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440", "-t", "\(seconds)", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-y", url.path,
        ])
        return url
    }

    /// Runs a worker in this process against the gateway's database and storage.
    static func withWorker(
        _ gateway: GatewayHarness, extra: [String: String] = [:], _ body: () async throws -> Void
    ) async throws {
        var environment = gateway.environment.merging([
            "WORKER_HTTP_HOST": "127.0.0.1", "WORKER_HTTP_PORT": "0", "WORKER_POLL_INTERVAL_MS": "100",
            "JOB_RETRY_BASE_SECONDS": "0", "FFMPEG_PRESET": "ultrafast", "WORKER_SHUTDOWN_GRACE_SECONDS": "5",
        ]) { $1 }
        environment.merge(extra) { $1 }
        let configuration = try WorkerConfiguration(source: ConfigSource(environment: environment))
        var logger = Logger(label: "worker-test")
        logger.logLevel = .warning
        let worker = try await RunningServer.start { onRunning in
            WorkerBox(configuration: configuration, logger: logger, onRunning: onRunning)
        }
        do {
            try await body()
        } catch {
            try? await worker.stop()
            throw error
        }
        try await worker.stop()
    }

    /// Uploads a file through the API and confirms it; returns the media id.
    static func uploadFile(_ gateway: GatewayHarness, token: String, file: URL, type: String = "video/mp4") async throws -> String {
        let bytes = Array(try Data(contentsOf: file))
        return try await MediaFlowTests.upload(gateway, token: token, name: file.lastPathComponent, type: type, bytes: bytes)
    }

    /// Polls the status endpoint until the job ends (ready or failed).
    static func waitForOutcome(_ gateway: GatewayHarness, token: String, mediaID: String, seconds: Int = 90) async throws
        -> [String: Any]
    {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let status = try await gateway.request(.GET, "/processing/\(mediaID)/status", token: token).json
            if let state = status["status"] as? String, state == "ready" || state == "failed" { return status }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError(message: "job for \(mediaID) did not finish in \(seconds) s")
    }

    /// The processed file is HEVC tagged hvc1, with a poster and the duration recorded.
    static func expectTranscoded(_ gateway: GatewayHarness, token: String, mediaID: String) async throws {
        let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
        #expect(item["status"] as? String == "ready")
        #expect(abs((item["duration_seconds"] as? Double ?? 0) - 2) < 0.3)
        #expect(item["width"] as? Int == 320)
        let stream = try #require(item["stream_url"] as? String)
        let thumbnail = try #require(item["thumbnail_url"] as? String)
        let processed = try await gateway.request(.GET, stream)
        #expect(processed.status == 200)
        let file = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-processed-\(UUID().uuidString).mp4")
        try Data(processed.body.readableBytesView).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let probe = try await MediaProbe(tools: ToolPaths()).probe(file)
        #expect(probe.video?.codecName == "hevc")
        #expect(probe.video?.codecTag == "hvc1")
        #expect(probe.audio?.codecName == "aac")
        let poster = try await gateway.request(.GET, thumbnail)
        #expect(poster.status == 200)
        #expect(Array(poster.body.readableBytesView.prefix(2)) == [0xFF, 0xD8], "a JPEG")
    }

    @Test("PostgreSQL as the queue (no NSQ): clip becomes HEVC with a poster")
    func postgresTransport() async throws {
        let clip = try await Self.makeClip()
        defer { try? FileManager.default.removeItem(at: clip) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "1100")
            try await Self.withWorker(gateway) {
                let mediaID = try await Self.uploadFile(gateway, token: token, file: clip)
                let status = try await Self.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(status["status"] as? String == "ready")
                #expect(status["progress"] as? Double == 100)
                #expect(status["attempts"] as? Int == 1)
                try await Self.expectTranscoded(gateway, token: token, mediaID: mediaID)
            }
        }
    }

    @Test("through NSQ: a broker outage while confirming only delays the job; duplicates are finished harmlessly",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func nsqTransport() async throws {
        let clip = try await Self.makeClip()
        defer { try? FileManager.default.removeItem(at: clip) }
        let broker = try await NSQTestBroker.started()
        let address = try await broker.address
        let environment = S3TestServer.environment().merging(["NSQ_HOSTS": address]) { $1 }
        try await GatewayHarness.with(extraEnvironment: environment) { gateway in
            let token = try await gateway.token(for: "1200")
            try await Self.withWorker(gateway) {
                // nsqd is down: the upload is still accepted, the message waits in the outbox.
                await broker.stop()
                let mediaID = try await Self.uploadFile(gateway, token: token, file: clip)
                try await Task.sleep(for: .seconds(1))
                #expect(try await gateway.scalar("SELECT count(*) FROM processing.outbox WHERE sent_at IS NULL") == 1)
                let ready = try await gateway.request(.GET, "/readyz")
                #expect(ready.status == 200, "NSQ being down does not make the gateway unready")
                #expect(((ready.json["checks"] as? [String: Any])?["nsq"] as? [String: Any])?["status"] as? String == "down")
                _ = try await broker.start()

                let status = try await Self.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(status["status"] as? String == "ready")
                try await Self.expectTranscoded(gateway, token: token, mediaID: mediaID)
                #expect(try await gateway.scalar("SELECT count(*) FROM processing.outbox WHERE sent_at IS NULL") == 0)

                // The same message delivered again: the job row is done, so the worker just finishes it.
                let payload = try await gateway.text("SELECT payload::text FROM processing.outbox LIMIT 1")
                try await broker.publish(topic: "media-uploaded", body: Array(payload.utf8))
                var finished = false
                for _ in 0..<50 where !finished {
                    try await Task.sleep(for: .milliseconds(100))
                    finished = (try await broker.channelStats(topic: "media-uploaded", channel: "processing-worker")?.finishedCount ?? 0) >= 2
                }
                #expect(finished)
                #expect(try await gateway.scalar("SELECT attempts FROM processing.jobs") == 1, "no second transcode")
            }
        }
        await broker.stop()
    }

    @Test("a corrupt video fails at once with ffprobe's reason (no retry can mend it), and can be reprocessed")
    func corruptVideo() async throws {
        let corrupt = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-corrupt-\(UUID().uuidString).mp4")
        try Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: corrupt)
        defer { try? FileManager.default.removeItem(at: corrupt) }
        try await GatewayHarness.with(extraEnvironment: ["JOB_MAX_ATTEMPTS": "2"]) { gateway in
            let token = try await gateway.token(for: "1300")
            try await Self.withWorker(gateway) {
                let mediaID = try await Self.uploadFile(gateway, token: token, file: corrupt)
                let status = try await Self.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(status["status"] as? String == "failed")
                #expect(status["attempts"] as? Int == 1, "JOB_MAX_ATTEMPTS is 2, but the file cannot be decoded")
                let reason = try #require(status["error_message"] as? String)
                #expect(reason.contains("Invalid data") || reason.contains("moov"), "reason: \(reason)")
                #expect(!reason.contains("\n") && reason.count < 300)
                let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
                #expect(item["status"] as? String == "failed")
                #expect(item["error_message"] as? String == reason)

                let again = try await gateway.request(.POST, "/media/\(mediaID)/reprocess", token: token)
                #expect(again.status == 200)
                #expect(again.json["status"] as? String == "queued")
                let retried = try await Self.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(retried["status"] as? String == "failed")
                #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE media_id = '\(mediaID)'") == 2)
            }
        }
    }

    @Test("a worker killed mid-transcode: the job is handed out again and completes once, by another worker",
        .enabled(if: WorkerBinary.path != nil, "the mediavault-worker binary is not built"))
    func workerKilledMidJob() async throws {
        let clip = try await Self.makeClip(seconds: 20, size: "640x480")
        defer { try? FileManager.default.removeItem(at: clip) }
        try await GatewayHarness.with(extraEnvironment: ["JOB_STALE_SECONDS": "3"]) { gateway in
            let token = try await gateway.token(for: "1400")
            var environment = gateway.environment
            environment["WORKER_HTTP_PORT"] = "0"
            environment["FFMPEG_PRESET"] = "slow"
            environment["LOG_LEVEL"] = "warning"
            environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
            let doomed = try WorkerBinary.launch(environment: environment)
            let mediaID = try await Self.uploadFile(gateway, token: token, file: clip)
            var started = false
            for _ in 0..<150 where !started {
                try await Task.sleep(for: .milliseconds(200))
                started = try await gateway.scalar(
                    "SELECT count(*) FROM processing.jobs WHERE status = 'processing'") == 1
            }
            #expect(started, "the first worker claimed the job")
            try await Task.sleep(for: .seconds(2))
            kill(doomed, SIGKILL)
            var reaped: Int32 = 0
            waitpid(doomed, &reaped, 0)
            // ffmpeg, orphaned by the kill, is stopped too, as a container runtime would.
            _ = try? await Shell.run(["pkill", "-KILL", "-f", "mediavault-job-"])

            try await Self.withWorker(gateway) {
                let status = try await Self.waitForOutcome(gateway, token: token, mediaID: mediaID, seconds: 180)
                #expect(status["status"] as? String == "ready")
                #expect(status["attempts"] as? Int == 2)
            }
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE status = 'completed'") == 1)
        }
    }
}

extension ProcessingTests {
    @Test("SIGTERM-style shutdown: a job that cannot finish within the grace period is handed back, not lost")
    func gracefulShutdownHandsJobBack() async throws {
        let clip = try await Self.makeClip(seconds: 8, size: "640x480")
        defer { try? FileManager.default.removeItem(at: clip) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "1500")
            var mediaID = ""
            try await Self.withWorker(gateway, extra: ["FFMPEG_PRESET": "slow", "WORKER_SHUTDOWN_GRACE_SECONDS": "1"]) {
                mediaID = try await Self.uploadFile(gateway, token: token, file: clip)
                var started = false
                for _ in 0..<150 where !started {
                    try await Task.sleep(for: .milliseconds(200))
                    started = try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE status = 'processing'") == 1
                }
                #expect(started)
            }
            // The worker stopped: the job is queued again with its attempt given back, and no ffmpeg is left.
            let jobState = try await gateway.text("SELECT status || '/' || attempts || '/' || coalesce(error_message, '') FROM processing.jobs")
            #expect(jobState == "queued/0/", "job after shutdown: \(jobState)")
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE status = 'queued' AND attempts = 0") == 1)
            #expect(try await gateway.text("SELECT status FROM media.items") == "queued")
            try await Self.withWorker(gateway, extra: ["FFMPEG_PRESET": "ultrafast"]) {
                let status = try await Self.waitForOutcome(gateway, token: token, mediaID: mediaID, seconds: 120)
                #expect(status["status"] as? String == "ready")
                #expect(status["attempts"] as? Int == 1)
            }
        }
    }
}

/// Runs the worker's service group as one service (so tests can start and stop it like a server).
struct WorkerBox: Service {
    let configuration: WorkerConfiguration
    let logger: Logger
    let onRunning: @Sendable (Int) async -> Void

    func run() async throws {
        let group = try await buildWorker(
            configuration: configuration, media: MediaModule.processingLedger(logger: logger), logger: logger,
            onHTTPRunning: onRunning)
        try await withGracefulShutdownHandler {
            try await group.run()
        } onGracefulShutdown: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}

/// The built `mediavault-worker` executable, for tests that must kill a real process.
enum WorkerBinary {
    static var path: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidate = root.appendingPathComponent(".build/debug/mediavault-worker").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    static func launch(environment: [String: String]) throws -> pid_t {
        guard let path else { throw HarnessError(message: "worker binary missing") }
        var pid = pid_t()
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let result = posix_spawn(&pid, path, nil, nil, &argv, &envp)
        guard result == 0 else { throw HarnessError(message: "posix_spawn failed: \(result)") }
        return pid
    }
}

/// Runs a short command to completion off the cooperative pool.
enum Shell {
    /// Its standard output, trimmed; throws when it fails.
    static func output(_ arguments: [String]) async throws -> String {
        let pipe = Pipe()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            process.terminationHandler = { process in
                if process.terminationStatus == 0 {
                    continuation.resume()
                } else {
                    continuation.resume(throwing: HarnessError(message: "\(arguments[0]) exited \(process.terminationStatus)"))
                }
            }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func run(_ arguments: [String]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.terminationHandler = { process in
                if process.terminationStatus == 0 || arguments.first == "pkill" {
                    continuation.resume()
                } else {
                    continuation.resume(throwing: HarnessError(message: "\(arguments[0]) exited \(process.terminationStatus)"))
                }
            }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }
}
