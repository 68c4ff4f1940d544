import Foundation
import Logging
import TestSupport
import Testing

@testable import Transcoding

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pure halves: wrapped command lines, limit validation, the input policy's arguments, reading outcomes.
@Suite("Tool sandbox and input policy")
struct SandboxArgumentTests {
    private let policyHead = [
        "-probesize", "10000000", "-analyzeduration", "10000000", "-protocol_whitelist", "file,pipe",
        "-format_whitelist",
        "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,asf,mxf,dv,flv,ogg,wav,w64,aiff,caf,mp3,aac,flac,"
            + "jpeg_pipe,png_pipe,webp_pipe,bmp_pipe,tiff_pipe,j2k_pipe,jpegls_pipe,gif,apng",
    ]

    // MARK: Limits

    @Test func wrappingIsExact() {
        let limits = ToolLimits(
            cpuSeconds: 600, addressSpaceBytes: 1_073_741_824, fileSizeBytes: 2_147_483_648, niceness: 5)
        #expect(
            ToolSandbox.arguments(
                limits: limits, nice: "/usr/bin/nice", executable: "/usr/bin/ffmpeg", arguments: ["-i", "/a b.mp4"])
                == [
                    "--cpu=600", "--as=1073741824", "--fsize=2147483648", "--core=0", "--",
                    "/usr/bin/nice", "-n", "5", "--", "/usr/bin/ffmpeg", "-i", "/a b.mp4",
                ])
        // A nil limit is left out, so the tool keeps the worker's own; core dumps are always off.
        let unbounded = ToolLimits(cpuSeconds: nil, addressSpaceBytes: nil, fileSizeBytes: nil, niceness: 0)
        #expect(
            ToolSandbox.arguments(limits: unbounded, nice: "nice", executable: "/bin/true", arguments: [])
                == ["--core=0", "--", "nice", "-n", "0", "--", "/bin/true"])
    }

    @Test func runnerWrapsOnlyWhenLimited() throws {
        var runner = ProcessRunner()
        // Stand-ins: building the command only checks that the wrappers are executable.
        runner.prlimitPath = "/bin/sh"
        runner.nicePath = "/bin/echo"
        let direct = try runner.command(executable: "/bin/sh", arguments: ["-c", "true"])
        #expect(direct.executable == "/bin/sh")
        #expect(direct.arguments == ["-c", "true"])

        runner.limits = ToolLimits(cpuSeconds: 60, addressSpaceBytes: nil, fileSizeBytes: nil, niceness: 10)
        let wrapped = try runner.command(executable: "/bin/sh", arguments: ["-c", "true"])
        #expect(wrapped.executable == "/bin/sh")
        #expect(
            wrapped.arguments == ["--cpu=60", "--core=0", "--", "/bin/echo", "-n", "10", "--", "/bin/sh", "-c", "true"])
    }

    @Test func defaultLimits() {
        let limits = ToolLimits.default
        #expect(limits.cpuSeconds == 4 * 3600 * max(1, ProcessInfo.processInfo.activeProcessorCount))
        #expect(limits.addressSpaceBytes == 8_589_934_592)
        #expect(limits.fileSizeBytes == 68_719_476_736)
        #expect(limits.niceness == 10)
        #expect(limits.validate().isEmpty)
    }

    @Test(arguments: [
        (ToolLimits(cpuSeconds: 0), "cpuSeconds"),
        (ToolLimits(addressSpaceBytes: 1000), "addressSpaceBytes"),
        (ToolLimits(fileSizeBytes: -1), "fileSizeBytes"),
        (ToolLimits(niceness: 20), "niceness"),
        (ToolLimits(niceness: -5), "niceness"),
    ])
    func problemsNameTheField(limits: ToolLimits, field: String) {
        let problems = limits.validate()
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix(field + " ") == true, "\(problems)")
    }

    @Test func invalidLimitsAreRefusedBeforeAnythingStarts() async {
        let pids = Box<[Int32]>([])
        var runner = ProcessRunner()
        runner.limits = ToolLimits(cpuSeconds: 0, niceness: 40)
        runner.onLaunch = { pid in pids.mutate { $0.append(pid) } }
        do {
            _ = try await runner.run(
                executable: "/bin/sh", arguments: ["-c", "true"], stdout: .collect(limit: 10), timeout: .seconds(5))
            Issue.record("expected invalidInput")
        } catch let error as TranscodingError {
            #expect(error == .invalidInput)
            #expect(error.reason.hasPrefix("invalid tool limits: cpuSeconds"), "\(error)")
            #expect(error.reason.contains("niceness"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(pids.value.isEmpty)
    }

    @Test func limitKillsAreNamed() {
        let limits = ToolLimits(
            cpuSeconds: 10, addressSpaceBytes: 1_073_741_824, fileSizeBytes: 1_048_576, niceness: 10)
        func reason(_ outcome: ProcessOutcome) -> String? {
            ToolSandbox.limitReason(tool: "ffmpeg", outcome: outcome, limits: limits, processors: 2)
        }
        let cpu = "ffmpeg exceeded its CPU time limit of 10 s"
        let memory = "ffmpeg exceeded its address-space limit of 1 GiB (a memory allocation failed)"
        #expect(reason(outcome(SIGKILL, signalled: true, ranFor: .seconds(6))) == cpu)
        // 2 s on 2 cores cannot add up to 10 CPU seconds: that SIGKILL came from someone else.
        #expect(reason(outcome(SIGKILL, signalled: true, ranFor: .seconds(2))) == nil)
        #expect(reason(outcome(SIGXCPU, signalled: true, ranFor: .seconds(1))) == cpu)
        #expect(reason(outcome(SIGXFSZ, signalled: true)) == "ffmpeg exceeded its file size limit of 1 MiB")
        let x265 = "x265 [error]: malloc of size 50135040 failed"
        #expect(reason(outcome(SIGSEGV, signalled: true, stderr: [x265])) == memory)
        let loader = "ffmpeg: error while loading shared libraries: libvpx.so.7: failed to map segment from shared"
            + " object"
        #expect(reason(outcome(127, signalled: false, stderr: [loader])) == memory)
        #expect(reason(outcome(1, signalled: false, stderr: ["moov atom not found"])) == nil)
        #expect(reason(outcome(SIGSEGV, signalled: true)) == nil)
        // A tool that coped with a failed allocation and succeeded hit nothing.
        #expect(reason(outcome(0, signalled: false, stderr: ["Error while decoding: Cannot allocate memory"])) == nil)

        let unlimited = ToolLimits(cpuSeconds: nil, addressSpaceBytes: nil, fileSizeBytes: nil)
        for status in [SIGKILL, SIGXCPU, SIGXFSZ] {
            let killed = outcome(status, signalled: true, stderr: ["Cannot allocate memory"], ranFor: .seconds(60))
            #expect(ToolSandbox.limitReason(tool: "ffmpeg", outcome: killed, limits: unlimited, processors: 2) == nil)
        }
    }

    @Test func wrapperFailuresAreTold() {
        let denied = "prlimit: failed to set the AS resource limit: Operation not permitted"
        #expect(ToolSandbox.wrapperFailure(outcome(1, signalled: false, stderr: [denied])) == denied)
        let missing = "nice: ‘/opt/ffmpeg’: No such file or directory"
        #expect(ToolSandbox.wrapperFailure(outcome(127, signalled: false, stderr: [missing])) == missing)
        #expect(ToolSandbox.wrapperFailure(outcome(1, signalled: false, stderr: ["moov atom not found"])) == nil)
        // nice's warning when it may not lower the priority is not a failure of its own.
        #expect(ToolSandbox.wrapperFailure(outcome(1, signalled: false, stderr: ["nice: cannot set niceness"])) == nil)
    }

    @Test func sizesReadWell() {
        #expect(ToolSandbox.describe(bytes: 8_589_934_592) == "8 GiB")
        #expect(ToolSandbox.describe(bytes: 536_870_912) == "512 MiB")
        #expect(ToolSandbox.describe(bytes: 1_000_000_000) == "1000000000 bytes")
    }

    // MARK: Input policy

    @Test func inputArgumentsAreExact() {
        #expect(
            InputPolicy.inputArguments(for: URL(fileURLWithPath: "/media/in.mov"))
                == policyHead + ["-i", "/media/in.mov"])
        #expect(
            InputPolicy.inputArguments(for: URL(fileURLWithPath: "/media/./job/../original"))
                == policyHead + ["-i", "/media/original"])
        // image2 would claim these by name, and it is refused: they are read as what the name says.
        #expect(
            InputPolicy.inputArguments(for: URL(fileURLWithPath: "/media/Photo.JPG"))
                == policyHead + ["-f", "jpeg_pipe", "-i", "/media/Photo.JPG"])
        #expect(
            InputPolicy.inputArguments(for: URL(fileURLWithPath: "/media/poster.jpeg"))
                == policyHead + ["-f", "jpeg_pipe", "-i", "/media/poster.jpeg"])
    }

    @Test func onlyMediaDemuxersAndLocalProtocolsAreAllowed() {
        #expect(InputPolicy.protocols == ["file", "pipe"])
        for indirection in [
            "hls", "applehttp", "dash", "concat", "ffconcat", "sdp", "rtsp", "rtp", "lavfi", "tee", "image2",
            "image2pipe", "subfile", "data", "http", "tcp", "udp",
        ] {
            #expect(!InputPolicy.demuxers.contains(indirection), "\(indirection)")
        }
    }

    @Test func refusalsAreReadable() {
        let hls = [
            "[hls @ 0x555926c322c0] Format not on whitelist 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm'",
            "/tmp/x.mp4: Invalid argument",
        ]
        #expect(
            InputPolicy.refusal(in: hls)
                == "input format hls is not allowed (only audio, video and image files are read)")
        let http = ["[http @ 0x55a5691df800] Protocol 'http' not on whitelist 'file,pipe'!", "x: Invalid argument"]
        #expect(InputPolicy.refusal(in: http) == "input refers to a http resource, which is not allowed")
        #expect(InputPolicy.refusal(in: ["[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c8e4a2c0] moov atom not found"]) == nil)
        #expect(InputPolicy.refusal(in: []) == nil)
    }

    private func outcome(
        _ status: Int32, signalled: Bool, stderr: [String] = [], ranFor: Duration = .seconds(10)
    ) -> ProcessOutcome {
        ProcessOutcome(
            pid: 1, exitStatus: status, killedBySignal: signalled, stdout: Data(), stdoutOverflowed: false,
            stderrTail: stderr, runTime: ranFor)
    }
}

