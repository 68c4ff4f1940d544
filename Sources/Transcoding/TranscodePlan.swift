import Foundation

/// The exact ffmpeg invocation that turns one probed input into its playable outputs, decoding it once: the primary
/// HEVC/AAC MP4 and, by policy, an H.264/AAC compatibility MP4 capped in height. Built purely, without I/O.
public struct TranscodePlan: Sendable, Equatable {
    /// What happens to one kind of stream.
    public enum StreamAction: String, Sendable, Equatable {
        /// Re-encoded (video to HEVC or H.264, audio to AAC).
        case encode
        /// Copied bit for bit.
        case copy
        /// Not present in the output (the input has no such stream).
        case omit
    }

    /// One file the run writes.
    public struct Output: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable {
            /// HEVC, the storage-efficient file.
            case primary
            /// H.264 High within the compatibility height, tone-mapped to SDR BT.709: plays in every browser.
            case compatibility
        }

        public let kind: Kind
        public let url: URL
        public let video: StreamAction
        public let audio: StreamAction
        /// Video filters, e.g. ["fps=60", "scale=-2:1080"]; empty when none are needed or the video is copied.
        public let videoFilters: [String]
    }

    /// Source file.
    public let input: URL
    /// What the run writes, primary first; every one is removed again if the run fails.
    public let outputs: [Output]
    /// Whether the source is HDR (PQ or HLG): kept in the primary output, tone-mapped in the compatibility one.
    public let isHDR: Bool
    /// Arguments for ffmpeg, without the executable itself.
    public let arguments: [String]

    /// The first output's decisions (the primary one's, when there is one), as single-output callers read them.
    public var output: URL { outputs[0].url }
    public var video: StreamAction { outputs[0].video }
    public var audio: StreamAction { outputs[0].audio }
    public var videoFilters: [String] { outputs[0].videoFilters }

    /// The primary output (the only one of a plan made with `init(probe:settings:input:output:)`).
    public var primary: Output? { outputs.first { $0.kind == .primary } }
    public var compatibility: Output? { outputs.first { $0.kind == .compatibility } }

    /// The primary output alone.
    public init(probe: ProbeResult, settings: TranscodeSettings, input: URL, output: URL) throws {
        try self.init(probe: probe, settings: settings, input: input, primary: output, compatibility: nil)
    }

    /// Plans the outputs given; throws `.invalidInput` for invalid settings or paths, no output, still images or
    /// video-less input.
    public init(
        probe: ProbeResult, settings: TranscodeSettings, input: URL, primary: URL?, compatibility: URL?
    ) throws {
        _ = try settings.validated()
        let targets = [primary, compatibility].compactMap { $0 }
        guard !targets.isEmpty else { throw TranscodingError.invalidInput.with(reason: "the plan has no output") }
        guard input.isFileURL, targets.allSatisfy(\.isFileURL) else {
            throw TranscodingError.invalidInput.with(reason: "input and outputs must be file URLs")
        }
        let paths = targets.map(\.standardizedFileURL.path)
        guard !paths.contains(input.standardizedFileURL.path), Set(paths).count == paths.count else {
            throw TranscodingError.invalidInput.with(reason: "outputs must not overwrite the input or each other")
        }
        guard let stream = probe.video else {
            throw TranscodingError.invalidInput.with(reason: "input has no video stream")
        }
        guard !probe.isStillImage else {
            throw TranscodingError.invalidInput.with(reason: "input is a still image; use makeImageThumbnail")
        }

        let audio = Self.audioAction(probe.audio)
        var outputs: [Output] = []
        if let primary {
            let video = Self.primaryVideoAction(stream, policy: settings.policy, settings: settings)
            outputs.append(
                Output(
                    kind: .primary, url: primary, video: video, audio: audio,
                    videoFilters: video == .copy ? [] : Self.primaryFilters(for: stream, settings: settings)))
        }
        if let compatibility {
            outputs.append(
                Output(
                    kind: .compatibility, url: compatibility, video: .encode, audio: audio,
                    videoFilters: Self.compatibilityFilters(for: stream, settings: settings)))
        }

        var args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
        if settings.threads > 0 {
            // Before -i: limits decoder threads; each encoder gets its own limit below.
            args += ["-threads", String(settings.threads)]
        }
        args += InputPolicy.inputArguments(for: input)
        for output in outputs {
            args += ["-map", "0:v:\(stream.ordinal)"]
            if output.audio != .omit {
                // The trailing "?" keeps ffmpeg from failing if the probe saw audio that the demuxer then can't map.
                args += ["-map", "0:a:0?"]
            }
            args += Self.videoArguments(output, stream: stream, settings: settings)
            switch output.audio {
            case .copy: args += ["-c:a", "copy"]
            case .encode: args += ["-c:a", "aac", "-b:a", settings.audioBitrate]
            case .omit: args += ["-an"]
            }
            // No metadata of the upload (a phone's location tag, its software) travels into what viewers get;
            // -f mp4 so the container never depends on the output file's extension.
            args += ["-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", output.url.standardizedFileURL.path]
        }

        self.input = input
        self.outputs = outputs
        self.isHDR = stream.isHDR
        self.arguments = args
    }

    // MARK: - Decisions (pure)

    /// Small tolerance so 59.94 or a rounding error over 60 doesn't trigger the fps filter.
    private static let frameRateTolerance = 0.01

    /// Copy or re-encode the primary video, by policy (`disabled` makes no primary output at all: see
    /// ``makesPrimary(_:)``).
    static func primaryVideoAction(
        _ stream: ProbeResult.VideoStream, policy: TranscodePolicy, settings: TranscodeSettings
    ) -> StreamAction {
        let playable = isPlayableHEVC(stream, settings: settings)
        let withinHeight = stream.displayHeight <= settings.maxHeight
        let withinBitRate = stream.bitRate.map { $0 <= settings.maxBitRate } ?? true
        switch policy {
        case .required: return playable ? .copy : .encode
        case .optimal: return playable && withinHeight ? .copy : .encode
        case .bitrate: return playable && withinHeight && withinBitRate ? .copy : .encode
        case .all, .disabled: return .encode
        }
    }

    /// Whether the policy makes a primary (HEVC) file at all.
    public static func makesPrimary(_ settings: TranscodeSettings) -> Bool { settings.policy != .disabled }

    /// Whether to make the compatibility rendition of this input.
    public static func makesCompatibility(
        _ probe: ProbeResult, originalMimeType: String, settings: TranscodeSettings
    ) -> Bool {
        guard settings.policy != .disabled, probe.video != nil, !probe.isStillImage else { return false }
        switch settings.compatibility {
        case .never: return false
        case .always: return true
        case .auto: return !isBrowserSafe(probe, mimeType: originalMimeType, settings: settings)
        }
    }

    /// An H.264 (Baseline, Main or High, 8-bit 4:2:0, SDR) MP4 with AAC or no audio, within the compatibility height:
    /// every browser plays it as it is.
    public static func isBrowserSafe(_ probe: ProbeResult, mimeType: String, settings: TranscodeSettings) -> Bool {
        guard mimeType == "video/mp4", probe.formatNames.contains("mp4"), let video = probe.video,
            video.codecName == "h264", !video.isHDR,
            ["yuv420p", "yuvj420p"].contains(video.pixelFormat ?? ""),
            ["Baseline", "Constrained Baseline", "Main", "High"].contains(video.profile ?? ""),
            video.displayHeight <= settings.compatibilityMaxHeight
        else { return false }
        return probe.audio.map { $0.codecName == "aac" } ?? true
    }

    /// Audio is re-encoded only when it is not AAC already.
    static func audioAction(_ audio: ProbeResult.AudioStream?) -> StreamAction {
        guard let audio else { return .omit }
        return audio.codecName == "aac" ? .copy : .encode
    }

    static func isPlayableHEVC(_ stream: ProbeResult.VideoStream, settings: TranscodeSettings) -> Bool {
        // Players handle 8/10-bit 4:2:0 HEVC; anything else (4:2:2, 12-bit, RGB) is re-encoded even if HEVC.
        let playablePixelFormats: Set<String> = ["yuv420p", "yuvj420p", "yuv420p10le"]
        guard stream.codecName == "hevc", let pixelFormat = stream.pixelFormat,
            playablePixelFormats.contains(pixelFormat)
        else { return false }
        return stream.frameRate.map { $0 <= Double(settings.maxFrameRate) + frameRateTolerance } ?? false
    }

    static func primaryFilters(for stream: ProbeResult.VideoStream, settings: TranscodeSettings) -> [String] {
        frameRateFilter(stream, settings: settings) + sizeFilter(stream, maxHeight: settings.maxHeight)
    }

    /// fps cap, then tone mapping of HDR to SDR BT.709 (linear light, then the chosen curve), then the height cap:
    /// dropped frames are never processed further, and scaling happens on the SDR picture.
    static func compatibilityFilters(for stream: ProbeResult.VideoStream, settings: TranscodeSettings) -> [String] {
        var filters = frameRateFilter(stream, settings: settings)
        if stream.isHDR {
            filters += [
                "zscale=t=linear:npl=100", "format=gbrpf32le", "zscale=p=bt709",
                "tonemap=tonemap=\(settings.toneMapping.rawValue):desat=0", "zscale=t=bt709:m=bt709:r=tv",
            ]
        }
        return filters + sizeFilter(stream, maxHeight: settings.compatibilityMaxHeight) + ["format=yuv420p"]
    }

    static func frameRateFilter(_ stream: ProbeResult.VideoStream, settings: TranscodeSettings) -> [String] {
        guard let rate = stream.frameRate, rate > Double(settings.maxFrameRate) + frameRateTolerance else { return [] }
        return ["fps=\(settings.maxFrameRate)"]
    }

    static func sizeFilter(_ stream: ProbeResult.VideoStream, maxHeight: Int) -> [String] {
        // ffmpeg auto-rotates before filters, so the displayed height is what the scale filter sees.
        if stream.displayHeight > maxHeight { return ["scale=-2:\(maxHeight)"] }
        // 4:2:0 output needs even dimensions; trim the odd pixel rather than fail in the encoder.
        if stream.displayWidth % 2 != 0 || stream.displayHeight % 2 != 0 { return ["scale=trunc(iw/2)*2:trunc(ih/2)*2"] }
        return []
    }

    static func videoArguments(_ output: Output, stream: ProbeResult.VideoStream, settings: TranscodeSettings)
        -> [String]
    {
        var args: [String] = []
        switch (output.kind, output.video) {
        case (.primary, .copy):
            // Copied HDR stays HDR: the stream's own colour description travels with it.
            return ["-c:v", "copy", "-tag:v", "hvc1"]
        case (.primary, _):
            if !output.videoFilters.isEmpty { args += ["-vf", output.videoFilters.joined(separator: ",")] }
            var x265Params = ["log-level=error"]
            if settings.threads > 0 { x265Params.append("pools=\(settings.threads)") }
            x265Params += hdrParameters(stream)
            args += [
                "-c:v", "libx265", "-crf", String(settings.crf), "-preset", settings.preset,
                "-x265-params", x265Params.joined(separator: ":"),
                "-pix_fmt", stream.isHDR ? "yuv420p10le" : outputPixelFormat(for: stream.pixelFormat),
                "-tag:v", "hvc1",
            ]
            if stream.isHDR, let transfer = stream.colour.transfer {
                // The container's colour box, so players know to show it as HDR.
                args += ["-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc"]
            }
        case (.compatibility, _):
            args += ["-vf", output.videoFilters.joined(separator: ",")]
            args += [
                "-c:v", "libx264", "-profile:v", "high", "-crf", String(settings.compatibilityCRF), "-preset",
                compatibilityPreset(settings.preset), "-pix_fmt", "yuv420p",
            ]
            if settings.threads > 0 { args += ["-threads", String(settings.threads)] }
            if stream.isHDR { args += ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"] }
        }
        return args
    }

    /// x264's `ultrafast` turns off CABAC and 8x8 transforms, which makes the file Constrained Baseline whatever
    /// `-profile:v` asks; the next preset keeps it the High profile the rendition promises.
    static func compatibilityPreset(_ preset: String) -> String {
        preset == "ultrafast" ? "superfast" : preset
    }

    /// x265 parameters that keep an HDR source HDR: BT.2020 primaries and matrix, its transfer, and HDR10 static
    /// metadata (mastering display, content light level) when the source carries it.
    static func hdrParameters(_ stream: ProbeResult.VideoStream) -> [String] {
        guard stream.isHDR, let transfer = stream.colour.transfer else { return [] }
        var params = ["colorprim=bt2020", "transfer=\(transfer)", "colormatrix=bt2020nc"]
        if transfer == "smpte2084" {
            params.append("hdr10=1")
            if let mastering = stream.mastering { params.append("master-display=\(mastering.x265Value)") }
            if let light = stream.contentLight { params.append("max-cll=\(light.maxContent),\(light.maxFrameAverage)") }
        }
        return params
    }

    static func outputPixelFormat(for input: String?) -> String {
        // Keep 10-bit sources 10-bit (no banding in HDR/gradients); everything else becomes 8-bit 4:2:0.
        input == "yuv420p10le" ? "yuv420p10le" : "yuv420p"
    }
}
