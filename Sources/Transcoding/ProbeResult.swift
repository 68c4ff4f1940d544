import Foundation

/// What ffprobe reports about a media file, reduced to what planning and cataloguing need.
public struct ProbeResult: Sendable, Equatable {
    /// The primary video stream (attached cover pictures are skipped).
    public struct VideoStream: Sendable, Equatable {
        /// ffprobe codec name, e.g. "h264", "hevc", "png", "mjpeg".
        public var codecName: String
        /// Container codec tag, e.g. "hvc1", "hev1", "avc1"; nil when the container has none.
        public var codecTag: String?
        /// Coded width in pixels, before rotation.
        public var width: Int
        /// Coded height in pixels, before rotation.
        public var height: Int
        /// Clockwise display rotation normalised to 0, 90, 180 or 270.
        public var rotation: Int
        /// Average frame rate in frames per second, if known.
        public var frameRate: Double?
        /// Pixel format, e.g. "yuv420p" or "yuv420p10le".
        public var pixelFormat: String?
        /// Stream bit rate in bits per second, if known.
        public var bitRate: Int?
        /// Number of frames, if the container records it.
        public var frameCount: Int?
        /// Position among the file's video streams (the `N` in ffmpeg's `-map 0:v:N`).
        public var ordinal: Int
        /// ffprobe's profile name, e.g. "High", "Main", "Main 10", "Constrained Baseline".
        public var profile: String?
        /// Colour description as ffprobe names it (`color_primaries`, `color_transfer`, `color_space`).
        public var colour: Colour = Colour()
        /// HDR10 static metadata carried by the stream, if any.
        public var mastering: MasteringDisplay?
        public var contentLight: ContentLightLevel?

        /// Creates a video stream description (mainly for tests and callers that build plans by hand).
        public init(
            codecName: String, codecTag: String? = nil, width: Int, height: Int, rotation: Int = 0,
            frameRate: Double? = nil, pixelFormat: String? = nil, bitRate: Int? = nil, frameCount: Int? = nil,
            ordinal: Int = 0
        ) {
            self.codecName = codecName
            self.codecTag = codecTag
            self.width = width
            self.height = height
            self.rotation = ProbeResult.normalisedRotation(Double(rotation))
            self.frameRate = frameRate
            self.pixelFormat = pixelFormat
            self.bitRate = bitRate
            self.frameCount = frameCount
            self.ordinal = ordinal
        }

        /// High dynamic range: a PQ (HDR10) or HLG transfer.
        public var isHDR: Bool { colour.transfer.map(Colour.hdrTransfers.contains) ?? false }

        /// Width as displayed, i.e. after applying the rotation.
        public var displayWidth: Int { rotation % 180 == 0 ? width : height }
        /// Height as displayed, i.e. after applying the rotation.
        public var displayHeight: Int { rotation % 180 == 0 ? height : width }
    }

    /// A stream's colour description.
    public struct Colour: Sendable, Equatable {
        public var primaries: String?
        public var transfer: String?
        public var matrix: String?

        /// SMPTE ST 2084 (PQ, HDR10) and ARIB STD-B67 (HLG), as ffmpeg names them.
        public static let hdrTransfers: Set<String> = ["smpte2084", "arib-std-b67"]

        public init(primaries: String? = nil, transfer: String? = nil, matrix: String? = nil) {
            self.primaries = primaries
            self.transfer = transfer
            self.matrix = matrix
        }
    }

    /// SMPTE ST 2086 mastering display colour volume: chromaticities as fractions of 1, luminance in cd/m².
    public struct MasteringDisplay: Sendable, Equatable {
        public var red: (x: Double, y: Double)
        public var green: (x: Double, y: Double)
        public var blue: (x: Double, y: Double)
        public var whitePoint: (x: Double, y: Double)
        public var maxLuminance: Double
        public var minLuminance: Double

        public init(
            red: (x: Double, y: Double), green: (x: Double, y: Double), blue: (x: Double, y: Double),
            whitePoint: (x: Double, y: Double), maxLuminance: Double, minLuminance: Double
        ) {
            self.red = red
            self.green = green
            self.blue = blue
            self.whitePoint = whitePoint
            self.maxLuminance = maxLuminance
            self.minLuminance = minLuminance
        }

