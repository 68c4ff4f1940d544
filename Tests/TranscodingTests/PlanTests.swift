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

    private static let global = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    private let head = Self.global + InputPolicy.inputArguments(for: URL(fileURLWithPath: "/media/in.mov"))
    private let tail = ["-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", "/media/out.mp4"]

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
                == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo() + ["-c:a", "copy"] + tail)
        // AAC is kept as it is whatever the policy: only the video is re-encoded.
        #expect(plan.video == .encode && plan.audio == .copy)
        #expect(plan.videoFilters.isEmpty)
    }

    @Test func tallVideoIsScaledDownToMaxHeight() throws {
        let settings = TranscodeSettings(crf: 30, preset: "medium", maxHeight: 1080)
        let plan = try TranscodePlan(
            probe: probe(width: 3840, height: 2160, fps: 60), settings: settings, input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?", "-vf", "scale=-2:1080"]
                + encodeVideo(crf: "30", preset: "medium") + ["-c:a", "copy"] + tail)
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
                + ["-c:a", "copy"] + tail)
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

    @Test func requiredPolicyReencodesUnplayableHEVCAndOptimalAlsoTallHEVC() throws {
        let settings = TranscodeSettings(maxHeight: 1080, policy: .required)
        let tall = try TranscodePlan(
            probe: probe(codec: "hevc", width: 3840, height: 2160), settings: settings, input: input, output: output)
        #expect(tall.video == .copy, "required looks at the codec only, not the size")
        var optimal = settings
        optimal.policy = .optimal
        let scaled = try TranscodePlan(
            probe: probe(codec: "hevc", width: 3840, height: 2160), settings: optimal, input: input, output: output)
        #expect(scaled.video == .encode && scaled.videoFilters == ["scale=-2:1080"])
        let fast = try TranscodePlan(
            probe: probe(codec: "hevc", fps: 120), settings: settings, input: input, output: output)
        #expect(fast.video == .encode && fast.videoFilters == ["fps=60"])
        let chroma422 = try TranscodePlan(
            probe: probe(codec: "hevc", pixelFormat: "yuv422p10le"), settings: settings, input: input, output: output)
        #expect(chroma422.video == .encode)
    }

    @Test func allPolicyReencodesHEVC() throws {
        let plan = try TranscodePlan(
            probe: probe(codec: "hevc"), settings: TranscodeSettings(policy: .all), input: input, output: output)
        #expect(
            plan.arguments
                == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo() + ["-c:a", "copy"] + tail)
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
        #expect(rgb.arguments == head + ["-map", "0:v:0", "-map", "0:a:0?"] + encodeVideo() + ["-c:a", "copy"] + tail)
    }

    @Test func threadsLimitDecoderAndX265Pools() throws {
        let plan = try TranscodePlan(
            probe: probe(audio: nil), settings: TranscodeSettings(threads: 2), input: input, output: output)
        #expect(
            plan.arguments
                == Self.global + ["-threads", "2"] + InputPolicy.inputArguments(for: input) + [
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

    @Test func compatibilityRenditionIsH264HighWithinItsCap() throws {
        let compatibility = URL(fileURLWithPath: "/media/compat.mp4")
        let plan = try TranscodePlan(
            probe: probe(codec: "hevc", width: 1920, height: 1080, fps: 30), settings: TranscodeSettings(),
            input: input, primary: output, compatibility: compatibility)
        #expect(plan.outputs.map(\.kind) == [.primary, .compatibility])
        #expect(plan.compatibility?.videoFilters == ["scale=-2:720", "format=yuv420p"])
        // One run, one decode: a single -i, then each output's own maps and codecs.
        #expect(plan.arguments.filter { $0 == "-i" }.count == 1)
        let second = try #require(plan.arguments.lastIndex(of: "/media/out.mp4"))
        #expect(
            Array(plan.arguments[(second + 1)...])
                == ["-map", "0:v:0", "-map", "0:a:0?", "-vf", "scale=-2:720,format=yuv420p", "-c:v", "libx264",
                    "-profile:v", "high", "-crf", "23", "-preset", "fast", "-pix_fmt", "yuv420p", "-c:a", "copy",
                    "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", "/media/compat.mp4"])
        #expect(TranscodePlan.compatibilityPreset("ultrafast") == "superfast", "ultrafast would not be High profile")
        #expect(TranscodePlan.compatibilityPreset("medium") == "medium")
        // The compatibility file alone (policy `disabled` for the primary is decided by the caller).
        let alone = try TranscodePlan(
            probe: probe(height: 480), settings: TranscodeSettings(), input: input, primary: nil,
            compatibility: compatibility)
        #expect(alone.outputs.map(\.kind) == [.compatibility])
        #expect(alone.compatibility?.videoFilters == ["format=yuv420p"], "never upscaled")
        #expect(throws: TranscodingError.invalidInput) {
            try TranscodePlan(probe: probe(), settings: TranscodeSettings(), input: input, primary: nil, compatibility: nil)
        }
    }

    @Test func hdrStaysHDRInHEVCAndIsToneMappedInH264() throws {
        var source = probe(codec: "hevc", pixelFormat: "yuv420p10le")
        source.video?.colour = .init(primaries: "bt2020", transfer: "smpte2084", matrix: "bt2020nc")
        source.video?.mastering = .init(
            red: (0.708, 0.292), green: (0.17, 0.797), blue: (0.131, 0.046), whitePoint: (0.3127, 0.329),
            maxLuminance: 1000, minLuminance: 0.0001)
        source.video?.contentLight = .init(maxContent: 1000, maxFrameAverage: 400)
        let plan = try TranscodePlan(
            probe: source, settings: TranscodeSettings(toneMapping: .reinhard), input: input, primary: output,
            compatibility: URL(fileURLWithPath: "/media/compat.mp4"))
        #expect(plan.isHDR)
        let x265 = try #require(plan.arguments.firstIndex(of: "-x265-params").map { plan.arguments[$0 + 1] })
        #expect(
            x265 == "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:hdr10=1:"
                + "master-display=G(8500,39850)B(6550,2300)R(35400,14600)WP(15635,16450)L(10000000,1):max-cll=1000,400")
        #expect(plan.arguments.contains("yuv420p10le"))
        #expect(
            plan.compatibility?.videoFilters == [
                "zscale=t=linear:npl=100", "format=gbrpf32le", "zscale=p=bt709",
                "tonemap=tonemap=reinhard:desat=0", "zscale=t=bt709:m=bt709:r=tv", "scale=-2:720", "format=yuv420p",
            ])
        let tags = try #require(plan.arguments.lastIndex(of: "-color_trc").map { plan.arguments[$0 + 1] })
        #expect(tags == "bt709")
    }

    @Test func policiesDecideCopyOrEncode() {
        let settings = TranscodeSettings(maxHeight: 720, maxBitRate: 5_000_000)
        let fits = ProbeResult.VideoStream(
            codecName: "hevc", width: 1280, height: 720, frameRate: 30, pixelFormat: "yuv420p", bitRate: 4_000_000)
        var tall = fits
        tall.height = 1080
        var heavy = fits
        heavy.bitRate = 9_000_000
        var h264 = fits
        h264.codecName = "h264"
        func action(_ stream: ProbeResult.VideoStream, _ policy: TranscodePolicy) -> TranscodePlan.StreamAction {
            TranscodePlan.primaryVideoAction(stream, policy: policy, settings: settings)
        }
        #expect([fits, tall, heavy, h264].map { action($0, .required) } == [.copy, .copy, .copy, .encode])
        #expect([fits, tall, heavy, h264].map { action($0, .optimal) } == [.copy, .encode, .copy, .encode])
        #expect([fits, tall, heavy, h264].map { action($0, .bitrate) } == [.copy, .encode, .encode, .encode])
        #expect([fits, tall, heavy, h264].map { action($0, .all) } == [.encode, .encode, .encode, .encode])
        #expect(!TranscodePlan.makesPrimary(TranscodeSettings(policy: .disabled)))
    }

    @Test func onlyABrowserSafeOriginalMakesTheCompatibilityRenditionUnnecessary() {
        var safe = probe(height: 720)
        safe.formatNames = ["mov", "mp4", "m4a", "3gp", "3g2", "mj2"]
        safe.video?.profile = "High"
        let auto = TranscodeSettings()
        #expect(TranscodePlan.isBrowserSafe(safe, mimeType: "video/mp4", settings: auto))
        #expect(!TranscodePlan.makesCompatibility(safe, originalMimeType: "video/mp4", settings: auto))
        #expect(TranscodePlan.makesCompatibility(safe, originalMimeType: "video/quicktime", settings: auto))
        #expect(TranscodePlan.makesCompatibility(
            safe, originalMimeType: "video/mp4", settings: TranscodeSettings(compatibility: .always)))
        var tall = safe
        tall.video?.height = 1080
        #expect(TranscodePlan.makesCompatibility(tall, originalMimeType: "video/mp4", settings: auto))
        var high10 = safe
        high10.video?.pixelFormat = "yuv420p10le"
        #expect(TranscodePlan.makesCompatibility(high10, originalMimeType: "video/mp4", settings: auto))
        var opus = safe
        opus.audio = .init(codecName: "opus")
        #expect(TranscodePlan.makesCompatibility(opus, originalMimeType: "video/mp4", settings: auto))
        #expect(!TranscodePlan.makesCompatibility(
            tall, originalMimeType: "video/mp4", settings: TranscodeSettings(compatibility: .never)))
        #expect(!TranscodePlan.makesCompatibility(
            tall, originalMimeType: "video/mp4", settings: TranscodeSettings(policy: .disabled)))
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
                "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss", "0.500",
            ] + InputPolicy.inputArguments(for: URL(fileURLWithPath: "/a/in.mp4")) + [
                "-frames:v", "1", "-vf", "scale='min(640,iw)':-2", "-q:v", "3", "-update", "1", "-f", "image2",
                "/a/poster.jpg",
            ])
        #expect(throws: TranscodingError.invalidInput) {
            try StillFramePlan.arguments(
                input: URL(fileURLWithPath: "/a"), output: URL(fileURLWithPath: "/b"), seekSeconds: nil, width: 0)
        }
    }
}
