import Foundation

@testable import Transcoding

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Generated input files, made once per test process with ffmpeg itself.
enum TestMedia {
    static let tools = ToolPaths()

    /// Integration tests run only where both tools are installed.
    static let toolsAvailable =
        FileManager.default.isExecutableFile(atPath: tools.ffmpeg)
        && FileManager.default.isExecutableFile(atPath: tools.ffprobe)

    enum Kind: String, Sendable, CaseIterable {
        /// 640x360 25 fps H.264 + AAC, 3 s.
        case h264AAC = "h264-aac.mp4"
        /// 640x360 25 fps HEVC (hvc1) + AAC, 3 s.
        case hevcAAC = "hevc-aac.mp4"
        /// 320x180 H.264, no audio, 2 s.
        case small = "small-320x180.mp4"
        /// The h264AAC clip with a 90 degree display rotation (shown as 360x640).
        case portrait = "portrait.mp4"
        /// 640x360 PNG.
        case png = "image.png"
        /// 20 s 640x360 H.264 + AAC: long enough that a transcode can be interrupted.
        case long = "long.mp4"
        /// Random bytes named .mp4.
        case corrupt = "corrupt.mp4"
    }

    static let store = FixtureStore()

    static func url(_ kind: Kind) async throws -> URL {
        try await store.url(kind)
    }

    /// A fresh, unused path in the scratch directory.
    static func scratch(_ name: String) async throws -> URL {
        try await store.directory().appendingPathComponent("\(UUID().uuidString)-\(name)")
    }

    /// True once `pid` is neither running nor a zombie (i.e. it was reaped).
    static func processIsGone(_ pid: Int32) -> Bool {
        kill(pid, 0) == -1 && errno == ESRCH
    }
}

/// Makes each fixture at most once, even when tests ask concurrently.
actor FixtureStore {
    private var tasks: [TestMedia.Kind: Task<URL, Error>] = [:]
    private var root: URL?
    private let runner = ProcessRunner()

    func directory() throws -> URL {
        if let root { return root }
        let base = FileManager.default.temporaryDirectory
        Self.removeStaleDirectories(in: base)
        let dir = base.appendingPathComponent("transcoding-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        root = dir
        return dir
    }

    func url(_ kind: TestMedia.Kind) async throws -> URL {
        if let task = tasks[kind] { return try await task.value }
        let dir = try directory()
        let task = Task { try await self.make(kind, in: dir) }
        tasks[kind] = task
        return try await task.value
    }

    private func make(_ kind: TestMedia.Kind, in dir: URL) async throws -> URL {
        let out = dir.appendingPathComponent(kind.rawValue)
        let lavfi = ["-f", "lavfi", "-i"]
        let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        let args: [String]
        switch kind {
        case .h264AAC:
            args = lavfi + ["testsrc=size=640x360:rate=25"] + lavfi + ["sine=frequency=440:sample_rate=44100"]
                + ["-t", "3"] + x264 + ["-c:a", "aac", "-shortest"]
        case .hevcAAC:
            args = lavfi + ["testsrc=size=640x360:rate=25"] + lavfi + ["sine=frequency=440:sample_rate=44100"]
                + ["-t", "3", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                   "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-c:a", "aac", "-shortest"]
        case .small:
            args = lavfi + ["testsrc=size=320x180:rate=25", "-t", "2"] + x264
        case .portrait:
            let source = try await url(.h264AAC)
            args = ["-i", source.path, "-c", "copy", "-metadata:s:v:0", "rotate=90"]
        case .png:
            args = lavfi + ["testsrc=size=640x360:rate=25", "-frames:v", "1"]
        case .long:
            args = lavfi + ["testsrc=size=640x360:rate=25"] + lavfi + ["sine=frequency=440:sample_rate=44100"]
                + ["-t", "20"] + x264 + ["-c:a", "aac", "-shortest"]
        case .corrupt:
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<64 * 1024).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            try Data(bytes).write(to: out)
            return out
        }
        let outcome = try await runner.run(
            executable: TestMedia.tools.ffmpeg,
            arguments: ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"] + args + [out.path],
            stdout: .collect(limit: 1 << 20), timeout: .seconds(60))
        guard outcome.succeeded else {
            throw TranscodingError.ffmpegFailed.with(
                reason: "fixture \(kind.rawValue): \(outcome.stderrTail.joined(separator: " | "))")
        }
        return out
    }

    /// Leftovers of earlier runs (older than an hour, so a concurrent run is never disturbed).
    private static func removeStaleDirectories(in base: URL) {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: base.path) else { return }
        for name in names where name.hasPrefix("transcoding-tests-") {
            let url = base.appendingPathComponent(name)
            let modified = (try? manager.attributesOfItem(atPath: url.path)[.modificationDate]) as? Date
            if let modified, modified.timeIntervalSinceNow < -3600 {
                try? manager.removeItem(at: url)
            }
        }
    }
}
