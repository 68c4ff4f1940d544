import Foundation
import Testing

@testable import Auth

@Suite("Redirect targets stay on the frontend")
struct RedirectTargetTests {
    let frontend = URL(string: "https://app.example.com")!

    func safe(_ requested: String?) -> String? {
        RedirectTarget.safePath(requested, frontendURL: frontend)
    }

    @Test("local paths are kept as they are", arguments: ["/", "/collections/42", "/media?page=2&tag=a%20b", "/a#b"])
    func localPaths(_ path: String) {
        #expect(safe(path) == path)
    }

    @Test("absolute URLs on the frontend's origin become local paths")
    func sameOrigin() {
        #expect(safe("https://app.example.com/media?page=2") == "/media?page=2")
        #expect(safe("https://app.example.com/collections/42") == "/collections/42")
        #expect(safe("https://app.example.com") == "/")
        #expect(safe("HTTPS://APP.EXAMPLE.COM/x") == "/x", "scheme and host compare case-insensitively")
    }

    @Test("protocol-relative, backslashed and control-character paths are refused", arguments: [
        "//evil.com", "//evil.com/path", "/\\evil.com", "/\\/evil.com", "/ok\\evil", "/a\nb", "/a\rb", "/a\tb",
        "/a\u{0}b", "/a\u{7F}b",
    ])
    func hostilePaths(_ path: String) {
        #expect(safe(path) == nil)
    }

    @Test("other schemes, hosts, ports and URLs with user info are refused", arguments: [
        "http://app.example.com/x", "https://evil.com/x", "https://app.example.com.evil.com/",
        "https://evil.com/?next=https://app.example.com/", "https://app.example.com:8443/x",
        "https://user@app.example.com/x", "https://user:password@app.example.com/x", "javascript:alert(1)",
        "data:text/html,hi", "evil.com", "ftp://app.example.com/x",
    ])
    func otherOrigins(_ target: String) {
        #expect(safe(target) == nil)
    }

    @Test("nothing, empty and over-long targets are refused")
    func limits() {
        #expect(safe(nil) == nil)
        #expect(safe("") == nil)
        let longest = "/" + String(repeating: "a", count: 2047)
        #expect(safe(longest) == longest)
        #expect(safe(longest + "a") == nil)
        #expect(safe("https://app.example.com/" + String(repeating: "a", count: 2048)) == nil)
    }

    @Test("whatever is kept is a local path that browsers cannot read as another host")
    func keptIsLocal() {
        let candidates = [
            "/x", "https://app.example.com//evil.com", "https://app.example.com/\\evil.com",
            "https://app.example.com/%2F%2Fevil.com", "https://app.example.com/a?b=//c",
        ]
        for candidate in candidates {
            if let kept = safe(candidate) {
                #expect(kept.hasPrefix("/") && !kept.hasPrefix("//") && !kept.contains("\\"), "kept \(candidate)")
            }
        }
    }
}
