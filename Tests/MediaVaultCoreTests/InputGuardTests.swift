import Foundation
import Hummingbird
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

    @Test("the methods of a path are those of the route the router would pick: literal, then capture, then **")
    func methodsOfPaths() {
        let table = RouteAccessTable()
        let router = AccessRouter(router: Router(context: AppRequestContext.self), table: table)
        router.get("/media/{id}", .open) { _, _ in "" }
        router.delete("/media/{id}", .open) { _, _ in "" }
        router.post("/media/checksums", .open) { _, _ in "" }
        router.post("/media/upload/sign", .open) { _, _ in "" }
        router.put("/storage/**", .open) { _, _ in "" }
        router.get("/storage/**", .open) { _, _ in "" }
        func allowed(_ path: String) -> Set<String> { Set(table.methods(servingPath: path).map(\.rawValue)) }
        #expect(allowed("/media/123") == ["GET", "DELETE"])
        #expect(allowed("/media/checksums") == ["POST"])
        // The router takes the literal `upload` and finds nothing below it: not /media/{id}.
        #expect(allowed("/media/upload") == [])
        #expect(allowed("/media/upload/sign") == ["POST"])
        #expect(allowed("/storage/a/b/c") == ["PUT", "GET"])
        #expect(allowed("/storage") == [])
        #expect(allowed("/media/1/2") == [])
        #expect(allowed("/nothing") == [])
    }
}
