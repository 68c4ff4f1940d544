import Foundation

/// What libvips says a file is, from its header alone (nothing is decoded).
public struct ImageHeader: Sendable, Equatable {
    /// The libvips loader that recognised the content, e.g. `jpegload`, `heifload`.
    public var loader: String
    public var width: Int
    public var height: Int

    /// The loaders of the image types the worker accepts, by the MIME type each reads. Anything else (SVG, PDF,
    /// PostScript, FITS, a matrix file…) is refused even when libvips could read it.
    public static let acceptedLoaders: [String: String] = [
        "jpegload": "image/jpeg", "pngload": "image/png", "webpload": "image/webp", "gifload": "image/gif",
        "tiffload": "image/tiff", "heifload": "image/heif",
    ]

    public var pixels: Int { width * height }

    /// Parses `vipsheader -a`: the first line ends with the loader (`p.jpg: 640x480 uchar, 3 bands, srgb, jpegload`),
    /// then one `name: value` line per field.
    public static func parse(_ text: String) -> ImageHeader? {
        let lines = text.split(whereSeparator: \.isNewline)
        guard let first = lines.first, let loader = first.split(separator: ",").last?.trimmingCharacters(in: .whitespaces)
        else { return nil }
        func field(_ name: String) -> Int? {
            lines.first { $0.hasPrefix(name + ": ") }.flatMap { Int($0.dropFirst(name.count + 2)) }
        }
        guard let width = field("width"), let height = field("height"), width > 0, height > 0 else { return nil }
        return ImageHeader(loader: loader, width: width, height: height)
    }
}

extension Transcoder {
    /// Reads `file`'s header with vipsheader (untrusted loaders blocked, under the tool limits); throws
    /// `.invalidInput` when no accepted image loader recognises the content, whatever the file claims to be.
    public func inspectImage(_ file: URL, timeout: Duration = .seconds(30)) async throws -> ImageHeader {
        let outcome = try await runner.run(
            executable: tools.env,
            arguments: ["VIPS_BLOCK_UNTRUSTED=1", tools.vipsheader, "-a", file.standardizedFileURL.path],
            stdout: .collect(limit: 1 << 20), timeout: timeout)
        guard outcome.succeeded, let header = ImageHeader.parse(String(decoding: outcome.stdout, as: UTF8.self)) else {
            throw TranscodingError.invalidInput.with(
                reason: "the file is not an image that can be read (JPEG, PNG, WebP, GIF, TIFF, HEIC or AVIF)",
                details: outcome.stderrTail)
        }
        guard ImageHeader.acceptedLoaders[header.loader] != nil else {
            throw TranscodingError.invalidInput.with(reason: "images read by \(header.loader) are not accepted")
        }
        return header
    }

    /// Writes a JPEG of `input` whose long edge is at most `longEdge` (never enlarged): EXIF orientation applied,
    /// converted to sRGB, every metadata block (EXIF, GPS, XMP, ICC) stripped.
    public func makeImageDerivative(
        input: URL, output: URL, longEdge: Int, quality: Int = 82, timeout: Duration = .seconds(120)
    ) async throws {
        let outcome = try await runner.run(
            executable: tools.env,
            arguments: [
                "VIPS_BLOCK_UNTRUSTED=1", tools.vipsthumbnail, input.standardizedFileURL.path,
                "--size", "\(longEdge)x\(longEdge)>", "--export-profile", "srgb",
                "-o", output.standardizedFileURL.path + "[Q=\(quality),strip,optimize_coding]",
            ],
            stdout: .collect(limit: 1 << 20), timeout: timeout)
        guard outcome.succeeded, Self.nonEmptyFile(output) else {
            Self.removePartial(output)
            throw TranscodingError.ffmpegFailed.with(
                reason: "libvips could not make a \(longEdge) px image: "
                    + (outcome.stderrTail.last ?? "exit status \(outcome.exitStatus)"),
                details: outcome.stderrTail, exitStatus: outcome.exitStatus)
        }
    }
}
