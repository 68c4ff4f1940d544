/// When the primary (HEVC) output re-encodes the video, named as in other self-hosted media servers. Audio is
/// re-encoded only when it is not AAC, whatever the policy.
public enum TranscodePolicy: String, Sendable, Equatable, CaseIterable {
    /// Copy video that is already HEVC in a playable pixel format and frame rate; re-encode the rest.
    case required
    /// As `required`, and also re-encode video taller than the target height.
    case optimal
    /// As `optimal`, and also re-encode video above the maximum bit rate.
    case bitrate
    /// Re-encode every video.
    case all
    /// Transcode nothing: keep posters and metadata; the original is what plays.
    case disabled
}

/// Whether a compatibility rendition (H.264/AAC within a capped height) is made beside the HEVC file.
public enum CompatibilityRendition: String, Sendable, Equatable, CaseIterable {
    /// Unless the original is already a browser-safe H.264/AAC MP4 within the cap, which then serves as the fallback.
    case auto
    case always
    case never
}

/// How HDR video is mapped to SDR for the compatibility rendition (ffmpeg's `tonemap` algorithms).
public enum ToneMapping: String, Sendable, Equatable, CaseIterable {
    case hable, reinhard, mobius, clip, linear, gamma
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
    /// When the primary output re-encodes instead of copying.
    public var policy: TranscodePolicy
    /// Above this many bits per second the `bitrate` policy re-encodes.
    public var maxBitRate: Int
    /// Whether an H.264 rendition is made.
    public var compatibility: CompatibilityRendition
    /// The H.264 rendition's height cap (never upscaled). Even.
    public var compatibilityMaxHeight: Int
    /// x264 constant rate factor of the H.264 rendition, 0...51.
    public var compatibilityCRF: Int
    /// Tone mapping of HDR sources in the H.264 rendition.
    public var toneMapping: ToneMapping
    /// Long edge of a photo's preview in pixels (never enlarged).
    public var previewSize: Int = 1440
    /// Larger images are refused from their header, before decoding: a decompression bomb never reaches memory.
    public var maxImagePixels: Int = 200_000_000
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
        audioBitrate: String = "128k", threads: Int = 0, policy: TranscodePolicy = .all,
        posterWidth: Int = 640, thumbnailWidth: Int = 640, maxBitRate: Int = 20_000_000,
        compatibility: CompatibilityRendition = .auto, compatibilityMaxHeight: Int = 720, compatibilityCRF: Int = 23,
        toneMapping: ToneMapping = .hable
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
        self.maxBitRate = maxBitRate
        self.compatibility = compatibility
        self.compatibilityMaxHeight = compatibilityMaxHeight
        self.compatibilityCRF = compatibilityCRF
        self.toneMapping = toneMapping
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
        if !(100_000...1_000_000_000).contains(maxBitRate) {
            problems.append("maxBitRate must be between 100k and 1G bits per second (got \(maxBitRate))")
        }
        if !(144...4320).contains(compatibilityMaxHeight) || compatibilityMaxHeight % 2 != 0 {
            problems.append("compatibilityMaxHeight must be an even number in 144...4320 (got \(compatibilityMaxHeight))")
        }
        if !(0...51).contains(compatibilityCRF) {
            problems.append("compatibilityCRF must be in 0...51 (got \(compatibilityCRF))")
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

    /// `128k`, `8M`, `1G` or plain digits, in bits per second.
    public static func bitsPerSecond(_ text: String) -> Int? {
        var digits = Substring(text)
        var multiplier = 1
        if digits.hasSuffix("k") || digits.hasSuffix("K") {
            digits = digits.dropLast()
            multiplier = 1000
        } else if digits.hasSuffix("M") || digits.hasSuffix("m") {
            digits = digits.dropLast()
            multiplier = 1_000_000
        } else if digits.hasSuffix("G") || digits.hasSuffix("g") {
            digits = digits.dropLast()
            multiplier = 1_000_000_000
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count <= 7,
            let value = Int(digits)
        else { return nil }
        return value * multiplier
    }
}
