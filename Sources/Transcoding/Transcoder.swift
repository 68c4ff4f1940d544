import Foundation
import Logging

/// Pixel dimensions of a produced image.
public struct ImageSize: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Creates a size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// Runs planned transcodes and makes JPEG posters/thumbnails with ffmpeg.
public struct Transcoder: Sendable {
    /// Tool locations.
    public let tools: ToolPaths
    /// Limits every ffmpeg/ffprobe run is started under; nil runs them without prlimit and nice.
    public let limits: ToolLimits?
    /// Minimum time between two progress callbacks.
    public let progressInterval: Duration
    /// How long ffmpeg gets after SIGTERM (on timeout/cancellation) before SIGKILL.
    public let terminationGrace: Duration
    let logger: Logger
    var runner: ProcessRunner

    /// Creates a transcoder; `limits` sandbox every tool run (needing prlimit and nice from `tools`),
    /// `progressInterval` throttles callbacks, `terminationGrace` bounds shutdown.
    public init(
        tools: ToolPaths = ToolPaths(), logger: Logger = Logger(label: "transcoding"),
        limits: ToolLimits? = .default, progressInterval: Duration = .milliseconds(500),
        terminationGrace: Duration = .seconds(2)
    ) {
        self.tools = tools
        self.limits = limits
        self.logger = logger
        self.progressInterval = progressInterval
        self.terminationGrace = terminationGrace
        var runner = ProcessRunner(terminationGrace: terminationGrace)
        runner.limits = limits
        runner.prlimitPath = tools.prlimit
        runner.nicePath = tools.nice
        self.runner = runner
    }

    /// Probes `file` with ffprobe under `InputPolicy`; throws `.invalidInput` when it isn't readable media or is
    /// refused (a playlist, a concat list, a URL), `.resourceLimit` when ffprobe hit one of `limits`.
    public func probe(_ file: URL, timeout: Duration = .seconds(60)) async throws -> ProbeResult {
        try await MediaProbe(tools: tools, runner: runner, logger: logger).probe(file, timeout: timeout)
    }

    /// Checks ffmpeg/ffprobe, started under `limits` (so prlimit and nice too), and the libx265 encoder; throws
    /// `.toolMissing` with a clear reason.
    public func checkTools(timeout: Duration = .seconds(30)) async throws -> ToolReport {
        try await Transcoding.checkTools(tools, runner: runner, timeout: timeout)
    }

    /// Reads `file`'s metadata with exiftool, under the same limits as ffmpeg and a short timeout: numbers as numbers
    /// (`-n`), one JSON object, and `-fast` so that it stops at the image data instead of scanning a hostile file
    /// to its end. Throws `.invalidInput` when exiftool cannot read the file, `.toolMissing` when it is absent.
    public func readMetadata(_ file: URL, timeout: Duration = .seconds(30)) async throws -> MediaMetadata {
        guard FileManager.default.isExecutableFile(atPath: tools.exiftool) else {
            throw TranscodingError.toolMissing.with(
                reason: "exiftool not found at \"\(tools.exiftool)\" (Debian: apt-get install libimage-exiftool-perl)")
        }
        let outcome = try await runner.run(
            executable: tools.exiftool,
            arguments: ["-json", "-n", "-fast", "-q", "-q", "-charset", "filename=utf8", "--", file.standardizedFileURL.path],
            stdout: .collect(limit: 4 << 20), timeout: timeout)
        guard outcome.succeeded, !outcome.stdoutOverflowed else {
            throw TranscodingError.invalidInput.with(
                reason: "exiftool could not read the file (status \(outcome.exitStatus))", details: outcome.stderrTail)
        }
        return try MediaMetadata.parse(exiftoolJSON: outcome.stdout)
    }

