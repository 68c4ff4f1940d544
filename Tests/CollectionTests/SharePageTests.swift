import Foundation
import MediaVaultCore
import Testing

@testable import Collection

@Suite("Share page: Mustache templates, escaping, item states")
struct SharePageTests {
    /// The templates as the module ships them, so a broken or missing template fails here.
    static let templates = SharePageTemplates.bundled()
    static let hostile = #"<script>&"'"#
    static let hostileEscaped = "&lt;script&gt;&amp;&quot;&#39;"

    let page = SharePage(token: "tok", nonce: "n0nce", templates: SharePageTests.templates)

    static func item(
        _ id: String = "v1", title: String = "Clip", mimeType: String = "video/mp4", status: MediaStatus = .ready,
        processed: Bool = false, thumbnail: Bool = false, duration: Double? = nil
    ) -> SharePage.Item {
        SharePage.Item(
            id: id, title: title, mimeType: mimeType, status: status, hasProcessedVideo: processed,
            hasThumbnail: thumbnail, durationSeconds: duration)
    }

    func gallery(
        _ items: [SharePage.Item], title: String = "T", description: String = "", allowDownload: Bool = false
    ) -> String {
        page.gallery(
            title: title, description: description, pageNumber: 1, pageCount: 1, total: items.count, items: items,
            allowDownload: allowDownload, expiresAt: nil)
    }

    @Test("user text is escaped in text and in attributes, & < > \" ' alike")
    func escaping() {
        let html = gallery(
            [
                Self.item(title: Self.hostile, thumbnail: true),
                Self.item("i1", title: Self.hostile, mimeType: "image/png"),
            ],
            title: Self.hostile, description: Self.hostile)
        #expect(!html.contains("<script>"))
        #expect(!html.contains(#"&"'"#))
        #expect(html.contains("<title>\(Self.hostileEscaped) · MediaVault</title>"))
        #expect(html.contains("<h1>\(Self.hostileEscaped)</h1>"))
        #expect(html.contains("<p class=\"description\">\(Self.hostileEscaped)</p>"))
        #expect(html.contains("aria-label=\"\(Self.hostileEscaped)\""))
        #expect(html.contains("alt=\"\(Self.hostileEscaped)\""))
        #expect(html.contains("<span class=\"title\">\(Self.hostileEscaped)</span>"))

        let message = page.message(title: Self.hostile, text: Self.hostile)
        #expect(!message.contains("<script>"))
        #expect(message.contains("<h1>\(Self.hostileEscaped)</h1><p>\(Self.hostileEscaped)</p>"))
    }

    @Test("a combining mark cannot hide a quote from the escaping")
    func combiningMarks() {
        // `"` + U+0301 is one Character, which swift-mustache alone would pass through unescaped.
        let title = "x\"\u{301} autofocus onfocus=y"
        let html = gallery([Self.item(title: title)])
        #expect(html.contains("aria-label=\"x&quot;\u{301} autofocus onfocus=y\""))
        let quoteWithMark = "\"\u{301}"
        #expect(!html.contains(quoteWithMark))
        #expect(ShareHTML().escapeText("Ünïcödé e\u{301} ✓") == "Ünïcödé e\u{301} ✓", "marks on letters stay")
        #expect(ShareHTML().escapeText("plain & simple <b>") == "plain &amp; simple &lt;b&gt;")
    }

    @Test("a ready video plays: the processed HEVC stream first, then the original")
    func readyVideo() throws {
        let html = gallery([Self.item(processed: true, thumbnail: true, duration: 754.4)])
        #expect(html.contains(#"<figure class="item video" id="m-v1">"#))
        #expect(html.contains(#"<video controls playsinline preload="none" poster="tok/items/v1/thumbnail""#))
        let hevc = #"<source src="tok/items/v1/stream" type="video/mp4; codecs=&quot;hvc1&quot;">"#
        let stream = try #require(html.range(of: hevc))
        let original = try #require(html.range(of: #"<source src="tok/items/v1/original" type="video/mp4">"#))
        #expect(stream.lowerBound < original.lowerBound)
        #expect(html.contains("</video>"))
        #expect(html.contains(#"<span class="duration">12:34</span>"#))
        #expect(!html.contains(#"class="status"#))

        let unprocessed = gallery([Self.item(processed: false)])
        #expect(unprocessed.contains(#"<source src="tok/items/v1/original" type="video/mp4">"#))
        #expect(!unprocessed.contains("/stream"))
        #expect(!unprocessed.contains("poster="))
    }