        public static func == (lhs: MasteringDisplay, rhs: MasteringDisplay) -> Bool {
            lhs.red == rhs.red && lhs.green == rhs.green && lhs.blue == rhs.blue && lhs.whitePoint == rhs.whitePoint
                && lhs.maxLuminance == rhs.maxLuminance && lhs.minLuminance == rhs.minLuminance
        }

        /// x265's `master-display` value: chromaticities in units of 0.00002, luminance in 0.0001 cd/m².
        public var x265Value: String {
            func point(_ p: (x: Double, y: Double)) -> String {
                "(\(Int((p.x * 50000).rounded())),\(Int((p.y * 50000).rounded())))"
            }
            return "G\(point(green))B\(point(blue))R\(point(red))WP\(point(whitePoint))"
                + "L(\(Int((maxLuminance * 10000).rounded())),\(Int((minLuminance * 10000).rounded())))"
        }
    }

    /// CTA-861.3 content light level: maximum and frame-average light level in cd/m².
    public struct ContentLightLevel: Sendable, Equatable {
        public var maxContent: Int
        public var maxFrameAverage: Int

        public init(maxContent: Int, maxFrameAverage: Int) {
            self.maxContent = maxContent
            self.maxFrameAverage = maxFrameAverage
        }
    }

    /// The first audio stream.
    public struct AudioStream: Sendable, Equatable {
        /// ffprobe codec name, e.g. "aac", "mp3", "opus".
        public var codecName: String
        /// Channel count, if known.
        public var channels: Int?
        /// Sample rate in Hz, if known.
        public var sampleRate: Int?
        /// Bit rate in bits per second, if known.
        public var bitRate: Int?

        /// Creates an audio stream description.
        public init(codecName: String, channels: Int? = nil, sampleRate: Int? = nil, bitRate: Int? = nil) {
            self.codecName = codecName
            self.channels = channels
            self.sampleRate = sampleRate
            self.bitRate = bitRate
        }
    }

    /// Demuxer names, e.g. ["mov", "mp4", "m4a", "3gp", "3g2", "mj2"] or ["png_pipe"].
    public var formatNames: [String]
    /// Duration in seconds, if known (still images usually have none).
    public var durationSeconds: Double?
    /// File size in bytes as ffprobe saw it.
    public var sizeBytes: Int64?
    /// Overall bit rate in bits per second.
    public var bitRate: Int?
    /// Primary video stream, if any.
    public var video: VideoStream?
    /// First audio stream, if any.
    public var audio: AudioStream?
    /// True for single still images (PNG, JPEG, WebP, first-frame GIF...): thumbnail them, don't transcode.
    public var isStillImage: Bool

    /// Creates a probe result; `isStillImage` is derived unless given.
    public init(
        formatNames: [String], durationSeconds: Double? = nil, sizeBytes: Int64? = nil, bitRate: Int? = nil,
        video: VideoStream? = nil, audio: AudioStream? = nil, isStillImage: Bool? = nil
    ) {
        self.formatNames = formatNames
        self.durationSeconds = durationSeconds
        self.sizeBytes = sizeBytes
        self.bitRate = bitRate
        self.video = video
        self.audio = audio
        self.isStillImage = isStillImage
            ?? ProbeResult.looksLikeStillImage(
                formatNames: formatNames, duration: durationSeconds, video: video, hasAudio: audio != nil)
    }