    /// Runs `plan`, reporting progress 0...100 (monotonic, throttled, 100 exactly once after success).
    ///
    /// `progress` runs on a background thread and should return quickly. On any failure every output file is
    /// removed and a `TranscodingError` is thrown: `.ffmpegFailed` (reason = ffmpeg's last error line),
    /// `.invalidInput` (the input was refused by `InputPolicy`), `.resourceLimit`, `.timedOut`, `.cancelled` or
    /// `.toolMissing`.
    public func transcode(
        plan: TranscodePlan, durationSeconds: Double?, progress: @escaping @Sendable (Double) -> Void,
        timeout: Duration = .seconds(6 * 3600)
    ) async throws {
        let reporter = ProgressReporter(durationSeconds: durationSeconds, interval: progressInterval, sink: progress)
        let started = ContinuousClock.now
        let outputs = plan.outputs.map(\.url)
        logger.debug("ffmpeg starting", metadata: ["arguments": "\(plan.arguments.joined(separator: " "))"])
        try await runFFmpeg(
            arguments: plan.arguments, input: plan.input, outputs: outputs,
            stdout: .lines { reporter.consume($0) }, timeout: timeout)
        guard outputs.allSatisfy(Self.nonEmptyFile) else {
            outputs.forEach(Self.removePartial)
            throw TranscodingError.ffmpegFailed.with(reason: "ffmpeg exited successfully but wrote no output")
        }
        reporter.finish()
        let written = plan.outputs.map {
            "\($0.kind.rawValue) (video \($0.video.rawValue), audio \($0.audio.rawValue))"
        }
        logger.info(
            "transcode finished",
            metadata: [
                "input": "\(plan.input.path)", "outputs": "\(written.joined(separator: ", "))",
                "elapsed": "\(ContinuousClock.now - started)",
            ])
    }

    /// Writes a JPEG poster frame of a video (at min(1 s, duration/10)), at most `width` wide; returns its size.
    public func makePoster(
        input: URL, output: URL, durationSeconds: Double?, width: Int = 640, timeout: Duration = .seconds(120)
    ) async throws -> ImageSize {
        let seek = StillFramePlan.posterSeek(durationSeconds: durationSeconds)
        try await extractFrame(input: input, output: output, seek: seek, width: width, timeout: timeout)
        if seek != nil, !Self.nonEmptyFile(output) {
            // A wrong container duration can put the seek past the last frame; the first frame always exists.
            try await extractFrame(input: input, output: output, seek: nil, width: width, timeout: timeout)
        }
        return try await producedImageSize(output, timeout: timeout)
    }

    /// Writes a JPEG thumbnail of a still image (first frame of GIF/animated formats), at most `width` wide.
    public func makeImageThumbnail(input: URL, output: URL, width: Int = 640, timeout: Duration = .seconds(120))
        async throws -> ImageSize
    {
        try await extractFrame(input: input, output: output, seek: nil, width: width, timeout: timeout)
        return try await producedImageSize(output, timeout: timeout)
    }

    // MARK: - Internals

    private func extractFrame(input: URL, output: URL, seek: Double?, width: Int, timeout: Duration) async throws {
        let arguments = try StillFramePlan.arguments(input: input, output: output, seekSeconds: seek, width: width)
        try await runFFmpeg(
            arguments: arguments, input: input, outputs: [output], stdout: .collect(limit: 64 << 10), timeout: timeout)
    }

    private func producedImageSize(_ output: URL, timeout: Duration) async throws -> ImageSize {
        guard Self.nonEmptyFile(output) else {
            Self.removePartial(output)
            throw TranscodingError.ffmpegFailed.with(reason: "ffmpeg produced no image (no decodable video frame)")
        }
        let result: ProbeResult
        do {
            result = try await probe(output, timeout: timeout)
        } catch let error as TranscodingError where error == .invalidInput {
            Self.removePartial(output)
            throw TranscodingError.ffmpegFailed.with(reason: "produced image is unreadable: \(error.reason)")
        }
        guard let video = result.video else {
            Self.removePartial(output)
            throw TranscodingError.ffmpegFailed.with(reason: "produced image has no picture")
        }
        return ImageSize(width: video.displayWidth, height: video.displayHeight)
    }

