import Foundation
import MediaVaultCore

/// Opaque bearer tokens: 256 random bits, base64url. Only their SHA-256 is stored.
public enum SessionToken {
    public static func generate() -> String { RandomToken.generate() }

    public static func hash(_ token: String) -> [UInt8] { RandomToken.digest(token) }
}