/// Real runs through prlimit and nice, and real ffprobe/ffmpeg against hostile and ordinary inputs.
/// Serialized so the CPU-time checks aren't skewed by sibling encodes on a 2-core machine.
@Suite(
    "Tool sandbox runs", .serialized,
    .enabled(if: SandboxTools.available, "ffmpeg/ffprobe, prlimit (util-linux) or nice (coreutils) not installed"))
struct SandboxRunTests {
    // MARK: The wrapper keeps the process layer working

    @Test func toolKeepsItsPidAndRunsUnderTheLimits() async throws {
        let pids = Box<[Int32]>([])
        var runner = limitedRunner(
            ToolLimits(cpuSeconds: 120, addressSpaceBytes: 2_147_483_648, fileSizeBytes: 1_048_576, niceness: 7))
        runner.onLaunch = { pid in pids.mutate { $0.append(pid) } }
        // $$ is the shell's own pid; field 19 of /proc/<pid>/stat is its niceness.
        let script = "echo $$; read -r stat < /proc/$$/stat; set -- $stat; echo ${19}; cat /proc/$$/limits"
        let outcome = try await runner.run(
            executable: "/bin/sh", arguments: ["-c", script], stdout: .collect(limit: 1 << 20), timeout: .seconds(20))
        let lines = String(decoding: outcome.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        let pid = try #require(pids.value.first)
        // prlimit and nice each exec the next program: the pid we signal is the tool's.
        #expect(lines.first == String(pid))
        #expect(outcome.pid == pid)
        let niceness = try min(19, Self.ownNiceness() + 7)
        #expect(lines.dropFirst().first == String(niceness))
        #expect(Self.limit("Max cpu time", in: lines) == ["120", "120", "seconds"])
        #expect(Self.limit("Max address space", in: lines) == ["2147483648", "2147483648", "bytes"])
        #expect(Self.limit("Max file size", in: lines) == ["1048576", "1048576", "bytes"])
        #expect(Self.limit("Max core file size", in: lines) == ["0", "0", "bytes"])
    }

    @Test func sigtermStillReachesTheTool() async throws {
        // A long grace: finishing well before it proves SIGTERM reached the shell, not just prlimit or nice.
        var runner = limitedRunner(.default)
        runner.terminationGrace = .seconds(20)
        let started = ContinuousClock.now
        await #expect(throws: TranscodingError.timedOut) {
            _ = try await runner.run(
                executable: "/bin/sh", arguments: ["-c", "trap 'exit 7' TERM; while :; do :; done"],
                stdout: .collect(limit: 1 << 10), timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func sigkillFallbackStillEndsTheTool() async throws {
        let pids = Box<[Int32]>([])
        var runner = limitedRunner(.default)
        runner.terminationGrace = .milliseconds(300)
        runner.onLaunch = { pid in pids.mutate { $0.append(pid) } }
        let started = ContinuousClock.now
        await #expect(throws: TranscodingError.timedOut) {
            _ = try await runner.run(
                executable: "/bin/sh", arguments: ["-c", "trap '' TERM; exec sleep 30"],
                stdout: .collect(limit: 1 << 10), timeout: .milliseconds(200))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        let pid = try #require(pids.value.first)
        #expect(TestMedia.processIsGone(pid))
    }

    @Test func missingToolOrWrapperIsToolMissing() async throws {
        let runner = limitedRunner(.default)
        await #expect(throws: TranscodingError.toolMissing) {
            _ = try await runner.run(
                executable: "/nonexistent/ffmpeg", arguments: [], stdout: .collect(limit: 10), timeout: .seconds(5))
        }
        var noPrlimit = runner
        noPrlimit.prlimitPath = "/nonexistent/prlimit"
        do {
            _ = try await noPrlimit.run(
                executable: "/bin/sh", arguments: ["-c", "true"], stdout: .collect(limit: 10), timeout: .seconds(5))
            Issue.record("expected toolMissing")
        } catch let error as TranscodingError {
            #expect(error == .toolMissing)
            #expect(error.reason.hasPrefix("prlimit not found at \"/nonexistent/prlimit\""), "\(error)")
        }
        // The worker's start-up check fails the same way.
        let bogus = Transcoder(tools: ToolPaths(nice: "/nonexistent/nice"))
        await #expect(throws: TranscodingError.toolMissing) { _ = try await bogus.checkTools() }
    }

    // MARK: Limits

    @Test func cpuLimitStopsAToolWithAReadableReason() async throws {
        let runner = limitedRunner(ToolLimits(cpuSeconds: 1))
        let started = ContinuousClock.now
        do {
            _ = try await runner.run(
                executable: "/bin/sh", arguments: ["-c", "while :; do :; done"], stdout: .collect(limit: 1 << 10),
                timeout: .seconds(60))
            Issue.record("expected resourceLimit")
        } catch let error as TranscodingError {
            #expect(error == .resourceLimit, "\(error)")
            #expect(error.reason == "sh exceeded its CPU time limit of 1 s")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func ffmpegOverItsCPULimitIsStoppedAndItsOutputRemoved() async throws {
        let limited = makeTranscoder(limits: ToolLimits(cpuSeconds: 1))
        let input = try await TestMedia.url(.long)
        let probe = try await limited.probe(input)
        let output = try await TestMedia.scratch("cpu-limited.mp4")
        // The medium preset needs far more than one CPU second for the 20 s clip.
        let plan = try TranscodePlan(
            probe: probe, settings: TranscodeSettings(preset: "medium"), input: input, output: output)
        let started = ContinuousClock.now
        do {
            try await limited.transcode(plan: plan, durationSeconds: probe.durationSeconds, progress: { _ in })
            Issue.record("expected resourceLimit")
        } catch let error as TranscodingError {
            #expect(error == .resourceLimit, "\(error)")
            #expect(error.reason == "ffmpeg exceeded its CPU time limit of 1 s")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func fileSizeLimitStopsAToolWithAReadableReason() async throws {
        let runner = limitedRunner(ToolLimits(fileSizeBytes: 1_048_576))
        let output = try await TestMedia.scratch("raw.nut")
        defer { try? FileManager.default.removeItem(at: output) }
        do {
            // About 86 MB of raw video.
            _ = try await runner.run(
                executable: TestMedia.tools.ffmpeg,
                arguments: [
                    "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=640x360:rate=25", "-t", "10", "-c:v", "rawvideo", "-f", "nut", output.path,
                ],
                stdout: .collect(limit: 1 << 20), timeout: .seconds(60))
            Issue.record("expected resourceLimit")
        } catch let error as TranscodingError {
            #expect(error == .resourceLimit, "\(error)")
            #expect(error.reason == "ffmpeg exceeded its file size limit of 1 MiB")
        }
        let size = (try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.int64Value
        #expect((size ?? 0) <= 1_048_576)
    }

    @Test func addressSpaceLimitMakesABigEncodeFail() async throws {
        let uhd = [
            "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=3840x2160:rate=25",
            "-t", "1", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-f", "null", "-",
        ]
        // The same encode fits the default limits, so the failure below is the limit's doing.
        let fits = try await limitedRunner(.default).run(
            executable: TestMedia.tools.ffmpeg, arguments: uhd, stdout: .collect(limit: 1 << 20),
            timeout: .seconds(300))
        #expect(fits.succeeded, "\(fits.stderrTail)")
        do {
            let squeezed = try await limitedRunner(ToolLimits(addressSpaceBytes: 1_073_741_824)).run(
                executable: TestMedia.tools.ffmpeg, arguments: uhd, stdout: .collect(limit: 1 << 20),
                timeout: .seconds(120))
            Issue.record("expected the encode to fail, got status \(squeezed.exitStatus): \(squeezed.stderrTail)")
        } catch let error as TranscodingError {
            #expect(error == .resourceLimit, "\(error)")
            #expect(error.reason == "ffmpeg exceeded its address-space limit of 1 GiB (a memory allocation failed)")
            #expect(!error.details.isEmpty)
        }
    }

    // MARK: Input policy

    @Test func hostileInputsAreRefusedWithoutTouchingTheNetwork() async throws {
        let listener = try LocalListener()
        let playlist = try await TestMedia.scratch("playlist.mp4")
        try "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:\(listener.port)/x.ts\n#EXT-X-ENDLIST\n"
            .write(to: playlist, atomically: true, encoding: .utf8)
        let concat = try await TestMedia.scratch("concat.mp4")
        try "ffconcat version 1.0\nfile '/etc/passwd'\n".write(to: concat, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(at: playlist)
            try? FileManager.default.removeItem(at: concat)
        }
        let transcoder = makeTranscoder()

        for (file, demuxer) in [(playlist, "hls"), (concat, "concat")] {
            do {
                _ = try await transcoder.probe(file)
                Issue.record("\(demuxer): expected invalidInput")
            } catch let error as TranscodingError {
                #expect(error == .invalidInput, "\(error)")
                #expect(error.reason.hasPrefix("input format \(demuxer) is not allowed"), "\(error)")
            }
            // ffmpeg's side, as a poster request for the same upload would run it.
            let poster = try await TestMedia.scratch("hostile-poster.jpg")
            do {
                _ = try await transcoder.makePoster(input: file, output: poster, durationSeconds: 10)
                Issue.record("\(demuxer): expected invalidInput from ffmpeg")
            } catch let error as TranscodingError {
                #expect(error == .invalidInput, "\(error)")
                #expect(error.reason.hasPrefix("input format \(demuxer) is not allowed"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: poster.path))
        }

        #expect(listener.acceptedConnections() == 0)
        // The listener does count connections: the zero above is not for want of a reachable port.
        #expect(listener.connectOnce())
        #expect(listener.acceptedConnections() == 1)
    }

    @Test func ordinaryMediaStillProbes() async throws {
        let picture = ["-f", "lavfi", "-i", "testsrc=size=160x90:rate=10"]
        let x264 = ["-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        let cases: [(name: String, arguments: [String], format: String)] = [
            ("clip.mkv", picture + x264, "matroska"),
            ("clip.webm", picture + ["-t", "1", "-c:v", "libvpx", "-deadline", "realtime"], "webm"),
            ("clip.mov", picture + x264, "mov"),
            ("photo.jpg", picture + ["-frames:v", "1"], "jpeg_pipe"),
            ("image.png", picture + ["-frames:v", "1"], "png_pipe"),
            ("image.webp", picture + ["-frames:v", "1", "-c:v", "libwebp"], "webp_pipe"),
            ("animation.gif", picture + ["-t", "1"], "gif"),
        ]
        let transcoder = makeTranscoder()
        var made: [String: URL] = [:]
        for item in cases {
            let file = try await make(item.name, item.arguments)
            made[item.name] = file
            let result = try await transcoder.probe(file)
            #expect(result.formatNames.contains(item.format), "\(item.name): \(result.formatNames)")
            #expect(result.video?.width == 160, "\(item.name)")
        }
        let mp4 = try await transcoder.probe(try await TestMedia.url(.h264AAC))
        #expect(mp4.formatNames.contains("mp4"))

        // An upload is stored without an extension: the JPEG is then recognised by its content.
        let photo = try #require(made["photo.jpg"])
        let unnamed = try await TestMedia.scratch("upload")
        try FileManager.default.copyItem(at: photo, to: unnamed)
        let unnamedProbe = try await transcoder.probe(unnamed)
        #expect(unnamedProbe.formatNames == ["jpeg_pipe"])
        #expect(unnamedProbe.isStillImage)

        // ffmpeg reads them under the same policy.
        for name in ["photo.jpg", "image.webp", "animation.gif"] {
            let input = try #require(made[name])
            let thumbnail = try await TestMedia.scratch("thumbnail.jpg")
            defer { try? FileManager.default.removeItem(at: thumbnail) }
            let size = try await transcoder.makeImageThumbnail(input: input, output: thumbnail)
            #expect(size == ImageSize(width: 160, height: 90), "\(name)")
        }
        let webm = try #require(made["clip.webm"])
        let poster = try await TestMedia.scratch("webm-poster.jpg")
        defer { try? FileManager.default.removeItem(at: poster) }
        let posterSize = try await transcoder.makePoster(input: webm, output: poster, durationSeconds: 1)
        #expect(posterSize == ImageSize(width: 160, height: 90))
        for file in made.values { try? FileManager.default.removeItem(at: file) }
        try? FileManager.default.removeItem(at: unnamed)
    }

    // MARK: Helpers

    private func limitedRunner(_ limits: ToolLimits) -> ProcessRunner {
        var runner = ProcessRunner()
        runner.limits = limits
        runner.prlimitPath = TestMedia.tools.prlimit
        runner.nicePath = TestMedia.tools.nice
        return runner
    }

    private func makeTranscoder(limits: ToolLimits? = .default) -> Transcoder {
        var logger = Logger(label: "sandbox-tests")
        logger.logLevel = .warning
        return Transcoder(tools: TestMedia.tools, logger: logger, limits: limits)
    }

    /// Writes a fixture with ffmpeg itself (unrestricted: these are our own files).
    private func make(_ name: String, _ arguments: [String]) async throws -> URL {
        let output = try await TestMedia.scratch(name)
        let outcome = try await ProcessRunner().run(
            executable: TestMedia.tools.ffmpeg,
            arguments: ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"] + arguments + [output.path],
            stdout: .collect(limit: 1 << 20), timeout: .seconds(60))
        try #require(outcome.succeeded, "ffmpeg \(name): \(outcome.stderrTail.joined(separator: " | "))")
        return output
    }

    /// Soft limit, hard limit and unit of one row of /proc/<pid>/limits.
    private static func limit(_ name: String, in lines: [String]) -> [String]? {
        guard let row = lines.first(where: { $0.hasPrefix(name + " ") }) else { return nil }
        return row.dropFirst(name.count).split(separator: " ").map(String.init)
    }

    /// This test process's niceness, which nice adds to.
    private static func ownNiceness() throws -> Int {
        let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        // Fields after the parenthesised command name start at field 3, so niceness (field 19) is the 17th.
        let close = try #require(stat.range(of: ")", options: .backwards))
        let fields = stat[close.upperBound...].split(separator: " ")
        return try #require(Int(fields[16]))
    }
}

/// Whether the sandboxed runs can happen on this machine.
enum SandboxTools {
    static let available =
        TestMedia.toolsAvailable
        && FileManager.default.isExecutableFile(atPath: TestMedia.tools.prlimit)
        && FileManager.default.isExecutableFile(atPath: TestMedia.tools.nice)
}
