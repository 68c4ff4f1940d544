import Foundation
import Testing

/// The share page in a real browser (headless Chromium) against the gateway and SeaweedFS: the page loads under its
/// Content-Security-Policy, shows every item, and the images come through the item redirects from storage.
@Suite("Share page in a headless browser")
struct SharePageBrowserTests {
    /// `scripts/test.sh` sets MEDIAVAULT_TEST_REQUIRE_BROWSER, so a missing browser fails there instead of skipping.
    static var ready: Bool {
        ProcessInfo.processInfo.environment["MEDIAVAULT_TEST_REQUIRE_BROWSER"] == "1"
            || (S3TestServer.isReachable && HeadlessBrowser.installed != nil)
    }

    @Test("the page loads, shows the items, and images arrive from storage without CSP refusals",
        .enabled(if: ready, "needs the S3 test server and chromium (scripts/test.sh provides both)"))
    func pageInBrowser() async throws {
        let browser = try #require(HeadlessBrowser.installed)
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            let owner = try await gateway.token(for: "600")
            let image = try await Self.generated("png", ["-f", "lavfi", "-i", "testsrc=size=640x360", "-frames:v", "1"])
            let clip = try await Self.generated(
                "mp4", ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
            var ids: [String] = []
            for index in 0..<3 {
                let id = try await MediaFlowTests.upload(
                    gateway, token: owner, name: "photo-\(index).png", type: "image/png", bytes: image)
                try await gateway.sql(
                    "UPDATE media.items SET status = 'ready', title = 'Photo <\(index)>' WHERE id = '\(id)'")
                ids.append(id)
            }
            let video = try await MediaFlowTests.upload(gateway, token: owner, name: "clip.mp4", bytes: clip)
            ids.append(video)
            let collection = try await CollectionFlowTests.create(
                gateway, token: owner, title: "Browser & friends", description: "Seen by a real browser")
            let id = collection["id"] as! String
            for media in ids { _ = try await CollectionFlowTests.add(gateway, token: owner, collection: id, media: media) }
            let link = try await CollectionFlowTests.link(gateway, token: owner, collection: id, body: #"{"allow_download": true}"#)
            let url = gateway.baseURL + CollectionFlowTests.path(link["url"])

            let dom = try await browser.dumpDOM(url)
            #expect(dom.status == 0, "chromium exited \(dom.status): \(dom.stderr.suffix(2000))")
            #expect(dom.stdout.contains("<h1>Browser &amp; friends</h1>"))
            for media in ids { #expect(dom.stdout.contains("id=\"m-\(media)\""), "item \(media) is on the page") }
            #expect(dom.stdout.contains("Photo &lt;2&gt;"))
            #expect(dom.stdout.contains("<video"))
            #expect(dom.stdout.components(separatedBy: "class=\"download\"").count - 1 == 4)
            #expect(!dom.stderr.contains("Content Security Policy"), "CSP refused something: \(dom.stderr.suffix(2000))")
            #expect(!dom.stderr.contains("Failed to load resource"), "\(dom.stderr.suffix(2000))")

            // The browser fetched each thumbnail through the link's item route (and on to storage).
            let metrics = try await gateway.request(.GET, "/metrics").text
            let thumbnailRedirects = metrics.split(separator: "\n").first {
                $0.hasPrefix("http_requests_total") && $0.contains("items/") && $0.contains("status=\"307\"")
            }
            #expect(thumbnailRedirects.map { Int($0.split(separator: " ").last ?? "") ?? 0 } ?? 0 >= 3, "\(metrics)")

            let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("share-\(UUID()).png").path
            defer { try? FileManager.default.removeItem(atPath: screenshot) }
            let shot = try await browser.screenshot(url, to: screenshot)
            #expect(shot.status == 0)
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
            #expect(size > 10_000, "a screenshot with content (\(size) bytes)")
        }
    }

    /// Runs ffmpeg with `arguments` and returns the file it wrote.
    static func generated(_ fileExtension: String, _ arguments: [String]) async throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID()).\(fileExtension)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Shell.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + arguments + [path])
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