    /// Parses the output of `ffprobe -print_format json -show_format -show_streams`; pure.
    public static func parse(json data: Data) throws -> ProbeResult {
        let raw: RawProbe
        do {
            raw = try JSONDecoder().decode(RawProbe.self, from: data)
        } catch {
            throw TranscodingError.invalidInput.with(reason: "ffprobe output is not valid JSON")
        }
        let streams = raw.streams ?? []
        guard raw.format != nil || !streams.isEmpty else {
            throw TranscodingError.invalidInput.with(reason: "ffprobe found no format or streams")
        }
        let formatNames = (raw.format?.format_name ?? "")
            .split(separator: ",").map { String($0) }

        var video: VideoStream?
        var ordinal = 0
        for stream in streams where stream.codec_type == "video" {
            defer { ordinal += 1 }
            // Cover art in MP3/M4A files shows up as a one-picture "video" stream; it is not the content.
            if stream.disposition?["attached_pic"] == 1 { continue }
            guard let width = stream.width?.int, let height = stream.height?.int, width > 0, height > 0 else {
                continue
            }
            video = VideoStream(
                codecName: stream.codec_name ?? "unknown",
                codecTag: cleanTag(stream.codec_tag_string),
                width: width, height: height,
                rotation: 0,
                frameRate: frameRate(stream.avg_frame_rate) ?? frameRate(stream.r_frame_rate),
                pixelFormat: stream.pix_fmt,
                bitRate: stream.bit_rate?.int,
                frameCount: stream.nb_frames?.int,
                ordinal: ordinal)
            video?.rotation = rotation(of: stream)
            video?.profile = stream.profile
            video?.colour = Colour(
                primaries: known(stream.color_primaries), transfer: known(stream.color_transfer),
                matrix: known(stream.color_space))
            video?.mastering = mastering(of: stream)
            video?.contentLight = contentLight(of: stream)
            break
        }

        let audio = streams.first { $0.codec_type == "audio" }.map { stream in
            AudioStream(
                codecName: stream.codec_name ?? "unknown",
                channels: stream.channels?.int,
                sampleRate: stream.sample_rate?.int,
                bitRate: stream.bit_rate?.int)
        }

        let videoDuration = streams.first { $0.codec_type == "video" }?.duration?.double
        let duration = (raw.format?.duration?.double ?? videoDuration).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        return ProbeResult(
            formatNames: formatNames,
            durationSeconds: duration,
            sizeBytes: raw.format?.size?.int64,
            bitRate: raw.format?.bit_rate?.int,
            video: video,
            audio: audio)
    }

    // MARK: - Derivations (pure)

    static func looksLikeStillImage(formatNames: [String], duration: Double?, video: VideoStream?, hasAudio: Bool)
        -> Bool
    {
        guard let video, !hasAudio else { return false }
        // Image demuxers: image2 for files named *.jpg etc., "<codec>_pipe" when detected by content.
        if formatNames.contains(where: { $0 == "image2" || $0 == "image2pipe" || $0.hasSuffix("_pipe") }) {
            return true
        }
        let imageCodecs: Set<String> = ["png", "mjpeg", "webp", "gif", "bmp", "tiff", "jpeg2000", "jpegls", "apng"]
        // Without a frame count, a missing or one-frame-long duration still means a single picture.
        let singleFrame = video.frameCount.map { $0 <= 1 } ?? (duration.map { $0 < 0.1 } ?? true)
        if imageCodecs.contains(video.codecName), singleFrame {
            return true
        }
        return video.frameCount == 1 && duration == nil
    }

    /// Maps any angle to the nearest of 0, 90, 180, 270 (clockwise).
    static func normalisedRotation(_ degrees: Double) -> Int {
        guard degrees.isFinite else { return 0 }
        let quarter = Int((degrees / 90).rounded())
        return ((quarter % 4) + 4) % 4 * 90
    }

    private static func rotation(of stream: RawStream) -> Int {
        // Newer ffprobe reports a display matrix in side data; older files/tools use the "rotate" tag.
        // Only the axis swap matters for sizing, so the sign convention difference between the two is harmless.
        if let sideData = stream.side_data_list {
            for entry in sideData {
                if let value = entry.rotation?.double { return normalisedRotation(value) }
            }
        }
        if let tag = stream.tags?["rotate"], let value = Double(tag) {
            return normalisedRotation(value)
        }
        return 0
    }

    /// ffprobe writes "unknown" (or nothing) for an untagged property.
    private static func known(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value != "unknown", value != "unspecified" else { return nil }
        return value
    }

