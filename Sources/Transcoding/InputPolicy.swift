import Foundation

/// What ffmpeg and ffprobe may do with a user's file: read it as one media container, from the local file alone.
///
/// Uploads are hostile input. Without these options a file named `x.mp4` that is really an HLS playlist, an
/// ffconcat list or an SDP description makes the tool open URLs or other local files on its behalf; with them the
/// demuxer is refused before it opens anything. Every `-i` of user-supplied media goes through
/// `inputArguments(for:)`.
public enum InputPolicy {
    /// Protocols an input may use: its own file, and stdin (never read: the runner gives every tool /dev/null).
    public static let protocols = ["file", "pipe"]

    /// Demuxers an input may be read with: audio/video containers and single-image formats.
    ///
    /// ffmpeg matches each of a demuxer's comma-separated names, so listing the mov demuxer's full name
    /// "mov,mp4,m4a,3gp,3g2,mj2" spells out what it covers: phone video, M4A, and HEIC where ffmpeg can read it.
    /// Left out on purpose: playlists and indirections (hls, dash, concat, ffconcat, sdp, rtsp, rtp), generators and
    /// virtual inputs (lavfi, tee), and image2, which picks a file by its name alone and expands "%d"/glob patterns.
    public static let demuxers = [
        "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts", "mpeg", "asf", "mxf", "dv",
        "flv", "ogg", "wav", "w64", "aiff", "caf", "mp3", "aac", "flac", "jpeg_pipe", "png_pipe", "webp_pipe",
        "bmp_pipe", "tiff_pipe", "j2k_pipe", "jpegls_pipe", "gif", "apng",
    ]

    /// Most bytes ffmpeg reads to identify the streams (its default is 5 MB).
    public static let probeSizeBytes = 10_000_000
    /// Most media time, in microseconds, ffmpeg decodes to identify the streams (its default is 5 s, 90 s for FLV).
    public static let analyzeDurationMicroseconds = 10_000_000

    /// Extensions that make ffmpeg pick image2 by name over jpeg_pipe by content; such files are read as JPEG.
    static let jpegExtensions: Set<String> = ["jpg", "jpeg"]

    /// The arguments that open `file` as an input, ending in `-i <path>`; put other input options before them.
    ///
    /// A file named like a JPEG is read with jpeg_pipe explicitly: ffmpeg would choose image2 for it from the name,
    /// and image2 is refused. Files without such a name are identified by their content.
    public static func inputArguments(for file: URL) -> [String] {
        var arguments = [
            "-probesize", String(probeSizeBytes), "-analyzeduration", String(analyzeDurationMicroseconds),
            "-protocol_whitelist", protocols.joined(separator: ","),
            "-format_whitelist", demuxers.joined(separator: ","),
        ]
        if jpegExtensions.contains(file.pathExtension.lowercased()) {
            arguments += ["-f", "jpeg_pipe"]
        }
        arguments += ["-i", file.standardizedFileURL.path]
        return arguments
    }

    /// A readable reason when ffmpeg/ffprobe refused the input under this policy; nil when stderr shows no refusal.
    ///
    /// ffmpeg's own last line is only "Invalid argument"; the refusal is the line before it, e.g.
    /// `[hls @ 0x55d0c8e4a2c0] Format not on whitelist 'mov,...'` or `Protocol 'http' not on whitelist 'file,pipe'!`.
    static func refusal(in stderr: [String]) -> String? {
        for line in stderr.reversed() where line.contains("not on whitelist") {
            if line.contains("Format not on whitelist"), let demuxer = componentName(line) {
                return "input format \(demuxer) is not allowed (only audio, video and image files are read)"
            }
            if let start = line.range(of: "Protocol '"),
                let end = line[start.upperBound...].firstIndex(of: "'")
            {
                return "input refers to a \(line[start.upperBound..<end]) resource, which is not allowed"
            }
        }
        return nil
    }

    /// "hls" from "[hls @ 0x55d0c8e4a2c0] ...".
    private static func componentName(_ line: String) -> Substring? {
        guard line.hasPrefix("["), let at = line.range(of: " @ ") else { return nil }
        let name = line[line.index(after: line.startIndex)..<at.lowerBound]
        return name.isEmpty || name.contains("]") ? nil : name
    }
}
