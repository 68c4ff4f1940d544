import Foundation
import Logging

/// Runs ffprobe on a file and parses the result.
public struct MediaProbe: Sendable {
    /// Tool locations.
    public let tools: ToolPaths
    let runner: ProcessRunner
    let logger: Logger

    /// Creates a prober using `tools`.
    public init(tools: ToolPaths = ToolPaths(), logger: Logger = Logger(label: "transcoding.probe")) {
        self.init(tools: tools, runner: ProcessRunner(), logger: logger)
    }

    init(tools: ToolPaths, runner: ProcessRunner, logger: Logger) {
        self.tools = tools
        self.runner = runner
        self.logger = logger
    }

    /// Probes `file` with its input opened under `InputPolicy`; throws `.invalidInput` (with ffprobe's reason, or
    /// the policy's) when it isn't readable media or is refused (a playlist, a concat list, a URL).
    public func probe(_ file: URL, timeout: Duration = .seconds(60)) async throws -> ProbeResult {
        guard file.isFileURL else {
            throw TranscodingError.invalidInput.with(reason: "not a file URL: \(file)")
        }
        let path = file.standardizedFileURL.path
        let outcome = try await runner.run(
            executable: tools.ffprobe,
            arguments: ["-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
                + InputPolicy.inputArguments(for: file),
            // Real probe output is a few KiB; the cap only stops a pathological file from eating memory.
            stdout: .collect(limit: 16 << 20),
            timeout: timeout)
        guard outcome.succeeded else {
            let reason =
                InputPolicy.refusal(in: outcome.stderrTail)
                ?? FFmpegDiagnostics.reason(from: outcome.stderrTail, paths: [path])
                ?? "ffprobe exited with status \(outcome.exitStatus)"
            logger.debug("ffprobe failed", metadata: ["file": "\(path)", "reason": "\(reason)"])
            throw TranscodingError.invalidInput.with(
                reason: reason,
                details: Array(FFmpegDiagnostics.meaningfulLines(outcome.stderrTail, paths: [path]).suffix(10)),
                exitStatus: outcome.exitStatus)
        }
        guard !outcome.stdoutOverflowed else {
            throw TranscodingError.invalidInput.with(reason: "ffprobe output exceeded 16 MiB")
        }
        return try ProbeResult.parse(json: outcome.stdout)
    }
}
