import Foundation
import TestSupport
import Testing

/// Photos through libvips: real type check, upright previews, HEIC made browser-viewable, metadata stripped from
/// derivatives, decompression bombs refused from the header.
@Suite("Photos with libvips",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/vipsthumbnail"), "libvips-tools is not installed"))
struct PhotoTests {
    static func file(_ name: String) -> URL {
        URL(fileURLWithPath: NSTemporaryDirectory() + "mv-photo-\(UUID().uuidString)-\(name)")
    }

    /// A 640x480 JPEG whose EXIF says "rotate 90° clockwise to show", with a place and a camera.
    static func rotatedJPEG() async throws -> URL {
        let url = file("rotated.jpg")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=640x480", "-frames:v", "1",
            "-y", url.path,
        ])
        try await Shell.run([
            "exiftool", "-q", "-overwrite_original", "-Orientation#=6", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N",
            "-GPSLongitude=2.2945", "-GPSLongitudeRef=E", "-Make=Canon", url.path,
        ])
        return url
    }

    /// Downloads `url` and answers (width, height, the derivative's own metadata tags).
    static func derivative(_ gateway: GatewayHarness, _ url: String) async throws -> (Int, Int, String) {
        let reply = try await gateway.request(.GET, url)
        #expect(reply.status == 200)
        let bytes = Array(reply.body.readableBytesView)
        #expect(Array(bytes.prefix(2)) == [0xFF, 0xD8], "a JPEG, which every browser shows")
        let local = file("derivative.jpg")
        try Data(bytes).write(to: local)
        defer { try? FileManager.default.removeItem(at: local) }
        let size = try await Shell.output(["vipsheader", "-f", "width", local.path]) + "x"
            + (try await Shell.output(["vipsheader", "-f", "height", local.path]))
        let dims = size.split(separator: "x").compactMap { Int($0) }
        let tags = try await Shell.output([
            "exiftool", "-s", "-s", "-s", "-GPSLatitude", "-GPSLongitude", "-Make", "-Orientation", local.path,
        ])
        return (dims.first ?? 0, dims.last ?? 0, tags)
    }

    @Test("a rotated JPEG gets an upright preview and thumbnail, with no EXIF or GPS left in them")
    func rotatedPhoto() async throws {
        let photo = try await Self.rotatedJPEG()
        defer { try? FileManager.default.removeItem(at: photo) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7300")
            var mediaID = ""
            try await ProcessingTests.withWorker(gateway) {
                mediaID = try await ProcessingTests.uploadFile(gateway, token: token, file: photo, type: "image/jpeg")
                let status = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(status["status"] as? String == "ready", "\(status)")
            }
            let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
            #expect(item["width"] as? Int == 480 && item["height"] as? Int == 640, "dimensions as shown")
            let (pw, ph, previewTags) = try await Self.derivative(gateway, try #require(item["preview_url"] as? String))
            #expect(pw == 480 && ph == 640, "upright and never enlarged")
            #expect(previewTags.isEmpty, "no metadata in the preview: \(previewTags)")
            let (tw, th, thumbnailTags) = try await Self.derivative(gateway, try #require(item["thumbnail_url"] as? String))
            #expect(tw == 480 && th == 640, "the thumbnail is the upright preview within 640 px")
            #expect(thumbnailTags.isEmpty)
            // The original keeps what the user uploaded.
            #expect((item["location"] as? [String: Any])?["latitude"] as? Double == 48.8584)
        }
    }

    @Test("a HEIC photo gets a JPEG preview, and Chromium shows it from the share page",
        .enabled(if: SharePageBrowserTests.ready, "needs chromium (scripts/test.sh provides it)"))
    func heic() async throws {
        let browser = try #require(HeadlessBrowser.installed)
        let heic = Self.file("phone.heic")
        let source = Self.file("source.png")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=800x600", "-frames:v", "1",
            "-y", source.path,
        ])
        try await Shell.run(["vips", "copy", source.path, heic.path + "[Q=60]"])
        defer {
            try? FileManager.default.removeItem(at: heic)
            try? FileManager.default.removeItem(at: source)
        }
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            let token = try await gateway.token(for: "7301")
            var mediaID = ""
            try await ProcessingTests.withWorker(gateway) {
                mediaID = try await ProcessingTests.uploadFile(gateway, token: token, file: heic, type: "image/heic")
                let status = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(status["status"] as? String == "ready", "\(status)")
            }
            let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
            let (width, height, _) = try await Self.derivative(gateway, try #require(item["preview_url"] as? String))
            #expect(width == 800 && height == 600)

            let collection = try await CollectionFlowTests.create(gateway, token: token, title: "Phone", description: "")
            let id = try #require(collection["id"] as? String)
            _ = try await CollectionFlowTests.add(gateway, token: token, collection: id, media: mediaID)
            let link = try await CollectionFlowTests.link(gateway, token: token, collection: id, body: "{}")
            let pagePath = CollectionFlowTests.path(link["url"])
            let html = try await gateway.request(.GET, pagePath).text
            #expect(!html.contains("/original\""), "a HEIC original is never what a browser is asked to decode")
            let figure = try #require(html.range(of: "<a href=").flatMap { start in
                html.range(of: "</a>", range: start.upperBound..<html.endIndex).map { String(html[start.lowerBound..<$0.upperBound]) }
            })
            // The page's picture, with a script (the page allows none) reporting whether the browser decoded it.
            let page = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-heic-\(UUID().uuidString).html")
            defer { try? FileManager.default.removeItem(at: page) }
            let base = gateway.baseURL + pagePath[..<(pagePath.lastIndex(of: "/") ?? pagePath.endIndex)] + "/"
            let image = figure.replacingOccurrences(of: "<img ", with: "<img id=\"i\" ").replacingOccurrences(
                of: "loading=\"lazy\"", with: "")
            let script = """
                <pre id="out">pending</pre><script>
                const i = document.getElementById('i');
                const report = () => { document.getElementById('out').textContent = String(i.naturalWidth); };
                i.addEventListener('load', report); i.addEventListener('error', report); setTimeout(report, 4000);
                </script>
                """
            try Data("<!doctype html><html><head><base href=\"\(base)\"></head><body>\(image)\(script)</body></html>".utf8)
                .write(to: page)
            let result = try await browser.runPage(page)
            let shown = result.stdout.components(separatedBy: "<pre id=\"out\">").last?.components(separatedBy: "</pre>").first
            #expect((Int(shown ?? "") ?? 0) > 0, "natural width \(shown ?? "none"): \(result.stderr.suffix(1000))")
        }
    }

    @Test("PNG, WebP, GIF (first frame), TIFF and AVIF all get a JPEG preview",
        arguments: [("png", "image/png"), ("webp", "image/webp"), ("gif", "image/gif"), ("tiff", "image/tiff"),
            ("avif", "image/avif")])
    func formats(fileExtension: String, mimeType: String) async throws {
        let source = Self.file("source.png")
        let photo = Self.file("photo.\(fileExtension)")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=400x300:rate=5", "-t", "1",
            "-frames:v", "1", "-y", source.path,
        ])
        if fileExtension == "gif" {
            // Several frames: only the first becomes the preview.
            try await Shell.run([
                "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=400x300:rate=5", "-t",
                "1", "-y", photo.path,
            ])
        } else {
            try await Shell.run(["vips", "copy", source.path, photo.path])
        }
        defer {
            try? FileManager.default.removeItem(at: source)
            try? FileManager.default.removeItem(at: photo)
        }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7303")
            var mediaID = ""
            try await ProcessingTests.withWorker(gateway) {
                mediaID = try await ProcessingTests.uploadFile(gateway, token: token, file: photo, type: mimeType)
                let status = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID)
                #expect(status["status"] as? String == "ready", "\(fileExtension): \(status)")
            }
            let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
            let (width, height, _) = try await Self.derivative(gateway, try #require(item["preview_url"] as? String))
            #expect(width == 400 && height == 300, "\(fileExtension)")
            #expect(item["width"] as? Int == 400)
        }
    }

    @Test("a 30,000 × 30,000 PNG is refused from its header, and a renamed HTML file is not an image")
    func hostileImages() async throws {
        // A PNG header that promises 900 megapixels, followed by almost nothing: a decoder would allocate first.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            png += withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init)
            let body = Array(type.utf8) + data
            png += body
            png += withUnsafeBytes(of: CRC32.checksum(body).bigEndian, Array.init)
        }
        chunk("IHDR", withUnsafeBytes(of: UInt32(30000).bigEndian, Array.init)
            + withUnsafeBytes(of: UInt32(30000).bigEndian, Array.init) + [8, 0, 0, 0, 0])
        chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        chunk("IEND", [])
        let bomb = Self.file("bomb.png")
        try Data(png).write(to: bomb)
        let html = Self.file("page.jpg")
        try Data("<!doctype html><html><body><script>alert(1)</script></body></html>".utf8).write(to: html)
        defer {
            try? FileManager.default.removeItem(at: bomb)
            try? FileManager.default.removeItem(at: html)
        }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7302")
            try await ProcessingTests.withWorker(gateway, extra: ["JOB_MAX_ATTEMPTS": "5"]) {
                for (file, type, reason) in [(bomb, "image/png", "pixels"), (html, "image/jpeg", "not an image")] {
                    let mediaID = try await ProcessingTests.uploadFile(gateway, token: token, file: file, type: type)
                    let status = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID)
                    #expect(status["status"] as? String == "failed")
                    #expect(status["attempts"] as? Int == 1, "refused at once")
                    #expect((status["error_message"] as? String)?.contains(reason) == true, "\(status)")
                }
            }
        }
    }
}