    private static func mastering(of stream: RawStream) -> MasteringDisplay? {
        guard let entry = stream.side_data_list?.first(where: { $0.side_data_type == "Mastering display metadata" }),
            let rx = fraction(entry.red_x), let ry = fraction(entry.red_y), let gx = fraction(entry.green_x),
            let gy = fraction(entry.green_y), let bx = fraction(entry.blue_x), let by = fraction(entry.blue_y),
            let wx = fraction(entry.white_point_x), let wy = fraction(entry.white_point_y),
            let maxL = fraction(entry.max_luminance), let minL = fraction(entry.min_luminance)
        else { return nil }
        return MasteringDisplay(
            red: (rx, ry), green: (gx, gy), blue: (bx, by), whitePoint: (wx, wy), maxLuminance: maxL,
            minLuminance: minL)
    }

    private static func contentLight(of stream: RawStream) -> ContentLightLevel? {
        guard let entry = stream.side_data_list?.first(where: { $0.side_data_type == "Content light level metadata" }),
            let maxContent = entry.max_content?.int, let maxAverage = entry.max_average?.int
        else { return nil }
        return ContentLightLevel(maxContent: maxContent, maxFrameAverage: maxAverage)
    }

    /// "34000/50000" or "0.68"; nil for anything else or a zero denominator.
    private static func fraction(_ text: String?) -> Double? {
        guard let text else { return nil }
        let parts = text.split(separator: "/")
        if parts.count == 2, let num = Double(parts[0]), let den = Double(parts[1]), den != 0 { return num / den }
        return parts.count == 1 ? Double(text).flatMap { $0.isFinite ? $0 : nil } : nil
    }

    private static func frameRate(_ text: String?) -> Double? {
        guard let text else { return nil }
        let parts = text.split(separator: "/")
        let value: Double?
        if parts.count == 2, let num = Double(parts[0]), let den = Double(parts[1]) {
            value = den == 0 ? nil : num / den
        } else {
            value = Double(text)
        }
        guard let value, value.isFinite, value > 0 else { return nil }
        return value
    }

    private static func cleanTag(_ tag: String?) -> String? {
        // ffprobe prints "[0][0][0][0]" when the container has no tag.
        guard let tag, !tag.isEmpty, !tag.hasPrefix("[") else { return nil }
        return tag
    }
}

// MARK: - Raw JSON shape

/// ffprobe prints most numbers as strings and a few as numbers; accept both.
private struct LenientNumber: Decodable {
    let text: String

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let int = try? container.decode(Int64.self) {
            text = String(int)
        } else {
            text = String(try container.decode(Double.self))
        }
    }

    var double: Double? { Double(text) }
    var int64: Int64? { Int64(text) ?? double.flatMap { $0.isFinite ? Int64(exactly: $0.rounded()) : nil } }
    var int: Int? { int64.flatMap { Int(exactly: $0) } }
}

// Field names mirror ffprobe's JSON keys.
// swiftlint:disable identifier_name
private struct RawProbe: Decodable {
    var streams: [RawStream]?
    var format: RawFormat?
}

private struct RawFormat: Decodable {
    var format_name: String?
    var duration: LenientNumber?
    var size: LenientNumber?
    var bit_rate: LenientNumber?
}

private struct RawSideData: Decodable {
    var side_data_type: String?
    var rotation: LenientNumber?
    var red_x: String?
    var red_y: String?
    var green_x: String?
    var green_y: String?
    var blue_x: String?
    var blue_y: String?
    var white_point_x: String?
    var white_point_y: String?
    var min_luminance: String?
    var max_luminance: String?
    var max_content: LenientNumber?
    var max_average: LenientNumber?

