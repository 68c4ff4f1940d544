import Foundation
import MediaVaultCore
import Testing

@testable import Auth

@Suite("OAuth state cookie: signature, expiry, binding to the state parameter, purpose")
struct OAuthStateTests {
    /// The cookie's payload as the wire format has it, to mint look-alike tokens under other keys.
    struct WirePayload: Codable, Sendable {
        let n: String
        let r: String?
        let e: Int64
    }

    let secret = "test-session-secret-0123456789abcdef"
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func verify(_ cookie: String?, state: String?, secret: String? = nil, at time: Date? = nil) -> OAuthState? {
        OAuthState.verify(cookie: cookie, state: state, secret: secret ?? self.secret, now: time ?? now)
    }

    @Test("a fresh state round-trips through its cookie, with and without a redirect")
    func roundTrip() {
        for redirect in ["/collections/42?page=2", nil] {
            let state = OAuthState.make(redirectPath: redirect, now: now)
            #expect(state.expiresAt == now + OAuthState.lifetime)
            #expect(state.nonce.count >= 32)
            let cookie = state.cookieValue(secret: secret)
            #expect(verify(cookie, state: state.nonce) == state)
            #expect(verify(cookie, state: state.nonce)?.redirectPath == redirect)
        }
        let first = OAuthState.make(redirectPath: nil, now: now)
        #expect(first.nonce != OAuthState.make(redirectPath: nil, now: now).nonce, "a fresh nonce every time")
    }

    @Test("the cookie stops verifying when its lifetime is over")
    func expiry() {
        let state = OAuthState.make(redirectPath: nil, now: now)
        let cookie = state.cookieValue(secret: secret)
        #expect(verify(cookie, state: state.nonce, at: now + OAuthState.lifetime - 1) == state)
        #expect(verify(cookie, state: state.nonce, at: now + OAuthState.lifetime) == nil)
        #expect(verify(cookie, state: state.nonce, at: now + 86_400) == nil)
    }

    @Test("the state parameter must be the cookie's nonce")
    func stateMismatch() {
        let state = OAuthState.make(redirectPath: nil, now: now)
        let cookie = state.cookieValue(secret: secret)
        let other = OAuthState.make(redirectPath: nil, now: now)
        #expect(verify(cookie, state: other.nonce) == nil)
        #expect(verify(cookie, state: String(state.nonce.dropLast())) == nil)
        #expect(verify(cookie, state: state.nonce + "x") == nil)
        #expect(verify(cookie, state: "") == nil)
        #expect(verify(cookie, state: nil) == nil)
        #expect(verify(nil, state: state.nonce) == nil)
        #expect(verify(other.cookieValue(secret: secret), state: state.nonce) == nil, "another browser's cookie")
    }

    @Test("a changed body, a changed signature or another secret is refused")
    func tampering() throws {
        let state = OAuthState.make(redirectPath: "/home", now: now)
        let cookie = state.cookieValue(secret: secret)
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 2)

        // A body an attacker would like, e.g. one that redirects elsewhere or never expires, with the real signature.
        let wanted = WirePayload(n: state.nonce, r: "//evil.example", e: Int64.max)
        let wantedJSON = try JSONEncoder().encode(wanted)
        let wantedBody = Base64URL.encode(wantedJSON)
        #expect(verify(wantedBody + "." + parts[1], state: state.nonce) == nil)
        let changedBody = (parts[0].first == "e" ? "f" : "e") + String(parts[0].dropFirst())
        #expect(verify(changedBody + "." + parts[1], state: state.nonce) == nil)

        // The first character carries the top six bits of the HMAC's first byte, so changing it changes the HMAC.
        let signature = parts[1]
        let flipped = (signature.first == "A" ? "B" : "A") + String(signature.dropFirst())
        #expect(verify(parts[0] + "." + flipped, state: state.nonce) == nil)
        #expect(verify(parts[0], state: state.nonce) == nil)
        #expect(verify(cookie + "." + signature, state: state.nonce) == nil)
        #expect(verify(cookie, state: state.nonce, secret: secret + "x") == nil)
    }

    @Test("a token with the right shape signed for another purpose is refused")
    func otherPurpose() throws {
        let nonce = SessionToken.generate()
        let payload = WirePayload(n: nonce, r: "/home", e: Int64(now.timeIntervalSince1970) + 60)

        // Control: the same payload under the OAuth state purpose is accepted, so only the purpose differs below.
        let asState = try SignedToken(payload).encoded(
            with: SignedTokenKey(secret: secret, purpose: OAuthState.tokenPurpose))
        #expect(verify(asState, state: nonce)?.redirectPath == "/home")

        for purpose in ["share-unlock", "session", "oauth-state ", ""] {
            let token = try SignedToken(payload).encoded(with: SignedTokenKey(secret: secret, purpose: purpose))
            #expect(verify(token, state: nonce) == nil, "accepted a token for purpose \(purpose.debugDescription)")
        }
    }
}