    @Test("queued and processing videos say so and still offer the original")
    func processingVideo() {
        for status in [MediaStatus.queued, .processing] {
            let html = gallery([Self.item(status: status)])
            #expect(html.contains(#"<span class="status">processing</span>"#), "\(status)")
            #expect(html.contains("<video"), "\(status)")
            #expect(html.contains(#"<source src="tok/items/v1/original" type="video/mp4">"#), "\(status)")
            #expect(!html.contains("could not be processed"), "\(status)")
        }
    }

    @Test("a failed video says it could not be processed and has no player")
    func failedVideo() {
        let withThumbnail = gallery([Self.item(status: .failed, thumbnail: true)])
        #expect(withThumbnail.contains(#"<span class="status failed">could not be processed</span>"#))
        #expect(!withThumbnail.contains("<video"))
        #expect(!withThumbnail.contains("<source"))
        #expect(!withThumbnail.contains(">processing<"))
        #expect(withThumbnail.contains(#"<img src="tok/items/v1/thumbnail" alt="Clip" loading="lazy">"#))

        let bare = gallery([Self.item(status: .failed, thumbnail: false)])
        #expect(bare.contains(#"<span class="status failed">could not be processed</span>"#))
        #expect(!bare.contains("<video"))
        #expect(!bare.contains("/thumbnail"), "no image to ask for")
        #expect(bare.contains(#"<div class="file">video/mp4</div>"#))
    }

    @Test("images, audio and other files; downloads only when the link allows them")
    func otherKinds() {
        let items = [
            Self.item("i1", title: "Photo", mimeType: "image/png", thumbnail: true),
            Self.item("a1", title: "Song", mimeType: "audio/mpeg", status: .failed),
            Self.item("f1", title: "Doc", mimeType: "application/pdf"),
        ]
        let html = gallery(items, allowDownload: true)
        #expect(html.contains(#"<a href="tok/items/i1/preview"><img src="tok/items/i1/thumbnail" alt="Photo""#))
        #expect(html.contains(#"<audio controls preload="none" src="tok/items/a1/original" aria-label="Song">"#))
        #expect(html.contains(#"<figure class="item application" id="m-f1">"#))
        #expect(html.contains(#"<div class="file">application/pdf</div>"#))
        #expect(!html.contains(#"class="status"#), "only videos carry a processing state")
        #expect(html.components(separatedBy: #"class="download""#).count - 1 == 3)
        #expect(html.contains(#"<a class="download" href="tok/items/a1/download">Download</a>"#))
        #expect(!gallery(items, allowDownload: false).contains("/download"))
    }

    @Test("a gallery page says where it is and links to its neighbours with query-only references")
    func pager() {
        let item = Self.item("m1", title: "One", mimeType: "image/png", thumbnail: true)
        let middle = page.gallery(
            title: "T", description: "", pageNumber: 2, pageCount: 3, total: 401, items: [item], allowDownload: false,
            expiresAt: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(middle.contains("<p class=\"meta\">401 items · page 2 of 3 · link expires 2027-01-15</p>"))
        #expect(middle.contains(#"<a rel="prev" href="?page=1">Previous</a>"#))
        #expect(middle.contains(#"<a rel="next" href="?page=3">Next</a>"#))
        #expect(middle.contains(#"src="tok/items/m1/thumbnail""#))
        let single = page.gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1, items: [item], allowDownload: false,
            expiresAt: nil)
        #expect(single.contains("<p class=\"meta\">1 item</p>"))
        #expect(!single.contains("<nav"))
        #expect(!single.contains("class=\"description\""))
        let beyond = page.gallery(
            title: "T", description: "", pageNumber: 9, pageCount: 3, total: 401, items: [], allowDownload: false,
            expiresAt: nil)
        #expect(beyond.contains("There is nothing on this page."))
        #expect(beyond.contains(#"href="?page=3">Previous"#) && !beyond.contains("rel=\"next\""))
        let empty = gallery([])
        #expect(empty.contains("This collection is empty.") && !empty.contains("nothing on this page"))
        #expect(SharePage.clock(5) == "0:05" && SharePage.clock(754.4) == "12:34" && SharePage.clock(3725) == "1:02:05")
    }

    @Test("every page is a whole document whose only style carries the nonce")
    func document() {
        for html in [gallery([]), page.passwordForm(error: nil), page.message(title: "T", text: "x")] {
            #expect(html.hasPrefix("<!doctype html>\n<html lang=\"en\">\n<head>\n"))
            #expect(html.hasSuffix("</body>\n</html>\n"))
            #expect(html.components(separatedBy: "<style").count == 2)
            #expect(html.contains("<style nonce=\"n0nce\">body{"))
            #expect(!html.contains("{{") && !html.contains("<script"))
        }
        #expect(SharePage.contentSecurityPolicy(nonce: "n0nce", storageOrigin: nil).contains("style-src 'nonce-n0nce'"))
    }

