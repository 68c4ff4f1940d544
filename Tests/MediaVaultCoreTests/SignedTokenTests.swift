import Foundation
import MediaVaultCore
import Testing

@Suite("Signed tokens: format, authenticity, purpose separation, hostile input")
struct SignedTokenTests {
    struct Claim: Codable, Sendable, Equatable {
        let subject: String
        let count: Int
    }

    /// Shares `Claim`'s first field, so only the decoding step can tell the two apart.
    struct OtherClaim: Codable, Sendable, Equatable {
        let subject: String
    }

    let key = SignedTokenKey(secret: "test-secret-0123456789", purpose: "test")
    let claim = Claim(subject: "user-42", count: 7)

    @Test("a token verifies with the key it was signed with and gives back the payload")
    func roundTrip() throws {
        let token = try SignedToken(claim).encoded(with: key)
        #expect(SignedToken<Claim>(verifying: token, with: key)?.payload == claim)
        let sameKeyAgain = SignedTokenKey(secret: "test-secret-0123456789", purpose: "test")
        #expect(SignedToken<Claim>(verifying: token, with: sameKeyAgain)?.payload == claim, "derivation is stable")
        #expect(SignedToken<Claim>(verifying: token, with: key) == SignedToken(claim))
    }

    @Test("the token is base64url(JSON) '.' base64url(32-byte HMAC), without padding")
    func format() throws {
        let token = try SignedToken(claim).encoded(with: key)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 2)
        #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        let json = try #require(Base64URL.decode(parts[0]))
        #expect(try JSONDecoder().decode(Claim.self, from: Data(json)) == claim)
        #expect(Base64URL.decode(parts[1])?.count == 32)
    }

    @Test("another secret or another purpose does not verify the token")
    func keySeparation() throws {
        let token = try SignedToken(claim).encoded(with: key)
        let otherSecret = SignedTokenKey(secret: "test-secret-0123456788", purpose: "test")
        let otherPurpose = SignedTokenKey(secret: "test-secret-0123456789", purpose: "test2")
        #expect(SignedToken<Claim>(verifying: token, with: otherSecret) == nil)
        #expect(SignedToken<Claim>(verifying: token, with: otherPurpose) == nil)
        let otherPurposeToken = try SignedToken(claim).encoded(with: otherPurpose)
        #expect(otherPurposeToken != token, "purposes give different keys")
        #expect(SignedToken<Claim>(verifying: otherPurposeToken, with: key) == nil)
    }

    @Test("a changed body, a changed or truncated HMAC, or extra parts are refused")
    func tampering() throws {
        let token = try SignedToken(claim).encoded(with: key)
        let parts = token.split(separator: ".").map(String.init)
        let signature = parts[1]

        let otherToken = try SignedToken(Claim(subject: "admin", count: 7)).encoded(with: key)
        let otherBody = String(otherToken.split(separator: ".")[0])
        #expect(SignedToken<Claim>(verifying: otherBody + "." + signature, with: key) == nil, "swapped body")

        // The first character carries the top six bits of the HMAC's first byte, so changing it changes the HMAC.
        let flipped = (signature.first == "A" ? "B" : "A") + String(signature.dropFirst())
        #expect(SignedToken<Claim>(verifying: parts[0] + "." + flipped, with: key) == nil, "changed HMAC")
        let truncated = parts[0] + "." + String(signature.dropLast(4))
        #expect(SignedToken<Claim>(verifying: truncated, with: key) == nil, "truncated HMAC")
        #expect(SignedToken<Claim>(verifying: token + "AAAA", with: key) == nil, "lengthened HMAC")
        #expect(SignedToken<Claim>(verifying: token + "." + signature, with: key) == nil, "three parts")
        #expect(SignedToken<Claim>(verifying: parts[0], with: key) == nil, "no HMAC")
        #expect(SignedToken<Claim>(verifying: parts[0] + ".", with: key) == nil, "empty HMAC")
        #expect(SignedToken<Claim>(verifying: "." + signature, with: key) == nil, "empty body")
    }

    @Test("an authentic token of another payload shape does not decode")
    func wrongShape() throws {
        let token = try SignedToken(OtherClaim(subject: "user-42")).encoded(with: key)
        #expect(SignedToken<OtherClaim>(verifying: token, with: key)?.payload == OtherClaim(subject: "user-42"))
        #expect(SignedToken<Claim>(verifying: token, with: key) == nil)
    }

    @Test("inputs longer than the maximum are refused even when authentic")
    func overLong() throws {
        let maximum = SignedToken<Claim>.maximumLength
        #expect(maximum == 4096)
        // Token lengths grow by one or two characters per extra payload byte, so this range straddles the maximum.
        let tokens = try (2900...3100).map { length in
            try SignedToken(Claim(subject: String(repeating: "a", count: length), count: 1)).encoded(with: key)
        }
        let longestFitting = try #require(tokens.last(where: { $0.utf8.count <= maximum }))
        let shortestTooLong = try #require(tokens.first(where: { $0.utf8.count > maximum }))
        #expect(SignedToken<Claim>(verifying: longestFitting, with: key) != nil)
        #expect(SignedToken<Claim>(verifying: shortestTooLong, with: key) == nil)
        #expect(SignedToken<Claim>(verifying: String(repeating: "A", count: 1 << 20), with: key) == nil)
    }

    @Test("garbage is refused", arguments: [
        "", ".", "..", "abc", "a.b", "a.b.c", "!!!.???", "😀.😀", "%41%41.%41", "eyJ9.AAAA", " . ",
        String(repeating: ".", count: 64), "\u{0}.\u{0}",
    ])
    func garbage(_ input: String) {
        #expect(SignedToken<Claim>(verifying: input, with: key) == nil)
    }
}

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test("equal bytes compare equal; any difference, including length, does not")
    func equality() {
        #expect(ConstantTime.equal([], []))
        #expect(ConstantTime.equal(Array("secret".utf8), Array("secret".utf8)))
        #expect(!ConstantTime.equal(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!ConstantTime.equal(Array("secret".utf8), Array("secret!".utf8)))
        #expect(!ConstantTime.equal(Array("secret".utf8), []))
        #expect(!ConstantTime.equal([0], [0, 0]))
    }
}
