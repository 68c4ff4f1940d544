import Foundation

/// Where ffmpeg and ffprobe live, and the prlimit and nice that start them under `ToolLimits`.
public struct ToolPaths: Sendable, Equatable {
    /// Absolute path of ffmpeg (or the bare name when it was not found on PATH).
    public var ffmpeg: String
    /// Absolute path of ffprobe (or the bare name when it was not found on PATH).
    public var ffprobe: String
    /// Absolute path of util-linux prlimit (or the bare name when it was not found on PATH).
    public var prlimit: String
    /// Absolute path of coreutils nice (or the bare name when it was not found on PATH).
    public var nice: String
    /// Absolute path of exiftool (Debian `libimage-exiftool-perl`), or the bare name when it was not found on PATH.
    public var exiftool: String
    /// libvips command-line tools (Debian `libvips-tools`): header inspection and thumbnails.
    public var vipsheader: String
    public var vipsthumbnail: String
    /// coreutils env, which starts libvips with its untrusted loaders blocked.
    public var env: String

    /// Uses the given paths; each one left nil is looked up on `PATH` (from `environment`).
    public init(
        ffmpeg: String? = nil, ffprobe: String? = nil, prlimit: String? = nil, nice: String? = nil,
        exiftool: String? = nil, vipsheader: String? = nil, vipsthumbnail: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.ffmpeg = ffmpeg ?? Self.locate("ffmpeg", environment: environment) ?? "ffmpeg"
        self.ffprobe = ffprobe ?? Self.locate("ffprobe", environment: environment) ?? "ffprobe"
        self.prlimit = prlimit ?? Self.locate("prlimit", environment: environment) ?? "prlimit"
        self.nice = nice ?? Self.locate("nice", environment: environment) ?? "nice"
        self.exiftool = exiftool ?? Self.locate("exiftool", environment: environment) ?? "exiftool"
        self.vipsheader = vipsheader ?? Self.locate("vipsheader", environment: environment) ?? "vipsheader"
        self.vipsthumbnail = vipsthumbnail ?? Self.locate("vipsthumbnail", environment: environment) ?? "vipsthumbnail"
        self.env = Self.locate("env", environment: environment) ?? "/usr/bin/env"
    }

    /// The tools found on this process's PATH, looked up once.
    static let onPath = ToolPaths()

    /// First executable named `name` in the PATH directories, or nil.
    static func locate(_ name: String, environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// What `Transcoding.checkTools` found.
public struct ToolReport: Sendable, Equatable {
    /// The paths that were checked.
    public var tools: ToolPaths
    /// First line of `ffmpeg -version`, e.g. "ffmpeg version 5.1.6-0+deb12u1 ...".
    public var ffmpegVersion: String
}

/// Module-level entry points.
public enum Transcoding {
    /// Verifies that ffmpeg and ffprobe run and that ffmpeg has the libx265 encoder; throws `.toolMissing` if not.
    public static func checkTools(_ tools: ToolPaths = ToolPaths(), timeout: Duration = .seconds(30)) async throws
        -> ToolReport
    {
        try await checkTools(tools, runner: ProcessRunner(), timeout: timeout)
    }

    static func checkTools(_ tools: ToolPaths, runner: ProcessRunner, timeout: Duration) async throws -> ToolReport {
        for path in [tools.ffmpeg, tools.ffprobe] where !FileManager.default.isExecutableFile(atPath: path) {
            throw ProcessRunner.missing(path).with(
                reason: "\(ProcessRunner.toolName(path)) not found at \"\(path)\"; install ffmpeg "
                    + "(Debian: apt-get install ffmpeg) or configure ToolPaths")
        }
        // libvips checks photos and sizes every poster; without it each job would fail one by one.
        for path in [tools.vipsheader, tools.vipsthumbnail] where !FileManager.default.isExecutableFile(atPath: path) {
            throw TranscodingError.toolMissing.with(
                reason: "\(ProcessRunner.toolName(path)) not found at \"\(path)\"; install libvips-tools")
        }
        let probeVersion = try await runner.run(
            executable: tools.ffprobe, arguments: ["-hide_banner", "-version"], stdout: .collect(limit: 1 << 20),
            timeout: timeout)
        guard probeVersion.succeeded else {
            throw TranscodingError.toolMissing.with(reason: "ffprobe at \(tools.ffprobe) does not run")
        }
        let version = try await runner.run(
            executable: tools.ffmpeg, arguments: ["-hide_banner", "-version"], stdout: .collect(limit: 1 << 20),
            timeout: timeout)
        let encoders = try await runner.run(
            executable: tools.ffmpeg, arguments: ["-hide_banner", "-encoders"], stdout: .collect(limit: 4 << 20),
            timeout: timeout)
        guard version.succeeded, encoders.succeeded else {
            throw TranscodingError.toolMissing.with(reason: "ffmpeg at \(tools.ffmpeg) does not run")
        }
        let listing = String(decoding: encoders.stdout, as: UTF8.self)
        func has(_ name: String, in listing: String) -> Bool {
            listing.split(whereSeparator: \.isNewline).contains { line in
                line.split(separator: " ").dropFirst().first.map { String($0) } == name
            }
        }
        // HEVC for every video, H.264 for the compatibility rendition: without either, jobs would fail one by one.
        for encoder in ["libx265", "libx264"] where !has(encoder, in: listing) {
            throw TranscodingError.toolMissing.with(
                reason: "ffmpeg at \(tools.ffmpeg) has no \(encoder) encoder; install an ffmpeg built with it")
        }
        let filters = try await runner.run(
            executable: tools.ffmpeg, arguments: ["-hide_banner", "-filters"], stdout: .collect(limit: 4 << 20),
            timeout: timeout)
        let filterListing = String(decoding: filters.stdout, as: UTF8.self)
        // Tone mapping HDR for the compatibility rendition (zscale needs ffmpeg built with zimg).
        for filter in ["zscale", "tonemap"] where !has(filter, in: filterListing) {
            throw TranscodingError.toolMissing.with(
                reason: "ffmpeg at \(tools.ffmpeg) has no \(filter) filter (HDR tone mapping); install one built with zimg")
        }
        let firstLine = String(decoding: version.stdout, as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown version"
        return ToolReport(tools: tools, ffmpegVersion: firstLine)
    }
}
