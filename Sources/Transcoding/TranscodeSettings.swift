/// When to re-encode a stream.
public enum TranscodePolicy: String, Sendable, Equatable, CaseIterable {
    /// Re-encode video to HEVC and audio to AAC every time.
    case always
    /// Copy streams that already fit (HEVC within limits, AAC audio); re-encode only what needs it.
    case required
}

/// Encoder settings for the HEVC/AAC MP4 output and the JPEG previews.
public struct TranscodeSettings: Sendable, Equatable {
    /// x265 constant rate factor, 0...51; lower is better quality and larger files.
    public var crf: Int
    /// x265 preset name, e.g. "fast" (see `TranscodeSettings.presets`).
    public var preset: String
    /// Taller videos (as displayed, after rotation) are scaled down to this height; never scaled up. Even.
    public var maxHeight: Int
    /// Higher frame rates are capped to this with ffmpeg's `fps` filter.
    public var maxFrameRate: Int
    /// AAC bit rate in ffmpeg syntax, e.g. "128k".
    public var audioBitrate: String
    /// Encoder/decoder thread limit; 0 lets ffmpeg and x265 decide.
    public var threads: Int
    /// Whether already-compatible streams are copied instead of re-encoded.
    public var policy: TranscodePolicy
    /// Maximum poster width in pixels (never upscaled).
    public var posterWidth: Int
    /// Maximum image thumbnail width in pixels (never upscaled).
    public var thumbnailWidth: Int

    /// x265 preset names accepted by `preset`.
    public static let presets: [String] = [
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
    ]

    /// Creates settings; every parameter has the production default.
    public init(
        crf: Int = 28, preset: String = "fast", maxHeight: Int = 2160, maxFrameRate: Int = 60,
        audioBitrate: String = "128k", threads: Int = 0, policy: TranscodePolicy = .always,
        posterWidth: Int = 640, thumbnailWidth: Int = 640
    ) {
        self.crf = crf
        self.preset = preset
        self.maxHeight = maxHeight
        self.maxFrameRate = maxFrameRate
        self.audioBitrate = audioBitrate
        self.threads = threads
        self.policy = policy
        self.posterWidth = posterWidth
        self.thumbnailWidth = thumbnailWidth
    }

    /// Problems with these settings, each naming its field; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        if !(0...51).contains(crf) {
            problems.append("crf must be in 0...51 (got \(crf))")
        }
        if !Self.presets.contains(preset) {
            problems.append("preset must be one of \(Self.presets.joined(separator: ", ")) (got \"\(preset)\")")
        }
        // Even because 4:2:0 chroma needs even dimensions; the bounds keep obvious typos out.
        if !(16...8640).contains(maxHeight) || maxHeight % 2 != 0 {
            problems.append("maxHeight must be an even number in 16...8640 (got \(maxHeight))")
        }
        if !(1...240).contains(maxFrameRate) {
            problems.append("maxFrameRate must be in 1...240 (got \(maxFrameRate))")
        }
        if let bitsPerSecond = Self.bitsPerSecond(audioBitrate) {
            if !(16_000...512_000).contains(bitsPerSecond) {
                problems.append("audioBitrate must be between 16k and 512k (got \"\(audioBitrate)\")")
            }
        } else {
            problems.append("audioBitrate must look like \"128k\" or \"128000\" (got \"\(audioBitrate)\")")
        }
        if !(0...64).contains(threads) {
            problems.append("threads must be in 0...64, 0 meaning automatic (got \(threads))")
        }
        if !(16...7680).contains(posterWidth) {
            problems.append("posterWidth must be in 16...7680 (got \(posterWidth))")
        }
        if !(16...7680).contains(thumbnailWidth) {
            problems.append("thumbnailWidth must be in 16...7680 (got \(thumbnailWidth))")
        }
        return problems
    }

    /// Throws `TranscodingError.invalidInput` listing every problem when the settings are invalid.
    public func validated() throws -> TranscodeSettings {
        let problems = validate()
        guard problems.isEmpty else {
            throw TranscodingError.invalidInput.with(reason: "invalid settings: " + problems.joined(separator: "; "))
        }
        return self
    }

    static func bitsPerSecond(_ text: String) -> Int? {
        var digits = Substring(text)
        var multiplier = 1
        if digits.hasSuffix("k") || digits.hasSuffix("K") {
            digits = digits.dropLast()
            multiplier = 1000
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count <= 7,
            let value = Int(digits)
        else { return nil }
        return value * multiplier
    }
}
