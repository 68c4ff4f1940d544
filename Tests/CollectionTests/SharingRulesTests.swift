import Foundation
import MediaVaultCore
import Testing

@testable import Collection

@Suite("Sharing rules: passwords, unlock passes, expiry, forms")
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
        typealias Form = ShareController.PasswordForm
        #expect(Form(decoding: "a=1&password=correct+horse%21")?.password == "correct horse!")
        #expect(Form(decoding: "password=a%2Bb%26c%3D")?.password == "a+b&c=")
        #expect(Form(decoding: "passwordx=1") != nil)
        #expect(Form(decoding: "passwordx=1")?.password == nil)
        #expect(Form(decoding: "password=%zz") == nil, "bad percent-encoding")
    }
}
