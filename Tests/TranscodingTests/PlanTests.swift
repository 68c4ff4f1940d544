import Foundation
import Testing

@testable import Transcoding

@Suite("TranscodePlan arguments")
struct PlanTests {
    let input = URL(fileURLWithPath: "/media/in.mov")
    let output = URL(fileURLWithPath: "/media/out.mp4")

    private func probe(
        codec: String = "h264", width: Int = 1920, height: Int = 1080, rotation: Int = 0, fps: Double = 30,
        pixelFormat: String = "yuv420p", audio: String? = "aac"
    ) -> ProbeResult {
        ProbeResult(
            formatNames: ["mov", "mp4"], durationSeconds: 10,
            video: .init(
                codecName: codec, width: width, height: height, rotation: rotation, frameRate: fps,
                pixelFormat: pixelFormat, frameCount: 300),
            audio: audio.map { .init(codecName: $0, channels: 2, sampleRate: 48000) })
    }

    private let head = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", "/media/in.mov"]
    private let tail = ["-movflags", "+faststart", "-progress", "pipe:1", "-nostats", "-f", "mp4", "/media/out.mp4"]

    private func encodeVideo(crf: String = "28", preset: String = "fast", pixelFormat: String = "yuv420p")
        -> [String]
    {
        [
            "-c:v", "libx265", "-crf", crf, "-preset", preset, "-x265-params", "log-level=error",
            "-pix_fmt", pixelFormat, "-tag:v", "hvc1",
        ]
    }

    @Test func plain1080pH264AAC() throws {
        let plan = try TranscodePlan(probe: probe(), settings: TranscodeSettings(), input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo() + ["-c:a", "aac", "-b:a", "128k"] + tail)
        #expect(plan.video == .encode && plan.audio == .encode)
        #expect(plan.videoFilters.isEmpty)
    }

    @Test func tallVideoIsScaledDownToMaxHeight() throws {
        let settings = TranscodeSettings(crf: 30, preset: "medium", maxHeight: 1080)
        let plan = try TranscodePlan(
            probe: probe(width: 3840, height: 2160, fps: 60), settings: settings, input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?", "-vf", "scale=-2:1080"]
                + encodeVideo(crf: "30", preset: "medium") + ["-c:a", "aac", "-b:a", "128k"] + tail)
        #expect(plan.videoFilters == ["scale=-2:1080"])
    }

    @Test func videoWithinMaxHeightIsNeverUpscaled() throws {
        let plan = try TranscodePlan(
            probe: probe(width: 320, height: 180), settings: TranscodeSettings(maxHeight: 720), input: input,
            output: output)
        #expect(plan.videoFilters.isEmpty)
        #expect(!plan.arguments.contains("-vf"))
    }

    @Test func highFrameRateIsCapped() throws {
        let plan = try TranscodePlan(
            probe: probe(fps: 120), settings: TranscodeSettings(), input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?", "-vf", "fps=60"] + encodeVideo()
                + ["-c:a", "aac", "-b:a", "128k"] + tail)
        // 59.94 and exactly 60 stay untouched.
        for fps in [59.94, 60.0] {
            let ok = try TranscodePlan(
                probe: probe(fps: fps), settings: TranscodeSettings(), input: input, output: output)
            #expect(ok.videoFilters.isEmpty)
        }
        // Both limits at once: fps first so dropped frames are never scaled.
        let both = try TranscodePlan(
            probe: probe(width: 3840, height: 2160, fps: 120), settings: TranscodeSettings(maxHeight: 1440),
            input: input, output: output)
        #expect(both.videoFilters == ["fps=60", "scale=-2:1440"])
    }

    @Test func noAudio() throws {
        let plan = try TranscodePlan(
            probe: probe(audio: nil), settings: TranscodeSettings(), input: input, output: output)
        #expect(plan.arguments == head + ["-map", "0:v:0"] + encodeVideo() + ["-an"] + tail)
        #expect(plan.audio == .omit)
    }

