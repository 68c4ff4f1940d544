import Foundation
import MediaVaultCore

/// Proof that a viewer entered a share link's password: a `SignedToken` (`base64url(JSON).base64url(HMAC)`) in a
/// short-lived cookie (the page) or the `X-Share-Unlock` header (custom frontends). Stateless, so every replica
/// accepts it; it names the link and the password hash it was issued for, so revoking the link or changing its
/// password ends it.
struct UnlockPass: Equatable {
    let linkID: UUID
    let passwordFingerprint: String
    let expiresAt: Date

    static let headerName = "X-Share-Unlock"

    static func cookieName(for linkID: UUID) -> String {
        "mv_share_" + linkID.lowercasedString.replacingOccurrences(of: "-", with: "").prefix(16)
    }

    /// Tokens of this purpose verify only as unlock passes.
    static let tokenPurpose = "share-unlock"

    /// Short field names keep the cookie and header small.
    private struct Payload: Codable, Sendable {
        let l: UUID
        let p: String
        let e: Int64
    }

    func encoded(secret: String) -> String {
        let payload = Payload(l: linkID, p: passwordFingerprint, e: Int64(expiresAt.timeIntervalSince1970))
        // Strings, ids and integers always encode; were it ever to fail, an empty value simply never verifies.
        return (try? SignedToken(payload).encoded(with: Self.key(secret: secret))) ?? ""
    }

    /// The pass if `value` is authentic, unexpired and issued for this link and this password.
    static func verify(
        _ value: String?, linkID: UUID, passwordHash: String, secret: String, now: Date
    ) -> UnlockPass? {
        guard let value, let payload = SignedToken<Payload>(verifying: value, with: key(secret: secret))?.payload
        else { return nil }
        let pass = UnlockPass(
            linkID: payload.l, passwordFingerprint: payload.p,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(payload.e)))
        let expectedFingerprint = SharePassword.fingerprint(passwordHash)
        guard pass.linkID == linkID, pass.expiresAt > now,
            ConstantTime.equal(Array(pass.passwordFingerprint.utf8), Array(expectedFingerprint.utf8))
        else { return nil }
        return pass
    }

    private static func key(secret: String) -> SignedTokenKey {
        SignedTokenKey(secret: secret, purpose: tokenPurpose)
    }
}
