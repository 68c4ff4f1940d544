import Foundation
import Logging
import Testing

@testable import Transcoding

/// Real ffmpeg runs. Serialized so timing-based checks aren't skewed by sibling encodes on a 2-core machine.
@Suite(
    "ffmpeg integration", .serialized,
    .enabled(if: TestMedia.toolsAvailable, "ffmpeg/ffprobe not installed (apt-get install ffmpeg)"))
struct IntegrationTests {
    /// Fast preset keeps the suite short; quality is not under test here.
    let settings = TranscodeSettings(preset: "ultrafast")
    /// For interruption tests: the 20 s clip then takes far longer than the 5 s bound to finish on its own,
    /// and the 30 s SIGKILL grace is far longer too, so passing proves ffmpeg stopped on SIGTERM.
    let slowSettings = TranscodeSettings(preset: "medium")
    let transcoder: Transcoder = {
        var logger = Logger(label: "transcoding-tests")
        logger.logLevel = .warning
        return Transcoder(tools: TestMedia.tools, logger: logger, progressInterval: .milliseconds(100))
    }()

    // MARK: Tools

    @Test func toolCheckPasses() async throws {
        let report = try await Transcoding.checkTools(TestMedia.tools)
        #expect(report.ffmpegVersion.hasPrefix("ffmpeg version"))
        _ = try await transcoder.checkTools()
    }

