import Crypto
import Foundation
import MediaVaultCore

/// Proof that a viewer entered a share link's password: `base64url(payload).base64url(HMAC)`, carried in a
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

    private struct Payload: Codable {
        let l: UUID
        let p: String
        let e: Int64
    }

    func encoded(secret: String) -> String {
        let payload = Payload(l: linkID, p: passwordFingerprint, e: Int64(expiresAt.timeIntervalSince1970))
        let body = Base64URL.encode((try? JSONEncoder().encode(payload)) ?? Data())
        return body + "." + Base64URL.encode(Self.mac(body, secret: secret))
    }

    /// The pass if `value` is authentic, unexpired and issued for this link and this password.
    static func verify(
        _ value: String?, linkID: UUID, passwordHash: String, secret: String, now: Date
    ) -> UnlockPass? {
        guard let value, value.utf8.count < 1024 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Base64URL.decode(String(parts[1])) else { return nil }
        let body = String(parts[0])
        guard ConstantTime.equal(signature, mac(body, secret: secret)), let json = Base64URL.decode(body),
            let payload = try? JSONDecoder().decode(Payload.self, from: Data(json))
        else { return nil }
        let pass = UnlockPass(
            linkID: payload.l, passwordFingerprint: payload.p, expiresAt: Date(timeIntervalSince1970: TimeInterval(payload.e)))
        guard pass.linkID == linkID, pass.expiresAt > now,
            ConstantTime.equal(Array(pass.passwordFingerprint.utf8), Array(SharePassword.fingerprint(passwordHash).utf8))
        else { return nil }
        return pass
    }

    private static func mac(_ body: String, secret: String) -> [UInt8] {
        let key = SymmetricKey(data: Data(("share-unlock:" + secret).utf8))
        return Array(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: key))
    }
}
