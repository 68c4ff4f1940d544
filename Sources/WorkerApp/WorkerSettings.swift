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
        "TRANSCODE_POLICY",
        "When the HEVC file re-encodes: `required` (copy video already HEVC), `optimal` (also re-encode above "
            + "FFMPEG_MAX_HEIGHT), `bitrate` (also above TRANSCODE_MAX_BITRATE), `all` (`always` is the same), "
            + "`disabled` (posters and metadata only; the original plays)",
        default: "all", component: .worker)
    public static let maxBitRate = Setting(
        "TRANSCODE_MAX_BITRATE", "Above this video bit rate the `bitrate` policy re-encodes (e.g. 20M)",
        default: "20M", component: .worker)
    public static let compatibility = Setting(
        "TRANSCODE_COMPAT_RENDITION",
        "H.264 rendition for browsers without HEVC: `auto` (unless the original is a browser-safe H.264 MP4 within "
            + "the cap), `always` or `never`",
        default: "auto", component: .worker)
    public static let compatibilityMaxHeight = Setting(
        "TRANSCODE_COMPAT_MAX_HEIGHT", "Height cap of the H.264 rendition (never upscaled)", default: "720",
        component: .worker)
    public static let compatibilityCRF = Setting(
        "TRANSCODE_COMPAT_CRF", "libx264 constant rate factor of the H.264 rendition (0–51)", default: "23",
        component: .worker)
    public static let toneMapping = Setting(
        "TRANSCODE_TONEMAP", "Tone mapping of HDR video in the H.264 rendition: hable, reinhard, mobius, clip, "
            + "linear or gamma", default: "hable", component: .worker)
    public static let memoryLimit = Setting(
        "FFMPEG_MEMORY_LIMIT",
        "Address space each ffmpeg/ffprobe run may reserve (hostile files cannot exhaust the host); 0: no limit",
        default: "8GiB", component: .worker)
    public static let niceness = Setting(
        "FFMPEG_NICE", "Niceness of ffmpeg/ffprobe (0–19), so the worker's own work goes first", default: "10",
        component: .worker)
    public static let ffmpegPath = Setting("FFMPEG_PATH", "ffmpeg executable (default: from PATH)", component: .worker)
    public static let ffprobePath = Setting("FFPROBE_PATH", "ffprobe executable (default: from PATH)", component: .worker)

    public static let all: [Setting] = [
        httpHost, httpPort, concurrency, jobTimeoutSeconds, retryBaseSeconds, shutdownGraceSeconds,
        pollIntervalMilliseconds, tempDirectory, crf, preset, maxHeight, maxFrameRate, audioBitrate, threads, policy,
        maxBitRate, compatibility, compatibilityMaxHeight, compatibilityCRF, toneMapping, memoryLimit, niceness,
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
    /// Kernel limits of every ffmpeg/ffprobe run: CPU time (the job timeout on every core), address space, file
    /// size, niceness.
    public var limits: ToolLimits
    /// Only used to sign filesystem-store URLs, which the worker never hands out; a fixed key is enough.
    public var signingKey: String
    /// Warnings about the configuration sources, logged once at start-up (see `ConfigSource.notices`).
    public var notices: [String]

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
        let policyText = reader.oneOf(WorkerSettings.policy, TranscodePolicy.allCases.map(\.rawValue) + ["always"])
        let maxBitRate = TranscodeSettings.bitsPerSecond(reader.string(WorkerSettings.maxBitRate))
        if maxBitRate == nil { reader.fail(WorkerSettings.maxBitRate, "must look like 20M, 8000k or 8000000") }
        let compatibilityText = reader.oneOf(
            WorkerSettings.compatibility, CompatibilityRendition.allCases.map(\.rawValue))
        let toneMappingText = reader.oneOf(WorkerSettings.toneMapping, ToneMapping.allCases.map(\.rawValue))
        transcode = TranscodeSettings(
            crf: reader.int(WorkerSettings.crf, range: 0...51), preset: reader.string(WorkerSettings.preset),
            maxHeight: reader.int(WorkerSettings.maxHeight, range: 144...8640),
            maxFrameRate: reader.int(WorkerSettings.maxFrameRate, range: 1...240),
            audioBitrate: reader.string(WorkerSettings.audioBitrate),
            threads: reader.int(WorkerSettings.threads, range: 0...256),
            policy: TranscodePolicy(rawValue: policyText == "always" ? "all" : policyText) ?? .all,
            maxBitRate: maxBitRate ?? 20_000_000,
            compatibility: CompatibilityRendition(rawValue: compatibilityText) ?? .auto,
            compatibilityMaxHeight: reader.int(WorkerSettings.compatibilityMaxHeight, range: 144...4320),
            compatibilityCRF: reader.int(WorkerSettings.compatibilityCRF, range: 0...51),
            toneMapping: ToneMapping(rawValue: toneMappingText) ?? .hable)
        for problem in transcode.validate() { reader.fail(WorkerSettings.preset, "— \(problem)") }
        let memory = reader.byteCount(WorkerSettings.memoryLimit) ?? (8 << 30)
        limits = ToolLimits(
            cpuSeconds: Int(jobTimeout.components.seconds) * max(1, ProcessInfo.processInfo.activeProcessorCount),
            addressSpaceBytes: memory == 0 ? nil : memory,
            niceness: reader.int(WorkerSettings.niceness, range: 0...19))
        for problem in limits.validate() { reader.fail(WorkerSettings.memoryLimit, "— \(problem)") }
        tools = ToolPaths(
            ffmpeg: reader.optional(WorkerSettings.ffmpegPath), ffprobe: reader.optional(WorkerSettings.ffprobePath),
            environment: source.environment)
        signingKey = "worker-does-not-sign-urls-" + String(repeating: "x", count: 32)
        notices = source.notices
        try reader.finish()
    }
}
