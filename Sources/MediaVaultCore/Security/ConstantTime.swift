import Crypto
import Foundation

/// Comparison of secrets and tokens whose timing does not reveal where, or whether, they differ.
public enum ConstantTime {
    /// A fresh key per process, so nobody can predict the tags and look for a timing signal in them.
    ///
    /// Raw bytes rather than a `SymmetricKey`: swift-crypto's key type is not `Sendable` in the versions this package
    /// allows, and a static has to be.
    private static let keyBytes: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }

    /// Whether `lhs` and `rhs` hold the same bytes.
    ///
    /// Both sides are reduced to HMAC-SHA256 tags that swift-crypto compares in constant time: only the time spent
    /// hashing depends on the inputs, and then only on their lengths.
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        let key = SymmetricKey(data: keyBytes)
        let tag = Array(HMAC<SHA256>.authenticationCode(for: lhs, using: key))
        return HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: rhs, using: key)
    }
}