    @Test func requiredPolicyCopiesHEVCAndAAC() throws {
        let plan = try TranscodePlan(
            probe: probe(codec: "hevc"), settings: TranscodeSettings(policy: .required), input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?", "-c:v", "copy", "-tag:v", "hvc1", "-c:a", "copy"] + tail)
        #expect(plan.video == .copy && plan.audio == .copy)
    }

    @Test func requiredPolicyCopiesHEVCButEncodesMP3() throws {
        let plan = try TranscodePlan(
            probe: probe(codec: "hevc", audio: "mp3"), settings: TranscodeSettings(policy: .required), input: input,
            output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?", "-c:v", "copy", "-tag:v", "hvc1"]
                + ["-c:a", "aac", "-b:a", "128k"] + tail)
        #expect(plan.video == .copy && plan.audio == .encode)
    }

    @Test func requiredPolicyEncodesH264ButCopiesAAC() throws {
        let plan = try TranscodePlan(
            probe: probe(), settings: TranscodeSettings(policy: .required), input: input, output: output)
        #expect(plan.video == .encode && plan.audio == .copy)
        #expect(plan.arguments == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo() + ["-c:a", "copy"] + tail)
    }

    @Test func requiredPolicyReencodesHEVCOutsideLimits() throws {
        let settings = TranscodeSettings(maxHeight: 1080, policy: .required)
        let tall = try TranscodePlan(
            probe: probe(codec: "hevc", width: 3840, height: 2160), settings: settings, input: input, output: output)
        #expect(tall.video == .encode && tall.videoFilters == ["scale=-2:1080"])
        let fast = try TranscodePlan(
            probe: probe(codec: "hevc", fps: 120), settings: settings, input: input, output: output)
        #expect(fast.video == .encode && fast.videoFilters == ["fps=60"])
        let chroma422 = try TranscodePlan(
            probe: probe(codec: "hevc", pixelFormat: "yuv422p10le"), settings: settings, input: input, output: output)
        #expect(chroma422.video == .encode)
    }

    @Test func alwaysPolicyReencodesHEVC() throws {
        let plan = try TranscodePlan(
            probe: probe(codec: "hevc"), settings: TranscodeSettings(policy: .always), input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo() + ["-c:a", "aac", "-b:a", "128k"] + tail)
    }

    @Test func portraitVideoScalesByDisplayedHeight() throws {
        // Stored 1920x1080 with a 90 degree rotation: displayed 1080 wide, 1920 tall.
        let settings = TranscodeSettings(maxHeight: 1280)
        let plan = try TranscodePlan(
            probe: probe(rotation: 90), settings: settings, input: input, output: output)
        #expect(plan.videoFilters == ["scale=-2:1280"])
        #expect(plan.arguments.contains("scale=-2:1280"))
        // The same stored size without rotation is 1080 tall and fits.
        let landscape = try TranscodePlan(probe: probe(), settings: settings, input: input, output: output)
        #expect(landscape.videoFilters.isEmpty)
    }

    @Test func tenBitIsKept() throws {
        let plan = try TranscodePlan(
            probe: probe(pixelFormat: "yuv420p10le"), settings: TranscodeSettings(), input: input, output: output)
        #expect(plan.arguments.contains("yuv420p10le"))
        let rgb = try TranscodePlan(
            probe: probe(pixelFormat: "gbrp"), settings: TranscodeSettings(), input: input, output: output)
        #expect(rgb.arguments == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo()
            + ["-c:a", "aac", "-b:a", "128k"] + tail)
    }

    @Test func threadsLimitDecoderAndX265Pools() throws {
        let plan = try TranscodePlan(
            probe: probe(audio: nil), settings: TranscodeSettings(threads: 2), input: input, output: output)
        #expect(
            plan.arguments
                == ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-threads", "2", "-i", "/media/in.mov",
                    "-map", "0:v:0", "-c:v", "libx265", "-crf", "28", "-preset", "fast",
                    "-x265-params", "log-level=error:pools=2", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-an"] + tail)
    }

    @Test func oddDimensionsAreMadeEven() throws {
        let plan = try TranscodePlan(
            probe: probe(width: 641, height: 361), settings: TranscodeSettings(), input: input, output: output)
        #expect(plan.videoFilters == ["scale=trunc(iw/2)*2:trunc(ih/2)*2"])
    }

    @Test func rejectsWhatCannotBeTranscoded() throws {
        let settings = TranscodeSettings()
        #expect(throws: TranscodingError.invalidInput) {
            try TranscodePlan(probe: probe(), settings: TranscodeSettings(crf: 90), input: input, output: output)
        }
        #expect(throws: TranscodingError.invalidInput) {
            try TranscodePlan(probe: probe(), settings: settings, input: input, output: input)
        }
        #expect(throws: TranscodingError.invalidInput) {
            try TranscodePlan(
                probe: ProbeResult(formatNames: ["mp3"], audio: .init(codecName: "mp3")), settings: settings,
                input: input, output: output)
        }
        let png = try ProbeResult.parse(json: Data(CapturedProbeJSON.png.utf8))
        #expect(throws: TranscodingError.invalidInput) {
            try TranscodePlan(probe: png, settings: settings, input: input, output: output)
        }
    }

    @Test func posterArguments() throws {
        #expect(StillFramePlan.posterSeek(durationSeconds: 30) == 1)
        #expect(StillFramePlan.posterSeek(durationSeconds: 5) == 0.5)
        #expect(StillFramePlan.posterSeek(durationSeconds: 0.4) == nil)
        #expect(StillFramePlan.posterSeek(durationSeconds: nil) == nil)
        let args = try StillFramePlan.arguments(
            input: URL(fileURLWithPath: "/a/in.mp4"), output: URL(fileURLWithPath: "/a/poster.jpg"),
            seekSeconds: 0.5, width: 640)
        #expect(
            args == [
                "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss", "0.500", "-i", "/a/in.mp4",
                "-frames:v", "1", "-vf", "scale='min(640,iw)':-2", "-q:v", "3", "-update", "1", "-f", "image2",
                "/a/poster.jpg",
            ])
        #expect(throws: TranscodingError.invalidInput) {
            try StillFramePlan.arguments(
                input: URL(fileURLWithPath: "/a"), output: URL(fileURLWithPath: "/b"), seekSeconds: nil, width: 0)
        }
    }
}
