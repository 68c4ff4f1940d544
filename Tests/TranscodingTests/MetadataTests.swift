import Foundation
import Testing

@testable import Transcoding

@Suite("Capture metadata from exiftool")
struct MetadataTests {
    static func parse(_ json: String) throws -> MediaMetadata {
        try MediaMetadata.parse(exiftoolJSON: Data(json.utf8))
    }

    /// What `exiftool -json -n` printed for a JPEG tagged by exiftool itself.
    static let photo = """
        [{"SourceFile":"p.jpg","FileType":"JPEG","DateTimeOriginal":"2021:07:14 18:30:05","OffsetTimeOriginal":"+02:00",
        "GPSLatitude":48.8584,"GPSLongitude":2.2945,"GPSAltitude":35,"Make":"Canon","Model":"Canon EOS R5",
        "LensModel":"RF24-70mm F2.8 L IS USM","ISO":200,"FNumber":2.8,"ExposureTime":0.004,"FocalLength":35,
        "Orientation":6,"ImageWidth":640,"ImageHeight":480}]
        """

    @Test("a photo's capture time keeps its offset; place, camera and exposure are read")
    func photo() throws {
        let metadata = try Self.parse(Self.photo)
        #expect(metadata.takenAt == Date(timeIntervalSince1970: 1_626_280_205), "18:30:05+02:00 is 16:30:05Z")
        #expect(metadata.takenAtSource == .exifOriginal && metadata.takenAtHasOffset)
        #expect(metadata.latitude == 48.8584 && metadata.longitude == 2.2945 && metadata.altitude == 35)
        #expect(metadata.cameraMake == "Canon" && metadata.cameraModel == "Canon EOS R5")
        #expect(metadata.lens == "RF24-70mm F2.8 L IS USM")
        #expect(metadata.iso == 200 && metadata.aperture == 2.8 && metadata.exposureTime == 0.004)
        #expect(metadata.focalLength == 35 && metadata.orientation == 6)
        #expect(metadata.width == 640 && metadata.height == 480)
    }

    @Test("phone videos: QuickTime CreationDate with its offset first, the UTC CreateDate otherwise")
    func video() throws {
        let phone = try Self.parse(
            #"[{"FileType":"MOV","CreationDate":"2022:01:02 10:00:00-05:00","CreateDate":"2022:01:02 15:00:00"}]"#)
        #expect(phone.takenAt == Date(timeIntervalSince1970: 1_641_135_600))
        #expect(phone.takenAtSource == .quickTimeCreation)
        let ffmpeg = try Self.parse(#"[{"FileType":"MP4","CreateDate":"2020:02:03 04:05:06"}]"#)
        #expect(ffmpeg.takenAt == Date(timeIntervalSince1970: 1_580_702_706))
        #expect(ffmpeg.takenAtSource == .quickTimeCreate && ffmpeg.takenAtHasOffset, "QuickTime dates are UTC")
    }

    @Test("hemispheres, sub-seconds and nonsense")
    func edges() throws {
        let south = try Self.parse(
            #"[{"GPSLatitude":33.86,"GPSLatitudeRef":"S","GPSLongitude":151.2,"GPSLongitudeRef":"E","GPSAltitude":5,"GPSAltitudeRef":1}]"#)
        #expect(south.latitude == -33.86 && south.longitude == 151.2 && south.altitude == -5)
        let subseconds = try Self.parse(#"[{"DateTimeOriginal":"2021:07:14 18:30:05.250Z"}]"#)
        #expect(subseconds.takenAt == Date(timeIntervalSince1970: 1_626_287_405))
        let nonsense = try Self.parse(
            #"[{"DateTimeOriginal":"0000:00:00 00:00:00","GPSLatitude":200,"GPSLongitude":10,"Orientation":9,"ISO":-4,"Make":"\u0007 "}]"#)
        #expect(nonsense.takenAt == nil && nonsense.latitude == nil && nonsense.orientation == nil && nonsense.iso == nil)
        #expect(nonsense.cameraMake == nil, "control characters only: nothing")
        // A null island (0, 0) is a camera without a fix, not a place.
        #expect(try Self.parse(#"[{"GPSLatitude":0,"GPSLongitude":0}]"#).latitude == nil)
        #expect(throws: TranscodingError.invalidInput) { try Self.parse("not json") }
    }

    @Test("exiftool reads a real file, under the tool limits",
        .enabled(if: FileManager.default.isExecutableFile(atPath: ToolPaths().exiftool), "exiftool is not installed"))
    func realFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID()).jpg")
        defer { try? FileManager.default.removeItem(at: file) }
        try await run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48",
            "-frames:v", "1", "-y", file.path])
        try await run(["exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2019:05:06 07:08:09",
            "-OffsetTimeOriginal=-03:00", "-GPSLatitude=22.9", "-GPSLatitudeRef=S", "-GPSLongitude=43.2",
            "-GPSLongitudeRef=W", "-Model=Phone", file.path])
        let metadata = try await Transcoder().readMetadata(file)
        #expect(metadata.takenAt == Date(timeIntervalSince1970: 1_557_137_289))
        #expect(metadata.latitude == -22.9 && metadata.longitude == -43.2)
        #expect(metadata.cameraModel == "Phone" && metadata.width == 64)
        let notMedia = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID()).bin")
        defer { try? FileManager.default.removeItem(at: notMedia) }
        try Data([0, 1, 2, 3]).write(to: notMedia)
        let empty = try? await Transcoder().readMetadata(notMedia)
        #expect(empty?.takenAt == nil)
    }

    private func run(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(arguments[0]) failed")
    }
}

@Suite("Image headers")
struct ImageHeaderTests {
    @Test("the first bytes must announce an accepted image type")
    func sniffing() {
        #expect(ImageHeader.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(ImageHeader.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == "image/png")
        #expect(ImageHeader.sniff(Array("GIF89a".utf8)) == "image/gif")
        #expect(ImageHeader.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == "image/webp")
        #expect(ImageHeader.sniff([0x49, 0x49, 0x2A, 0x00]) == "image/tiff")
        #expect(ImageHeader.sniff([0, 0, 0, 0x18] + Array("ftypheic".utf8)) == "image/heif")
        #expect(ImageHeader.sniff([0, 0, 0, 0x1C] + Array("ftypavif".utf8)) == "image/avif")
        #expect(ImageHeader.sniff([0, 0, 0, 0x18] + Array("ftypisom".utf8)) == nil, "an MP4 is not a photo")
        #expect(ImageHeader.sniff(Array("<svg xmlns=".utf8)) == nil)
        #expect(ImageHeader.sniff(Array("<!doctype html>".utf8)) == nil)
        #expect(ImageHeader.sniff([]) == nil)
    }

    @Test("vipsheader output: loader, size and the orientation libvips left")
    func parsing() throws {
        let header = try #require(ImageHeader.parse("""
            p.jpg: 640x480 uchar, 3 bands, srgb, jpegload
            width: 640
            height: 480
            orientation: 6
            """))
        #expect(header.loader == "jpegload" && header.width == 640 && header.orientation == 6)
        #expect(header.shownWidth == 480 && header.shownHeight == 640)
        let heif = try #require(ImageHeader.parse("x.heic: 800x600 uchar, 3 bands, srgb, heifload\nwidth: 800\nheight: 600\n"))
        #expect(heif.orientation == 1 && heif.shownWidth == 800, "the HEIF loader has rotated already")
        #expect(ImageHeader.parse("garbage") == nil)
    }
}
