import Foundation

/// The exact ffmpeg invocation that turns one probed input into an HEVC/AAC MP4; built purely, without I/O.
public struct TranscodePlan: Sendable, Equatable {
    /// What happens to one kind of stream.
    public enum StreamAction: String, Sendable, Equatable {
        /// Re-encoded (video to HEVC, audio to AAC).
        case encode
        /// Copied bit for bit.
        case copy
        /// Not present in the output (the input has no such stream).
        case omit
    }

    /// Source file.
    public let input: URL
    /// Destination MP4; removed again if the transcode fails.
    public let output: URL
    /// What happens to the video stream.
    public let video: StreamAction
    /// What happens to the audio stream.
    public let audio: StreamAction
    /// Video filters applied when encoding, e.g. ["fps=60", "scale=-2:1080"]; empty when none are needed.
    public let videoFilters: [String]
    /// Arguments for ffmpeg, without the executable itself.
    public let arguments: [String]

    /// Plans the transcode; throws `.invalidInput` for invalid settings, paths, still images or video-less input.
    public init(probe: ProbeResult, settings: TranscodeSettings, input: URL, output: URL) throws {
        _ = try settings.validated()
        guard input.isFileURL, output.isFileURL else {
            throw TranscodingError.invalidInput.with(reason: "input and output must be file URLs")
        }
        let inputPath = input.standardizedFileURL.path
        let outputPath = output.standardizedFileURL.path
        guard inputPath != outputPath else {
            throw TranscodingError.invalidInput.with(reason: "output must not overwrite the input")
        }
        guard let stream = probe.video else {
            throw TranscodingError.invalidInput.with(reason: "input has no video stream")
        }
        guard !probe.isStillImage else {
            throw TranscodingError.invalidInput.with(reason: "input is a still image; use makeImageThumbnail")
        }

        let filters = Self.filters(for: stream, settings: settings)
        let videoAction: StreamAction =
            settings.policy == .required && Self.videoFits(stream, settings: settings) ? .copy : .encode
        let audioAction: StreamAction
        if let audio = probe.audio {
            audioAction = settings.policy == .required && audio.codecName == "aac" ? .copy : .encode
        } else {
            audioAction = .omit
        }

        var args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
        if settings.threads > 0 {
            // Before -i: limits decoder threads; x265 gets its own limit through `pools` below.
            args += ["-threads", String(settings.threads)]
        }
        args += ["-i", inputPath, "-map", "0:v:\(stream.ordinal)"]
        if audioAction != .omit {
            // The trailing "?" keeps ffmpeg from failing if the probe saw audio that the demuxer then can't map.
            args += ["-map", "0:a:0?"]
        }

        switch videoAction {
        case .copy:
            args += ["-c:v", "copy", "-tag:v", "hvc1"]
        case .encode, .omit:
            if !filters.isEmpty {
                args += ["-vf", filters.joined(separator: ",")]
            }
            var x265Params = "log-level=error"
            if settings.threads > 0 {
                x265Params += ":pools=\(settings.threads)"
            }
            args += [
                "-c:v", "libx265", "-crf", String(settings.crf), "-preset", settings.preset,
                "-x265-params", x265Params,
                "-pix_fmt", Self.outputPixelFormat(for: stream.pixelFormat),
                "-tag:v", "hvc1",
            ]
        }

        switch audioAction {
        case .copy:
            args += ["-c:a", "copy"]
        case .encode:
            args += ["-c:a", "aac", "-b:a", settings.audioBitrate]
        case .omit:
            args += ["-an"]
        }

        // -f mp4 so the container never depends on the output file's extension.
        args += ["-movflags", "+faststart", "-progress", "pipe:1", "-nostats", "-f", "mp4", outputPath]

        self.input = input
        self.output = output
        self.video = videoAction
        self.audio = audioAction
        self.videoFilters = videoAction == .copy ? [] : filters
        self.arguments = args
    }

    // MARK: - Pure helpers

    /// Small tolerance so 59.94 or a rounding error over 60 doesn't trigger the fps filter.
    private static let frameRateTolerance = 0.01

    static func filters(for stream: ProbeResult.VideoStream, settings: TranscodeSettings) -> [String] {
        var filters: [String] = []
        // fps before scale: dropped frames are then never scaled.
        if let rate = stream.frameRate, rate > Double(settings.maxFrameRate) + frameRateTolerance {
            filters.append("fps=\(settings.maxFrameRate)")
        }
        // ffmpeg auto-rotates before filters, so the displayed height is what the scale filter sees.
        if stream.displayHeight > settings.maxHeight {
            filters.append("scale=-2:\(settings.maxHeight)")
        } else if stream.displayWidth % 2 != 0 || stream.displayHeight % 2 != 0 {
            // 4:2:0 output needs even dimensions; trim the odd pixel rather than fail in the encoder.
            filters.append("scale=trunc(iw/2)*2:trunc(ih/2)*2")
        }
        return filters
    }

    static func videoFits(_ stream: ProbeResult.VideoStream, settings: TranscodeSettings) -> Bool {
        // Players handle 8/10-bit 4:2:0 HEVC; anything else (4:2:2, 12-bit, RGB) is re-encoded even if HEVC.
        let playablePixelFormats: Set<String> = ["yuv420p", "yuvj420p", "yuv420p10le"]
        guard stream.codecName == "hevc", let pixelFormat = stream.pixelFormat,
            playablePixelFormats.contains(pixelFormat)
        else { return false }
        let rateFits = stream.frameRate.map { $0 <= Double(settings.maxFrameRate) + frameRateTolerance } ?? false
        return rateFits && stream.displayHeight <= settings.maxHeight
    }

    static func outputPixelFormat(for input: String?) -> String {
        // Keep 10-bit sources 10-bit (no banding in HDR/gradients); everything else becomes 8-bit 4:2:0.
        input == "yuv420p10le" ? "yuv420p10le" : "yuv420p"
    }
}
