import Foundation
import MediaVaultCore
import Processing
import StorageService
import Transcoding

/// Settings of the processing worker.
public enum WorkerSettings {
    public static let httpHost = Setting(
        "WORKER_HTTP_HOST", "Address of the worker's /healthz and /metrics", default: "0.0.0.0", component: .worker)
    public static let httpPort = Setting(
        "WORKER_HTTP_PORT", "Port of the worker's /healthz and /metrics", default: "9090", component: .worker)
    public static let concurrency = Setting(
        "WORKER_CONCURRENCY", "Jobs processed at once by one worker", default: "1", component: .worker)
    public static let jobTimeoutSeconds = Setting(
        "JOB_TIMEOUT_SECONDS", "Longest one job may run before ffmpeg is stopped and the attempt fails",
        default: "10800", component: .worker)
    public static let retryBaseSeconds = Setting(
        "JOB_RETRY_BASE_SECONDS", "First retry delay; doubles per attempt, capped at 10 minutes", default: "30",
        component: .worker)
    public static let shutdownGraceSeconds = Setting(
        "WORKER_SHUTDOWN_GRACE_SECONDS", "On SIGTERM, how long a running job may finish before it is handed back",
        default: "60", component: .worker)
    public static let pollIntervalMilliseconds = Setting(
        "WORKER_POLL_INTERVAL_MS", "How often the PostgreSQL queue is polled when idle", default: "1000",
        component: .worker)
    public static let tempDirectory = Setting(
        "WORKER_TEMP_DIR", "Scratch folder for originals and outputs (default: the system temporary folder)",
        component: .worker)
    public static let crf = Setting("FFMPEG_CRF", "libx265 constant rate factor (0–51)", default: "28", component: .worker)
    public static let preset = Setting("FFMPEG_PRESET", "libx265 preset", default: "fast", component: .worker)
    public static let maxHeight = Setting(
        "FFMPEG_MAX_HEIGHT", "Taller videos are scaled down to this height (never up)", default: "2160",
        component: .worker)
    public static let maxFrameRate = Setting(
        "FFMPEG_MAX_FPS", "Higher frame rates are capped to this", default: "60", component: .worker)
    public static let audioBitrate = Setting(
        "FFMPEG_AUDIO_BITRATE", "AAC audio bitrate", default: "128k", component: .worker)
    public static let threads = Setting(
        "FFMPEG_THREADS", "Threads for ffmpeg/x265 (0: ffmpeg decides)", default: "0", component: .worker)
    public static let policy = Setting(
        "TRANSCODE_POLICY", "`always` re-encode, or `required`: copy streams already HEVC/AAC within limits",
        default: "always", component: .worker)
    public static let ffmpegPath = Setting("FFMPEG_PATH", "ffmpeg executable (default: from PATH)", component: .worker)
    public static let ffprobePath = Setting("FFPROBE_PATH", "ffprobe executable (default: from PATH)", component: .worker)

    public static let all: [Setting] = [
        httpHost, httpPort, concurrency, jobTimeoutSeconds, retryBaseSeconds, shutdownGraceSeconds,
        pollIntervalMilliseconds, tempDirectory, crf, preset, maxHeight, maxFrameRate, audioBitrate, threads, policy,
        ffmpegPath, ffprobePath,
    ]
}

/// The worker's validated configuration.
public struct WorkerConfiguration: Sendable {
    public var core: CoreConfiguration
    public var host: String
    public var port: Int
    public var storage: StorageConfiguration
    public var processing: ProcessingConfiguration
    public var concurrency: Int
    public var jobTimeout: Duration
    public var retryBase: Duration
    public var shutdownGrace: Duration
    public var pollInterval: Duration
    public var tempDirectory: URL
    public var transcode: TranscodeSettings
    public var tools: ToolPaths
    /// Only used to sign filesystem-store URLs, which the worker never hands out; a fixed key is enough.
    public var signingKey: String

    public static let catalog = SettingsCatalog([
        CoreSettings.all, StorageSettings.all, ProcessingSettings.all, WorkerSettings.all,
    ])

    public init(source: ConfigSource) throws {
        let reader = ConfigReader(source)
        core = CoreConfiguration(reading: reader)
        host = reader.string(WorkerSettings.httpHost)
        port = reader.int(WorkerSettings.httpPort, range: 0...65535)
        storage = StorageConfiguration(reading: reader)
        processing = ProcessingConfiguration(reading: reader)
        concurrency = reader.int(WorkerSettings.concurrency, range: 1...64)
        jobTimeout = .seconds(reader.int(WorkerSettings.jobTimeoutSeconds, range: 10...604_800))
        retryBase = .seconds(reader.int(WorkerSettings.retryBaseSeconds, range: 0...3600))
        shutdownGrace = .seconds(reader.int(WorkerSettings.shutdownGraceSeconds, range: 0...86400))
        pollInterval = .milliseconds(reader.int(WorkerSettings.pollIntervalMilliseconds, range: 50...60000))
        tempDirectory = URL(fileURLWithPath: reader.optional(WorkerSettings.tempDirectory) ?? NSTemporaryDirectory())
        let policyText = reader.oneOf(WorkerSettings.policy, ["always", "required"])
        transcode = TranscodeSettings(
            crf: reader.int(WorkerSettings.crf, range: 0...51), preset: reader.string(WorkerSettings.preset),
            maxHeight: reader.int(WorkerSettings.maxHeight, range: 144...8640),
            maxFrameRate: reader.int(WorkerSettings.maxFrameRate, range: 1...240),
            audioBitrate: reader.string(WorkerSettings.audioBitrate),
            threads: reader.int(WorkerSettings.threads, range: 0...256),
            policy: policyText == "required" ? .required : .always)
        for problem in transcode.validate() { reader.fail(WorkerSettings.preset, "— \(problem)") }
        tools = ToolPaths(
            ffmpeg: reader.optional(WorkerSettings.ffmpegPath), ffprobe: reader.optional(WorkerSettings.ffprobePath),
            environment: source.environment)
        signingKey = "worker-does-not-sign-urls-" + String(repeating: "x", count: 32)
        try reader.finish()
    }
}
