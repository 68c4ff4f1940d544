/// The one error type thrown by this module.
///
/// Compare with the static members (`error == .timedOut`): equality looks at the kind only, never at the reason,
/// so `#expect(throws: TranscodingError.cancelled)` and `catch let e as TranscodingError where e == .toolMissing` work.
public struct TranscodingError: Error, Sendable, Equatable, CustomStringConvertible {
    // Private so that new kinds can be added later without breaking exhaustive switches in callers.
    private enum Code: String, Sendable {
        case invalidInput
        case ffmpegFailed
        case timedOut
        case cancelled
        case toolMissing
        case resourceLimit
    }

    private let code: Code

    /// Human-readable cause, e.g. ffmpeg's last meaningful error line ("moov atom not found").
    public let reason: String

    /// A few cleaned stderr lines preceding the failure, oldest first; for logs, not for end users.
    public let details: [String]

    /// ffmpeg/ffprobe exit status when the tool ran to completion with a failure.
    public let exitStatus: Int32?

    private init(_ code: Code, reason: String, details: [String] = [], exitStatus: Int32? = nil) {
        self.code = code
        self.reason = reason
        self.details = details
        self.exitStatus = exitStatus
    }

    /// The input is unreadable, not a supported media file, or the request (settings, paths) is invalid.
    public static let invalidInput = TranscodingError(.invalidInput, reason: "invalid input")
    /// ffmpeg ran but exited with a failure; `reason` carries its last meaningful error line.
    public static let ffmpegFailed = TranscodingError(.ffmpegFailed, reason: "ffmpeg failed")
    /// The job exceeded its timeout; ffmpeg was terminated and partial output removed.
    public static let timedOut = TranscodingError(.timedOut, reason: "timed out")
    /// The calling task was cancelled; ffmpeg was terminated and partial output removed.
    public static let cancelled = TranscodingError(.cancelled, reason: "cancelled")
    /// ffmpeg or ffprobe is missing, not executable, or lacks the libx265 encoder; or prlimit/nice, which apply the
    /// `ToolLimits`, are missing or could not start the tool.
    public static let toolMissing = TranscodingError(.toolMissing, reason: "ffmpeg/ffprobe missing")
    /// ffmpeg or ffprobe was stopped by one of its `ToolLimits` (CPU time, address space, file size) and partial
    /// output removed; `reason` names the limit, e.g. "ffmpeg exceeded its CPU time limit of 14400 s".
    public static let resourceLimit = TranscodingError(.resourceLimit, reason: "resource limit exceeded")

    /// Stable machine-readable kind ("invalidInput", "ffmpegFailed", "timedOut", "cancelled", "toolMissing",
    /// "resourceLimit").
    public var kind: String { code.rawValue }

    /// A copy of this error with a specific reason (and optional diagnostics).
    public func with(reason: String, details: [String] = [], exitStatus: Int32? = nil) -> TranscodingError {
        TranscodingError(code, reason: reason, details: details, exitStatus: exitStatus)
    }

    /// "TranscodingError.<kind>: <reason>", suitable for logs.
    public var description: String { "TranscodingError.\(code.rawValue): \(reason)" }

    /// Whether another attempt on the same file cannot succeed: ffprobe cannot read it, it has no video where one is
    /// needed, or `InputPolicy` refused it. A failure of ffmpeg itself after a good probe may come from the machine
    /// (disk full, memory) and is not counted as permanent; neither are limits, timeouts and cancellation.
    public var isPermanent: Bool { code == .invalidInput }

    /// Kinds are equal; reason, details and exit status are ignored.
    public static func == (lhs: TranscodingError, rhs: TranscodingError) -> Bool { lhs.code == rhs.code }
}