    init(from decoder: Decoder) throws {
        // Field by field: side data of other kinds has other shapes.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        side_data_type = try? c.decodeIfPresent(String.self, forKey: .side_data_type)
        rotation = try? c.decodeIfPresent(LenientNumber.self, forKey: .rotation)
        red_x = try? c.decodeIfPresent(String.self, forKey: .red_x)
        red_y = try? c.decodeIfPresent(String.self, forKey: .red_y)
        green_x = try? c.decodeIfPresent(String.self, forKey: .green_x)
        green_y = try? c.decodeIfPresent(String.self, forKey: .green_y)
        blue_x = try? c.decodeIfPresent(String.self, forKey: .blue_x)
        blue_y = try? c.decodeIfPresent(String.self, forKey: .blue_y)
        white_point_x = try? c.decodeIfPresent(String.self, forKey: .white_point_x)
        white_point_y = try? c.decodeIfPresent(String.self, forKey: .white_point_y)
        min_luminance = try? c.decodeIfPresent(String.self, forKey: .min_luminance)
        max_luminance = try? c.decodeIfPresent(String.self, forKey: .max_luminance)
        max_content = try? c.decodeIfPresent(LenientNumber.self, forKey: .max_content)
        max_average = try? c.decodeIfPresent(LenientNumber.self, forKey: .max_average)
    }

    enum CodingKeys: String, CodingKey {
        case side_data_type, rotation, red_x, red_y, green_x, green_y, blue_x, blue_y, white_point_x, white_point_y
        case min_luminance, max_luminance, max_content, max_average
    }
}

private struct RawStream: Decodable {
    var codec_type: String?
    var codec_name: String?
    var codec_tag_string: String?
    var width: LenientNumber?
    var height: LenientNumber?
    var avg_frame_rate: String?
    var r_frame_rate: String?
    var pix_fmt: String?
    var bit_rate: LenientNumber?
    var nb_frames: LenientNumber?
    var duration: LenientNumber?
    var channels: LenientNumber?
    var sample_rate: LenientNumber?
    var disposition: [String: Int]?
    var tags: [String: String]?
    var side_data_list: [RawSideData]?
    var profile: String?
    var color_primaries: String?
    var color_transfer: String?
    var color_space: String?

    init(from decoder: Decoder) throws {
        // Decode field by field so one odd value never discards the whole stream.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        codec_type = try? c.decodeIfPresent(String.self, forKey: .codec_type)
        codec_name = try? c.decodeIfPresent(String.self, forKey: .codec_name)
        codec_tag_string = try? c.decodeIfPresent(String.self, forKey: .codec_tag_string)
        width = try? c.decodeIfPresent(LenientNumber.self, forKey: .width)
        height = try? c.decodeIfPresent(LenientNumber.self, forKey: .height)
        avg_frame_rate = try? c.decodeIfPresent(String.self, forKey: .avg_frame_rate)
        r_frame_rate = try? c.decodeIfPresent(String.self, forKey: .r_frame_rate)
        pix_fmt = try? c.decodeIfPresent(String.self, forKey: .pix_fmt)
        bit_rate = try? c.decodeIfPresent(LenientNumber.self, forKey: .bit_rate)
        nb_frames = try? c.decodeIfPresent(LenientNumber.self, forKey: .nb_frames)
        duration = try? c.decodeIfPresent(LenientNumber.self, forKey: .duration)
        channels = try? c.decodeIfPresent(LenientNumber.self, forKey: .channels)
        sample_rate = try? c.decodeIfPresent(LenientNumber.self, forKey: .sample_rate)
        disposition = try? c.decodeIfPresent([String: Int].self, forKey: .disposition)
        tags = try? c.decodeIfPresent([String: String].self, forKey: .tags)
        side_data_list = try? c.decodeIfPresent([RawSideData].self, forKey: .side_data_list)
        profile = try? c.decodeIfPresent(String.self, forKey: .profile)
        color_primaries = try? c.decodeIfPresent(String.self, forKey: .color_primaries)
        color_transfer = try? c.decodeIfPresent(String.self, forKey: .color_transfer)
        color_space = try? c.decodeIfPresent(String.self, forKey: .color_space)
    }

    enum CodingKeys: String, CodingKey {
        case codec_type, codec_name, codec_tag_string, width, height, avg_frame_rate, r_frame_rate, pix_fmt
        case bit_rate, nb_frames, duration, channels, sample_rate, disposition, tags, side_data_list
        case profile, color_primaries, color_transfer, color_space
    }
}
// swiftlint:enable identifier_name
