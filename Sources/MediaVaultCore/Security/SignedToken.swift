import Crypto
import Foundation

/// The HMAC key for one kind of ``SignedToken``, derived from the application secret and a purpose.
///
/// Each purpose gets its own key, so a token issued for one purpose (say, an OAuth state cookie) never verifies as
/// another (say, a share unlock pass), even when the payloads happen to have the same shape.
public struct SignedTokenKey: Sendable, CustomStringConvertible {
    /// What the key is for; part of the derivation, never secret.
    public let purpose: String

    /// Raw bytes rather than a `SymmetricKey`: swift-crypto's key type is not `Sendable` in the versions this package
    /// allows.
    private let bytes: [UInt8]

    /// Derives the key for `purpose` from `secret` with HKDF-SHA256.
    ///
    /// - Parameters:
    ///   - secret: the application secret the tokens are ultimately bound to.
    ///   - purpose: a short fixed label, such as `"oauth-state"`; different labels give unrelated keys.
    public init(secret: String, purpose: String) {
        self.purpose = purpose
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(secret.utf8)),
            info: Array(("mediavault signed-token v1 " + purpose).utf8),
            outputByteCount: SHA256.byteCount)
        self.bytes = derived.withUnsafeBytes { Array($0) }
    }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// Names the purpose only, so logging a key cannot leak it.
    public var description: String { "SignedTokenKey(purpose: \(purpose))" }
}

/// A payload the client carries and the server trusts when it comes back: `base64url(JSON) "." base64url(HMAC)`.
///
/// The HMAC is HMAC-SHA256 over the first part exactly as sent, under a ``SignedTokenKey``. The payload is signed,
/// not encrypted: put nothing in it the holder must not read. Expiry and any binding to the request are the
/// payload's business; this type only says whether the payload is authentic.
public struct SignedToken<Payload: Codable & Sendable>: Sendable {
    /// The longest token accepted, in UTF-8 bytes. Longer input is refused before any decoding or hashing, so an
    /// attacker cannot make verification do unbounded work.
    public static var maximumLength: Int { 4096 }

    /// The signed content.
    public var payload: Payload

    /// Wraps `payload` for signing with ``encoded(with:)``.
    public init(_ payload: Payload) {
        self.payload = payload
    }

    /// Verifies `token` against `key` and decodes its payload.
    ///
    /// Returns `nil` when the token is longer than ``maximumLength``, is not two base64url parts, carries an HMAC that
    /// `key` did not produce, or does not decode as `Payload`.
    public init?(verifying token: String, with key: SignedTokenKey) {
        guard token.utf8.count <= Self.maximumLength else { return nil }
        let parts = token.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Base64URL.decode(String(parts[1])) else { return nil }
        let body = String(parts[0])
        // The HMAC covers the body as received, so the JSON is only parsed once it is known to be ours.
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: Array(body.utf8), using: key.symmetricKey),
            let json = Base64URL.decode(body),
            let payload = try? JSONDecoder().decode(Payload.self, from: Data(json))
        else { return nil }
        self.payload = payload
    }

    /// The token for ``payload``, signed with `key`.
    ///
    /// - Throws: whatever `JSONEncoder` throws for the payload, e.g. for a non-finite floating-point value.
    public func encoded(with key: SignedTokenKey) throws -> String {
        let json = try JSONEncoder().encode(payload)
        let body = Base64URL.encode(json)
        let signature = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: key.symmetricKey)
        return body + "." + Base64URL.encode(signature)
    }
}

extension SignedToken: Equatable where Payload: Equatable {}
