import Foundation
import MediaVaultCore

/// HTML escaping for text and double-quoted attribute values.
enum HTML {
    /// Works on UTF-8 bytes: multi-byte sequences never contain ASCII bytes, so only `& < > " '` change; text
    /// without them (most titles) is returned as it is.
    static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: needsEscaping) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 32)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}

/// The public share page: server-rendered, no scripts, every user-supplied string escaped. Media is reached through
/// `/s/<token>/items/<id>/<variant>`, which checks the link again and redirects to a fresh presigned URL.
struct SharePage {
    /// One item as the page needs it.
    struct Item {
        let id: String
        let title: String
        let mimeType: String
        let status: String
        let hasProcessedVideo: Bool
        let hasThumbnail: Bool
        let durationSeconds: Double?
    }

    let token: String
    let nonce: String
    /// The page's own URL relative to itself (`/s/<token>` resolves `<token>` to itself). Every link on the page is
    /// relative, so the page keeps working when a proxy serves the API under a path prefix (`API_BASE_URL`).
    var selfReference: String { token }

    /// Content-Security-Policy: nothing but our own styles (by nonce), images and media from here or storage.
    static func contentSecurityPolicy(nonce: String, storageOrigin: String?) -> String {
        let media = ["'self'", storageOrigin].compactMap { $0 }.joined(separator: " ")
        return "default-src 'none'; img-src \(media); media-src \(media); style-src 'nonce-\(nonce)'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    /// One page of the gallery; `total` counts every item viewers may see, over all pages.
    func gallery(
        title: String, description: String, pageNumber: Int, pageCount: Int, total: Int, items: [Item],
        allowDownload: Bool, expiresAt: Date?
    ) -> String {
        var html = ""
        html.reserveCapacity(2048 + items.count * 900)
        html += head(title: title)
        html += "<header><h1>\(HTML.escape(title))</h1>"
        if !description.isEmpty { html += "<p class=\"description\">\(HTML.escape(description))</p>" }
        html += "<p class=\"meta\">\(total) \(total == 1 ? "item" : "items")"
        if pageCount > 1 { html += " · page \(pageNumber) of \(pageCount)" }
        if let expiresAt { html += " · link expires \(HTML.escape(Self.day(expiresAt)))" }
        html += "</p></header>\n<main class=\"grid\">\n"
        if total == 0 {
            html += "<p class=\"empty\">This collection is empty.</p>\n"
        } else if items.isEmpty {
            html += "<p class=\"empty\">There is nothing on this page.</p>\n"
        }
        for item in items { html += figure(item, allowDownload: allowDownload) }
        html += "</main>\n"
        if pageCount > 1 { html += pager(pageNumber: pageNumber, pageCount: pageCount) }
        html += "<footer>Shared with MediaVault</footer>\n</body>\n</html>\n"
        return html
    }

    /// Previous/next links; query-only references keep the page's own path.
    private func pager(pageNumber: Int, pageCount: Int) -> String {
        var html = "<nav class=\"pager\">"
        if pageNumber > 1 { html += "<a rel=\"prev\" href=\"?page=\(min(pageNumber - 1, pageCount))\">Previous</a> " }
        if pageNumber < pageCount { html += "<a rel=\"next\" href=\"?page=\(pageNumber + 1)\">Next</a>" }
        return html + "</nav>\n"
    }

    private func figure(_ item: Item, allowDownload: Bool) -> String {
        let base = HTML.escape(selfReference) + "/items/" + HTML.escape(item.id)
        let title = HTML.escape(item.title)
        let kind = item.mimeType.split(separator: "/").first.map(String.init) ?? ""
        var html = "<figure class=\"item \(HTML.escape(kind))\" id=\"m-\(HTML.escape(item.id))\">"
        switch kind {
        case "video":
            let poster = item.hasThumbnail ? " poster=\"\(base)/thumbnail\"" : ""
            html += "<video controls playsinline preload=\"none\"\(poster) aria-label=\"\(title)\">"
            if item.hasProcessedVideo {
                // HEVC first; browsers that cannot play it fall through to the original.
                html += "<source src=\"\(base)/stream\" type=\"video/mp4; codecs=&quot;hvc1&quot;\">"
            }
            html += "<source src=\"\(base)/original\" type=\"\(HTML.escape(item.mimeType))\">"
            html += "</video>"
        case "image":
            html += "<a href=\"\(base)/original\"><img src=\"\(base)/thumbnail\" alt=\"\(title)\" loading=\"lazy\"></a>"
        case "audio":
            html += "<audio controls preload=\"none\" src=\"\(base)/original\" aria-label=\"\(title)\"></audio>"
        default:
            html += "<div class=\"file\">\(HTML.escape(item.mimeType))</div>"
        }
        html += "<figcaption><span class=\"title\">\(title)</span>"
        if let duration = item.durationSeconds { html += " <span class=\"duration\">\(Self.clock(duration))</span>" }
        if item.status != "ready" && kind == "video" { html += " <span class=\"status\">processing</span>" }
        if allowDownload { html += " <a class=\"download\" href=\"\(base)/download\">Download</a>" }
        html += "</figcaption></figure>\n"
        return html
    }

    func passwordForm(error: String?) -> String {
        var html = head(title: "Password required")
        html += "<main class=\"narrow\"><h1>This collection is protected</h1>"
        html += "<p>Enter the password you were given with the link.</p>"
        if let error { html += "<p class=\"error\" role=\"alert\">\(HTML.escape(error))</p>" }
        html += "<form method=\"post\" action=\"\(HTML.escape(selfReference))\">"
        html += "<label for=\"password\">Password</label> "
        html += "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required autofocus> "
        html += "<button type=\"submit\">Open</button></form></main>\n</body>\n</html>\n"
        return html
    }

    func message(title: String, text: String) -> String {
        head(title: title) + "<main class=\"narrow\"><h1>\(HTML.escape(title))</h1><p>\(HTML.escape(text))</p></main>\n"
            + "</body>\n</html>\n"
    }

    private func head(title: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <meta name="robots" content="noindex, nofollow">
        <title>\(HTML.escape(title)) · MediaVault</title>
        <style nonce="\(HTML.escape(nonce))">\(Self.style)</style>
        </head>
        <body>

        """
    }

    static let style = """
        body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#111;color:#eee}
        header,footer,main{max-width:1200px;margin:0 auto;padding:1rem}
        h1{margin:.2em 0;font-size:1.8rem}.description{white-space:pre-wrap;color:#ccc}.meta,footer{color:#999;font-size:.9rem}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem}
        figure{margin:0;background:#1c1c1c;border-radius:8px;overflow:hidden}
        figure img,figure video{display:block;width:100%;aspect-ratio:16/10;object-fit:cover;background:#000}
        figure audio{width:100%;margin-top:1rem}.file{padding:3rem 1rem;text-align:center;color:#aaa}
        figcaption{padding:.5rem .75rem;word-break:break-word}.duration,.status{color:#999;font-size:.85rem}
        .download{float:right;color:#8cf}.pager{display:flex;gap:1rem}.pager a{color:#8cf}.narrow{max-width:28rem;padding-top:15vh}.error{color:#f88}
        input{font:inherit;padding:.4rem;border-radius:4px;border:1px solid #555;background:#222;color:#eee}
        button{font:inherit;padding:.4rem 1rem;border-radius:4px;border:0;background:#3a7bd5;color:#fff}
        """

    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day())
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return total >= 3600
            ? "\(total / 3600):\(twoDigits(total / 60 % 60)):\(twoDigits(total % 60))"
            : "\(total / 60):\(twoDigits(total % 60))"
    }
}
