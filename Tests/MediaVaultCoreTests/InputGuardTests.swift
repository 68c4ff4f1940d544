import Foundation
import Testing

@testable import MediaVaultCore

@Suite("Input guards: NUL characters, and which methods a path takes")
struct InputGuardTests {
    @Test("an unescaped backslash before u0000 is a NUL; an escaped one is text", arguments: [
        (#"{"t": "a\u0000b"}"#, true),
        (#"{"t": "\\\u0000"}"#, true),
        (#"{"t": "\\u0000"}"#, false),
        (#"{"t": "\u00001"}"#, true),
        (#"{"t": "\u0001"}"#, false),
        (#"{"t": "u0000"}"#, false),
        (#"{"t": "\u000"}"#, false),
        (#"{"t": "\\\\u0000"}"#, false),
    ])
    func escapedNUL(_ json: String, expected: Bool) {
        #expect(JSONText.containsEscapedNUL(Array(json.utf8)) == expected)
    }

    @Test("%00 anywhere in the URL is refused, other escapes are not", arguments: [
        ("/media?q=a%00b", true), ("/s/tok%00en", true), ("/media?q=%2500", false), ("/media?q=%20%30%30", false),
        ("/media?q=100%", false), ("/media?q=%0", false),
    ])
    func urlNUL(_ uri: String, expected: Bool) {
        #expect(NULCharacterMiddleware.carriesNUL(uri) == expected)
    }

    @Test("route patterns match literal, captured and wildcard components")
    func patterns() {
        func matches(_ pattern: String, _ path: String) -> Bool {
            RouteAccessTable.pattern(pattern, matches: path.split(separator: "/"))
        }
        #expect(matches("/media", "/media"))
        #expect(matches("/media/{id}", "/media/123"))
        #expect(!matches("/media/{id}", "/media"))
        #expect(!matches("/media/{id}", "/media/1/tags"))
        #expect(matches("/storage/**", "/storage/a/b/c"))
        #expect(!matches("/storage/**", "/storage"))
        #expect(matches("/", "/"))
        #expect(!matches("/media", "/Media"))
    }
}
