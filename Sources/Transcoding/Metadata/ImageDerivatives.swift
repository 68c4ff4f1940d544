import Foundation

/// What libvips says a file is, from its header alone (nothing is decoded).
public struct ImageHeader: Sendable, Equatable {
    /// The libvips loader that recognised the content, e.g. `jpegload`, `heifload`.
    public var loader: String
    public var width: Int
    public var height: Int
    /// EXIF orientation as the loader left it (1 when it applied it already, as the HEIF loader does).
    public var orientation: Int = 1

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
        var header = ImageHeader(loader: loader, width: width, height: height)
        if let orientation = field("orientation"), (1...8).contains(orientation) { header.orientation = orientation }
        return header
    }

    /// Dimensions as shown: orientations 5 to 8 turn the picture a quarter.
    public var shownWidth: Int { (5...8).contains(orientation) ? height : width }
    public var shownHeight: Int { (5...8).contains(orientation) ? width : height }

    /// The accepted image type the first bytes announce, or nil: checked before any parser sees the file, so a
    /// hostile file never reaches a loader that was not meant to read it.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "image/tiff" }
        if starts(Array("ftyp".utf8), at: 4), bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            if ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"].contains(brand) {
                return brand.hasPrefix("avi") ? "image/avif" : "image/heif"
            }
        }
        return nil
    }
}

extension Transcoder {
    /// Reads `file`'s header with vipsheader (untrusted loaders blocked, under the tool limits); throws
    /// `.invalidInput` when no accepted image loader recognises the content, whatever the file claims to be.
    public func inspectImage(_ file: URL, timeout: Duration = .seconds(30)) async throws -> ImageHeader {
        let handle = try FileHandle(forReadingFrom: file)
        let head = try handle.read(upToCount: 32) ?? Data()
        try? handle.close()
        guard ImageHeader.sniff(Array(head)) != nil else {
            throw TranscodingError.invalidInput.with(
                reason: "the file is not an image that can be read (JPEG, PNG, WebP, GIF, TIFF, HEIC or AVIF)")
        }
        for tool in [tools.vipsheader, tools.vipsthumbnail] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw TranscodingError.toolMissing.with(reason: "libvips tools not found (Debian: apt-get install libvips-tools)")
        }
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