    @Test func toolCheckReportsMissingTools() async throws {
        let bogus = ToolPaths(ffmpeg: "/nonexistent/ffmpeg", ffprobe: TestMedia.tools.ffprobe)
        await #expect(throws: TranscodingError.toolMissing) { try await Transcoding.checkTools(bogus) }
        let fromEmptyPath = ToolPaths(environment: ["PATH": "/nonexistent"])
        #expect(fromEmptyPath.ffmpeg == "ffmpeg")
        await #expect(throws: TranscodingError.toolMissing) { try await Transcoding.checkTools(fromEmptyPath) }
        // Running a missing tool fails the same way.
        let missing = Transcoder(tools: bogus)
        let plan = try TranscodePlan(
            probe: try await transcoder.probe(try await TestMedia.url(.small)), settings: settings,
            input: try await TestMedia.url(.small), output: try await TestMedia.scratch("never.mp4"))
        await #expect(throws: TranscodingError.toolMissing) {
            try await missing.transcode(plan: plan, durationSeconds: 2, progress: { _ in })
        }
    }

    @Test func toolCheckRequiresLibx265() async throws {
        // A stand-in "ffmpeg" whose encoder list lacks libx265.
        let script = try await TestMedia.scratch("fake-ffmpeg.sh")
        try "#!/bin/sh\necho 'ffmpeg version fake'\necho ' V....D libx264   libx264 H.264'\n"
            .write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        defer { try? FileManager.default.removeItem(at: script) }
        do {
            _ = try await Transcoding.checkTools(ToolPaths(ffmpeg: script.path, ffprobe: TestMedia.tools.ffprobe))
            Issue.record("expected toolMissing")
        } catch let error as TranscodingError {
            #expect(error == .toolMissing)
            #expect(error.reason.contains("libx265"))
        }
    }

    // MARK: Probe

    @Test func probesGeneratedFiles() async throws {
        let clip = try await transcoder.probe(try await TestMedia.url(.h264AAC))
        #expect(clip.video?.codecName == "h264")
        #expect(clip.video?.codecTag == "avc1")
        #expect(clip.video?.width == 640 && clip.video?.height == 360)
        #expect(clip.video?.frameRate == 25)
        #expect(clip.audio?.codecName == "aac")
        #expect(abs((clip.durationSeconds ?? 0) - 3) < 0.2)
        #expect(!clip.isStillImage)

        let portrait = try await MediaProbe(tools: TestMedia.tools).probe(try await TestMedia.url(.portrait))
        #expect(portrait.video?.rotation == 90 || portrait.video?.rotation == 270)
        #expect(portrait.video?.displayWidth == 360 && portrait.video?.displayHeight == 640)

        let png = try await transcoder.probe(try await TestMedia.url(.png))
        #expect(png.isStillImage)
        #expect(png.video?.width == 640)
    }

    @Test func corruptInputIsInvalidWithReadableReason() async throws {
        let corrupt = try await TestMedia.url(.corrupt)
        do {
            _ = try await transcoder.probe(corrupt)
            Issue.record("expected invalidInput")
        } catch let error as TranscodingError {
            #expect(error == .invalidInput)
            #expect(error.reason == "Invalid data found when processing input", "\(error)")
        }
        await #expect(throws: TranscodingError.invalidInput) {
            _ = try await transcoder.probe(URL(fileURLWithPath: "/nonexistent/file.mp4"))
        }

        // Planning from a stale probe still fails cleanly at ffmpeg time.
        let fake = ProbeResult(
            formatNames: ["mov"], durationSeconds: 3,
            video: .init(codecName: "h264", width: 640, height: 360, frameRate: 25, pixelFormat: "yuv420p"))
        let output = try await TestMedia.scratch("corrupt-out.mp4")
        let plan = try TranscodePlan(probe: fake, settings: settings, input: corrupt, output: output)
        do {
            try await transcoder.transcode(plan: plan, durationSeconds: 3, progress: { _ in })
            Issue.record("expected ffmpegFailed")
        } catch let error as TranscodingError {
            #expect(error == .ffmpegFailed)
            #expect(error.reason == "Invalid data found when processing input", "\(error)")
            #expect(!error.reason.contains(" @ 0x"))
            #expect(error.exitStatus == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    // MARK: Transcode

    @Test func transcodesH264ToFaststartHEVC() async throws {
        let input = try await TestMedia.url(.h264AAC)
        let probe = try await transcoder.probe(input)
        let output = try await TestMedia.scratch("h264-to-hevc.mp4")
        defer { try? FileManager.default.removeItem(at: output) }
        let plan = try TranscodePlan(probe: probe, settings: settings, input: input, output: output)
        let reports = Box<[Double]>([])
        try await transcoder.transcode(
            plan: plan, durationSeconds: probe.durationSeconds,
            progress: { value in reports.mutate { $0.append(value) } })

        let values = reports.value
        #expect(values.last == 100)
        #expect(values.filter { $0 == 100 }.count == 1)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 }, "\(values)")
        #expect(values.allSatisfy { (0...100).contains($0) })

        let result = try await transcoder.probe(output)
        #expect(result.video?.codecName == "hevc")
        #expect(result.video?.codecTag == "hvc1")
        #expect(result.video?.width == 640 && result.video?.height == 360)
        #expect(result.video?.pixelFormat == "yuv420p")
        #expect(result.audio?.codecName == "aac")
        #expect(abs((result.durationSeconds ?? 0) - (probe.durationSeconds ?? 0)) < 0.25)
        try expectFaststart(output)
    }

    @Test func requiredPolicyCopiesHEVCAndIsFaster() async throws {
        let input = try await TestMedia.url(.hevcAAC)
        let probe = try await transcoder.probe(input)
        let copyOut = try await TestMedia.scratch("copy.mp4")
        let encodeOut = try await TestMedia.scratch("encode.mp4")
        defer {
            try? FileManager.default.removeItem(at: copyOut)
            try? FileManager.default.removeItem(at: encodeOut)
        }
        var required = settings
        required.policy = .required
        let copyPlan = try TranscodePlan(probe: probe, settings: required, input: input, output: copyOut)
        #expect(copyPlan.video == .copy && copyPlan.audio == .copy)
        let encodePlan = try TranscodePlan(probe: probe, settings: settings, input: input, output: encodeOut)
        #expect(encodePlan.video == .encode)

        let clock = ContinuousClock()
        let copyTime = try await clock.measure {
            try await transcoder.transcode(plan: copyPlan, durationSeconds: probe.durationSeconds, progress: { _ in })
        }
        let encodeTime = try await clock.measure {
            try await transcoder.transcode(plan: encodePlan, durationSeconds: probe.durationSeconds, progress: { _ in })
        }
        #expect(copyTime < encodeTime, "copy \(copyTime) vs encode \(encodeTime)")

        let copied = try await transcoder.probe(copyOut)
        #expect(copied.video?.codecName == "hevc")
        #expect(copied.video?.codecTag == "hvc1")
        #expect(copied.audio?.codecName == "aac")
        // Stream copy keeps the exact bit rate of the source video.
        #expect(copied.video?.bitRate == probe.video?.bitRate)
        try expectFaststart(copyOut)
    }

    @Test func scalesDownButNeverUp() async throws {
        let small = try await TestMedia.url(.small)
        let smallProbe = try await transcoder.probe(small)
        let keptOut = try await TestMedia.scratch("small.mp4")
        defer { try? FileManager.default.removeItem(at: keptOut) }
        let keep = try TranscodePlan(probe: smallProbe, settings: settings, input: small, output: keptOut)
        try await transcoder.transcode(plan: keep, durationSeconds: smallProbe.durationSeconds, progress: { _ in })
        let kept = try await transcoder.probe(keptOut)
        #expect(kept.video?.width == 320 && kept.video?.height == 180)
        #expect(kept.audio == nil)

        // Portrait 360x640 with a 320 height limit: scaled by its displayed height.
        let portrait = try await TestMedia.url(.portrait)
        let portraitProbe = try await transcoder.probe(portrait)
        let scaledOut = try await TestMedia.scratch("portrait.mp4")
        defer { try? FileManager.default.removeItem(at: scaledOut) }
        var limited = settings
        limited.maxHeight = 320
        let scale = try TranscodePlan(probe: portraitProbe, settings: limited, input: portrait, output: scaledOut)
        try await transcoder.transcode(plan: scale, durationSeconds: portraitProbe.durationSeconds, progress: { _ in })
        let scaled = try await transcoder.probe(scaledOut)
        #expect(scaled.video?.displayWidth == 180 && scaled.video?.displayHeight == 320)
    }

    @Test func timeoutKillsFFmpegAndRemovesOutput() async throws {
        // A grace far above the expected shutdown time: finishing early shows ffmpeg honoured SIGTERM.
        let (transcoder, pids) = observedTranscoder(grace: .seconds(30))
        let input = try await TestMedia.url(.long)
        let probe = try await transcoder.probe(input)
        let output = try await TestMedia.scratch("timeout.mp4")
        let plan = try TranscodePlan(probe: probe, settings: slowSettings, input: input, output: output)
        let started = ContinuousClock.now
        await #expect(throws: TranscodingError.timedOut) {
            try await transcoder.transcode(
                plan: plan, durationSeconds: probe.durationSeconds, progress: { _ in }, timeout: .milliseconds(200))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        let pid = try #require(pids.value.last)
        #expect(TestMedia.processIsGone(pid))
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func cancellationKillsFFmpegAndRemovesOutput() async throws {
        let (transcoder, pids) = observedTranscoder(grace: .seconds(30))
        let input = try await TestMedia.url(.long)
        let probe = try await transcoder.probe(input)
        let output = try await TestMedia.scratch("cancel.mp4")
        let plan = try TranscodePlan(probe: probe, settings: slowSettings, input: input, output: output)
        let progressed = Box<[Double]>([])
        let job = Task {
            try await transcoder.transcode(
                plan: plan, durationSeconds: probe.durationSeconds,
                progress: { value in progressed.mutate { $0.append(value) } })
        }
        // Wait until ffmpeg is really encoding (a progress report arrived), then cancel.
        let deadline = ContinuousClock.now + .seconds(20)
        while progressed.value.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!progressed.value.isEmpty)
        let cancelled = ContinuousClock.now
        job.cancel()
        let result = await job.result
        #expect(ContinuousClock.now - cancelled < .seconds(5))
        #expect(throws: TranscodingError.cancelled) { try result.get() }
        let pid = try #require(pids.value.last)
        #expect(TestMedia.processIsGone(pid))
        #expect(!FileManager.default.fileExists(atPath: output.path))
        #expect(!progressed.value.contains(100))
    }

    // MARK: Posters and thumbnails

    @Test func posterIsScaledButNeverUpscaled() async throws {
        let clip = try await TestMedia.url(.h264AAC)
        let poster = try await TestMedia.scratch("poster.jpg")
        defer { try? FileManager.default.removeItem(at: poster) }
        let size = try await transcoder.makePoster(input: clip, output: poster, durationSeconds: 3, width: 320)
        #expect(size == ImageSize(width: 320, height: 180))
        let jpeg = try await transcoder.probe(poster)
        #expect(jpeg.video?.codecName == "mjpeg")

        let small = try await TestMedia.url(.small)
        let smallPoster = try await TestMedia.scratch("small-poster.jpg")
        defer { try? FileManager.default.removeItem(at: smallPoster) }
        let kept = try await transcoder.makePoster(input: small, output: smallPoster, durationSeconds: nil, width: 640)
        #expect(kept == ImageSize(width: 320, height: 180))

        // A duration that overstates the content puts the seek past the last frame: the first frame is used.
        let png = try await TestMedia.url(.png)
        let lying = try await TestMedia.scratch("lying.jpg")
        defer { try? FileManager.default.removeItem(at: lying) }
        let fallback = try await transcoder.makePoster(input: png, output: lying, durationSeconds: 30, width: 160)
        #expect(fallback == ImageSize(width: 160, height: 90))
    }

    @Test func imageThumbnail() async throws {
        let png = try await TestMedia.url(.png)
        let thumb = try await TestMedia.scratch("thumb.jpg")
        defer { try? FileManager.default.removeItem(at: thumb) }
        let size = try await transcoder.makeImageThumbnail(input: png, output: thumb, width: 200)
        #expect(size == ImageSize(width: 200, height: 112))
        #expect(try Data(contentsOf: thumb).prefix(2) == Data([0xFF, 0xD8]))  // JPEG SOI marker

        let broken = try await TestMedia.scratch("broken-thumb.jpg")
        await #expect(throws: TranscodingError.ffmpegFailed) {
            _ = try await transcoder.makeImageThumbnail(input: try await TestMedia.url(.corrupt), output: broken)
        }
        #expect(!FileManager.default.fileExists(atPath: broken.path))
    }

    // MARK: Helpers

    private func observedTranscoder(grace: Duration = .seconds(2)) -> (Transcoder, Box<[Int32]>) {
        let pids = Box<[Int32]>([])
        var observed = Transcoder(
            tools: transcoder.tools, logger: transcoder.logger, progressInterval: transcoder.progressInterval,
            terminationGrace: grace)
        observed.runner.onLaunch = { pid in pids.mutate { $0.append(pid) } }
        return (observed, pids)
    }

    /// faststart puts the moov atom (the index) before mdat (the media data) so playback starts immediately.
    private func expectFaststart(_ file: URL) throws {
        let data = try Data(contentsOf: file)
        let moov = try #require(data.range(of: Data("moov".utf8)))
        let mdat = try #require(data.range(of: Data("mdat".utf8)))
        #expect(moov.lowerBound < mdat.lowerBound)
    }
}