    @Test("the password form posts to the page itself and shows its error")
    func passwordForm() {
        let html = page.passwordForm(error: nil)
        #expect(html.contains("<title>Password required · MediaVault</title>"))
        #expect(html.contains("<h1>This collection is protected</h1>"))
        #expect(html.contains(#"<form method="post" action="tok">"#))
        #expect(html.contains(#"<input id="password" name="password" type="password""#))
        #expect(html.contains(#"<button type="submit">Open</button></form>"#))
        #expect(!html.contains(#"class="error""#))

        let refused = page.passwordForm(error: "Too many attempts <try later>")
        #expect(refused.contains(#"<p class="error" role="alert">Too many attempts &lt;try later&gt;</p>"#))

        let odd = SharePage(token: #"a"b"#, nonce: "n", templates: Self.templates).passwordForm(error: nil)
        #expect(odd.contains(#"action="a&quot;b""#))
    }

    @Test("expired, turned-off and unknown links each get their message")
    func messages() {
        let expiry = SharePage.day(Date(timeIntervalSince1970: 1_800_000_000))
        let expired = page.message(title: "Link expired", text: "This share link expired on \(expiry).")
        #expect(expired.contains("<title>Link expired · MediaVault</title>"))
        #expect(expired.contains(#"<h1>Link expired</h1><p>This share link expired on 2027-01-15.</p></main>"#))
        #expect(!expired.contains("<form") && !expired.contains("<figure"))
        let missing = page.message(title: "Link not found", text: "This share link does not exist.")
        #expect(missing.contains("<h1>Link not found</h1><p>This share link does not exist.</p>"))
    }

    @Test("rendered items are reused across pages, and any change to an item renders it anew")
    func renderedItemsAreCached() {
        let templates = SharePageTemplates.bundled()
        let page = SharePage(token: "tok", nonce: "n1", templates: templates)
        let ready = Self.item("c1", status: .ready, processed: true)
        let first = page.gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1, items: [ready], allowDownload: false,
            expiresAt: nil)
        #expect(templates.renderedItemCount == 1)
        // Another request (another nonce) with the same item: served from the cache, the same HTML.
        let again = SharePage(token: "tok", nonce: "n2", templates: templates).gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1, items: [ready], allowDownload: false,
            expiresAt: nil)
        #expect(templates.renderedItemCount == 1)
        #expect(again.replacingOccurrences(of: "n2", with: "n1") == first)
        // The same media once it failed, or shown with downloads, or under another link: each its own entry.
        let failed = page.gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1,
            items: [Self.item("c1", status: .failed)], allowDownload: false, expiresAt: nil)
        #expect(failed.contains("could not be processed") && !failed.contains("<video"))
        _ = page.gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1, items: [ready], allowDownload: true,
            expiresAt: nil)
        _ = SharePage(token: "other", nonce: "n", templates: templates).gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1, items: [ready], allowDownload: false,
            expiresAt: nil)
        #expect(templates.renderedItemCount == 4)
    }

    @Test("the fragment cache stays within its bound and renders only on a miss")
    func fragmentCacheIsBounded() {
        let cache = FragmentCache<Int>(limit: 3)
        var made = 0
        for key in [1, 2, 1, 2, 3, 1] {
            #expect(cache.value(for: key) { made += 1; return "f\($0)" } == "f\(key)")
        }
        #expect(made == 3)
        for key in 4..<10 { _ = cache.value(for: key) { "f\($0)" } }
        #expect(cache.count <= 3)
        #expect(cache.value(for: 9) { _ in "stale" } == "f9")
    }

    @Test("templates that are missing or do not parse are refused, naming the template")
    func brokenTemplates() throws {
        var sources = Dictionary(uniqueKeysWithValues: SharePageTemplates.names.map { ($0, "<p>{{title}}</p>\n") })
        _ = try SharePageTemplates.load(sources)
        sources["share-item"] = "{{#items}}never closed\n"
        do {
            _ = try SharePageTemplates.load(sources)
            Issue.record("a section that is never closed was accepted")
        } catch let error as SharePageTemplates.TemplateError {
            #expect(error.file == "share-item")
        }
        sources["share-item"] = nil
        #expect(throws: SharePageTemplates.TemplateError.self) { try SharePageTemplates.load(sources) }
    }
}