/// CRC-32 (IEEE), for building PNG chunks in a test.
enum CRC32 {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

@Suite("Script-capable uploads")
struct ScriptableUploadTests {
    static let svg = Array(#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.utf8)

    @Test("SVG and other script-capable types are refused at sign time by default")
    func refused() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7400")
            for type in ["image/svg+xml", "image/svg+xml; charset=utf-8"] {
                let sign = try await gateway.request(
                    .POST, "/media/upload/sign", token: token,
                    body: #"{"filename": "x.svg", "mime_type": "\#(type)", "size_bytes": 10}"#)
                #expect(sign.status == 400 && sign.json["code"] as? String == "invalid_argument", "\(type)")
                #expect((sign.json["message"] as? String)?.contains("scripts") == true)
            }
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 0, "nothing was stored")
        }
    }

    @Test("an operator may allow them; they are then only ever served as attachments")
    func allowedAsAttachments() async throws {
        try await GatewayHarness.with(extraEnvironment: ["ALLOW_SCRIPTABLE_UPLOADS": "true"]) { gateway in
            let token = try await gateway.token(for: "7401")
            let mediaID = try await MediaFlowTests.upload(
                gateway, token: token, name: "logo.svg", type: "image/svg+xml", bytes: Self.svg)
            try await MediaFlowTests.markReady(gateway, mediaID)
            let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
            let stream = try #require(item["stream_url"] as? String)
            let reply = try await gateway.request(.GET, stream)
            #expect(reply.status == 200)
            #expect(reply.header("Content-Disposition")?.hasPrefix("attachment") == true, "\(reply.headers)")
        }
    }
}