    /// Runs ffmpeg; on any failure removes `outputs` and throws a typed error.
    private func runFFmpeg(
        arguments: [String], input: URL, outputs: [URL], stdout: StdoutHandling, timeout: Duration
    ) async throws {
        let outcome: ProcessOutcome
        let outputPaths = outputs.map(\.path).joined(separator: ", ")
        do {
            outcome = try await runner.run(
                executable: tools.ffmpeg, arguments: arguments, stdout: stdout, timeout: timeout)
        } catch {
            outputs.forEach(Self.removePartial)
            logger.debug("ffmpeg stopped", metadata: ["outputs": "\(outputPaths)", "error": "\(error)"])
            throw error
        }
        guard outcome.succeeded else {
            outputs.forEach(Self.removePartial)
            // Only the input path is stripped: a message about the output keeps its path, which tells them apart.
            let paths = [input.standardizedFileURL.path]
            let details = Array(FFmpegDiagnostics.meaningfulLines(outcome.stderrTail, paths: paths).suffix(10))
            if let refusal = InputPolicy.refusal(in: outcome.stderrTail) {
                logger.debug("ffmpeg refused the input", metadata: ["input": "\(input.path)", "reason": "\(refusal)"])
                throw TranscodingError.invalidInput.with(
                    reason: refusal, details: details, exitStatus: outcome.exitStatus)
            }
            let fallback =
                outcome.killedBySignal
                ? "ffmpeg was killed by signal \(outcome.exitStatus)"
                : "ffmpeg exited with status \(outcome.exitStatus)"
            let reason = FFmpegDiagnostics.reason(from: outcome.stderrTail, paths: paths) ?? fallback
            logger.debug("ffmpeg failed", metadata: ["outputs": "\(outputPaths)", "reason": "\(reason)"])
            throw TranscodingError.ffmpegFailed.with(reason: reason, details: details, exitStatus: outcome.exitStatus)
        }
    }

    static func nonEmptyFile(_ url: URL) -> Bool {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
        return (size ?? 0) > 0
    }

    static func removePartial(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Pure argument building for single-frame JPEG extraction.
enum StillFramePlan {
    /// Poster time: min(1 s, duration/10); nil (first frame) for clips shorter than a second or of unknown length.
    static func posterSeek(durationSeconds: Double?) -> Double? {
        guard let duration = durationSeconds, duration.isFinite, duration >= 1 else { return nil }
        return min(1, duration / 10)
    }

    static func arguments(input: URL, output: URL, seekSeconds: Double?, width: Int) throws -> [String] {
        guard (16...7680).contains(width) else {
            throw TranscodingError.invalidInput.with(reason: "width must be in 16...7680 (got \(width))")
        }
        guard input.isFileURL, output.isFileURL else {
            throw TranscodingError.invalidInput.with(reason: "input and output must be file URLs")
        }
        var args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
        if let seekSeconds {
            // Before -i: fast keyframe seek, then ffmpeg decodes forward to the exact time.
            args += ["-ss", String(format: "%.3f", seekSeconds)]
        }
        args += InputPolicy.inputArguments(for: input)
        args += [
            "-frames:v", "1",
            // min() never upscales; -2 keeps the aspect ratio with an even height.
            "-vf", "scale='min(\(width),iw)':-2",
            "-q:v", "3",
            "-update", "1", "-f", "image2",
            output.standardizedFileURL.path,
        ]
        return args
    }
}

/// Throttles progress callbacks; confined to the stdout reader thread until `finish()`.
final class ProgressReporter: @unchecked Sendable {
    private var tracker: ProgressTracker
    private let interval: Duration
    private let sink: @Sendable (Double) -> Void
    private let clock = ContinuousClock()
    private var lastEmit: ContinuousClock.Instant?

    init(durationSeconds: Double?, interval: Duration, sink: @escaping @Sendable (Double) -> Void) {
        tracker = ProgressTracker(durationSeconds: durationSeconds)
        self.interval = interval
        self.sink = sink
    }

    func consume(_ line: Substring) {
        guard tracker.consume(line) else { return }
        // 100 means "done and verified", so it is only sent by finish(), never while ffmpeg still writes.
        guard tracker.percent < 100 else { return }
        let now = clock.now
        if let lastEmit, now - lastEmit < interval { return }
        lastEmit = now
        sink(tracker.percent)
    }

    func finish() {
        sink(100)
    }
}
