import Foundation
import MediaVaultCore

/// The OAuth `state`, bound to the browser: the state parameter is a random nonce, and a short-lived
/// HMAC-signed cookie carries the same nonce plus where to go afterwards. Stateless, so any replica can check it.
public struct OAuthState: Sendable, Equatable {
    public let nonce: String
    /// A frontend path (starting with `/`), already checked to stay on the frontend.
    public let redirectPath: String?
    public let expiresAt: Date

    public static let cookieName = "mv_oauth_state"
    public static let lifetime: TimeInterval = 600

    public init(nonce: String, redirectPath: String?, expiresAt: Date) {
        self.nonce = nonce
        self.redirectPath = redirectPath
        self.expiresAt = expiresAt
    }

    public static func make(redirectPath: String?, now: Date) -> OAuthState {
        OAuthState(nonce: SessionToken.generate(), redirectPath: redirectPath, expiresAt: now + lifetime)
    }

    /// Tokens of this purpose verify only as OAuth state cookies.
    static let tokenPurpose = "oauth-state"

    /// Short field names keep the cookie small.
    private struct Payload: Codable, Sendable {
        let n: String
        let r: String?
        let e: Int64
    }

    /// The cookie: a `SignedToken` (`base64url(JSON).base64url(HMAC-SHA256)`) of the nonce, redirect path and expiry.
    public func cookieValue(secret: String) -> String {
        let payload = Payload(n: nonce, r: redirectPath, e: Int64(expiresAt.timeIntervalSince1970))
        // Strings, ids and integers always encode; were it ever to fail, an empty value simply never verifies.
        return (try? SignedToken(payload).encoded(with: Self.key(secret: secret))) ?? ""
    }

    /// Verifies signature and expiry of the cookie and that it matches the `state` query parameter.
    public static func verify(cookie: String?, state: String?, secret: String, now: Date) -> OAuthState? {
        guard let cookie, let state, !state.isEmpty,
            let payload = SignedToken<Payload>(verifying: cookie, with: key(secret: secret))?.payload
        else { return nil }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(payload.e))
        guard expiresAt > now, ConstantTime.equal(Array(payload.n.utf8), Array(state.utf8)) else { return nil }
        return OAuthState(nonce: payload.n, redirectPath: payload.r, expiresAt: expiresAt)
    }

    private static func key(secret: String) -> SignedTokenKey {
        SignedTokenKey(secret: secret, purpose: tokenPurpose)
    }
}

/// Keeps only redirect targets that stay on the frontend: a local path, or a URL on the frontend's origin.
public enum RedirectTarget {
    public static func safePath(_ requested: String?, frontendURL: URL) -> String? {
        guard let requested, !requested.isEmpty, requested.count <= 2048 else { return nil }
        if requested.hasPrefix("/") {
            // `//host` and `/\host` are protocol-relative in browsers: another origin.
            guard !requested.hasPrefix("//"), !requested.hasPrefix("/\\"), !requested.contains("\\"),
                !requested.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { return nil }
            return requested
        }
        guard let url = URL(string: requested), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(),
            scheme == frontendURL.scheme?.lowercased(), host == frontendURL.host?.lowercased(),
            url.port == frontendURL.port, url.user == nil
        else { return nil }
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        return safePath(path, frontendURL: frontendURL)
    }
}
