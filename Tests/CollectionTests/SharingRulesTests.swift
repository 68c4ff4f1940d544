import Foundation
import MediaVaultCore
import Testing

@testable import Collection

@Suite("Sharing rules: passwords, unlock passes, escaping, expiry")
struct SharingRulesTests {
    @Test("passwords are stored as salted scrypt hashes and verified in constant time")
    func passwordHashing() async throws {
        let first = try await SharePassword.hash("correct horse")
        let second = try await SharePassword.hash("correct horse")
        #expect(first.hasPrefix("scrypt$15$8$1$"))
        #expect(first != second, "a fresh salt every time")
        #expect(try await SharePassword.verify("correct horse", against: first))
        #expect(try await SharePassword.verify("correct horse", against: second))
        #expect(try await !SharePassword.verify("correct horsE", against: first))
        #expect(try await !SharePassword.verify("correct horse", against: "scrypt$15$8$1$salt"), "malformed hash")
        #expect(try await !SharePassword.verify("correct horse", against: "plain:correct horse"))
        #expect(throws: AppError.self) { try SharePassword.validate("short") }
        #expect(throws: AppError.self) { try SharePassword.validate(String(repeating: "x", count: 300)) }
    }

    @Test("unlock passes are bound to the link, the password and a deadline")
    func unlockPasses() {
        let link = UUID()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let hash = "scrypt$15$8$1$salt$hash"
        let pass = UnlockPass(linkID: link, passwordFingerprint: SharePassword.fingerprint(hash), expiresAt: now + 60)
        let value = pass.encoded(secret: "secret")
        #expect(UnlockPass.verify(value, linkID: link, passwordHash: hash, secret: "secret", now: now) == pass)
        #expect(UnlockPass.verify(value, linkID: UUID(), passwordHash: hash, secret: "secret", now: now) == nil)
        #expect(UnlockPass.verify(value, linkID: link, passwordHash: hash + "2", secret: "secret", now: now) == nil)
        #expect(UnlockPass.verify(value, linkID: link, passwordHash: hash, secret: "other", now: now) == nil)
        #expect(UnlockPass.verify(value, linkID: link, passwordHash: hash, secret: "secret", now: now + 61) == nil)
        #expect(UnlockPass.verify(value + "x", linkID: link, passwordHash: hash, secret: "secret", now: now) == nil)
        #expect(UnlockPass.verify(nil, linkID: link, passwordHash: hash, secret: "secret", now: now) == nil)
    }

    @Test("HTML escaping covers text and attribute contexts")
    func escaping() {
        #expect(HTML.escape(#"<a href="x">'&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(HTML.escape("Ünïcödé ✓") == "Ünïcödé ✓")
        #expect(HTML.escape("Ünï & ✓<") == "Ünï &amp; ✓&lt;")
        #expect(SharePage.clock(5) == "0:05" && SharePage.clock(754.4) == "12:34" && SharePage.clock(3725) == "1:02:05")
    }

    @Test("a gallery page says where it is and links to its neighbours with query-only references")
    func pager() {
        let page = SharePage(token: "tok", nonce: "n")
        let item = SharePage.Item(
            id: "m1", title: "One", mimeType: "image/png", status: "ready", hasProcessedVideo: false,
            hasThumbnail: true, durationSeconds: nil)
        let middle = page.gallery(
            title: "T", description: "", pageNumber: 2, pageCount: 3, total: 401, items: [item], allowDownload: false,
            expiresAt: nil)
        #expect(middle.contains("401 items · page 2 of 3"))
        #expect(middle.contains("href=\"?page=1\">Previous") && middle.contains("href=\"?page=3\">Next"))
        #expect(middle.contains("src=\"tok/items/m1/thumbnail\""))
        let single = page.gallery(
            title: "T", description: "", pageNumber: 1, pageCount: 1, total: 1, items: [item], allowDownload: false,
            expiresAt: nil)
        #expect(!single.contains("<nav"))
        let beyond = page.gallery(
            title: "T", description: "", pageNumber: 9, pageCount: 3, total: 401, items: [], allowDownload: false,
            expiresAt: nil)
        #expect(beyond.contains("nothing on this page") && beyond.contains("href=\"?page=3\">Previous"))
    }

    @Test("link expiry: default, days, a moment, never; one at a time and never in the past")
    func expiry() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let thirtyDays = Duration.seconds(30 * 86400)
        func expiry(_ at: Date? = nil, days: Int? = nil, never: Bool = false) throws -> Date? {
            try CollectionRules.expiry(expiresAt: at, expiresInDays: days, neverExpires: never, defaultExpiry: thirtyDays, now: now)
        }
        #expect(try expiry() == now + 30 * 86400)
        #expect(try expiry(days: 2) == now + 2 * 86400)
        #expect(try expiry(now + 3600) == now + 3600)
        #expect(try expiry(never: true) == nil)
        #expect(throws: AppError.self) { try expiry(now - 1) }
        #expect(throws: AppError.self) { try expiry(days: 0) }
        #expect(throws: AppError.self) { try expiry(days: 2, never: true) }
    }

    @Test("titles are trimmed and bounded; control characters are refused")
    func titles() throws {
        #expect(try CollectionRules.title("  Trip  ") == "Trip")
        #expect(throws: AppError.self) { try CollectionRules.title(" \n ") }
        #expect(throws: AppError.self) { try CollectionRules.title("a\u{0}b") }
        #expect(throws: AppError.self) { try CollectionRules.title(String(repeating: "x", count: 201)) }
    }

    @Test("form fields are decoded from urlencoded bodies")
    func formFields() {
        #expect(ShareController.formField("password", in: "a=1&password=correct+horse%21") == "correct horse!")
        #expect(ShareController.formField("password", in: "passwordx=1") == nil)
    }
}
