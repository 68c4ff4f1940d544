import Foundation
import MediaVaultCore

/// Personal API key secrets: `mvk_` and 256 random bits in base64url. The prefix lets secret scanners and people
/// recognise a leaked key; only the SHA-256 of the whole key is stored (the key is random, so no salt or slow hash
/// is needed: there is nothing to guess).
public enum APIKeySecret {
    public static let prefix = "mvk_"
    /// Characters of the key kept in clear, so a user can tell their keys apart in a list.
    static let visibleLength = prefix.count + 6
    static let encodedLength = 43

    public static func generate() -> String { prefix + RandomToken.generate(byteCount: 32) }

    /// Well-formed: the prefix and exactly the encoded length of 32 bytes in the base64url alphabet. A bearer token
    /// of this shape is taken as a key, anything else as a session token.
    static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.utf8.dropFirst(prefix.utf8.count)
        return body.count == encodedLength
            && body.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            }
    }

    public static func hash(_ key: String) -> [UInt8] { RandomToken.digest(key) }

    static func visiblePrefix(of key: String) -> String { String(key.prefix(visibleLength)) }
}

/// What a new key asks for, checked: the rules of `POST /auth/api-keys`.
struct APIKeyRequest: Equatable {
    static let maxNameLength = 100
    /// Unrevoked keys (expired ones included) a user may hold at once.
    static let maxActiveKeys = 50

    let name: String
    let scopes: [APIScope]
    let expiresAt: Date?

    /// The request as sent, before its rules are applied.
    struct Body: Decodable {
        let name: String
        let scopes: [String]
        /// RFC 3339; parsed here so a bad value is reported by name.
        let expiresAt: String?

        enum CodingKeys: String, CodingKey {
            case name, scopes
            case expiresAt = "expires_at"
        }

        init(name: String, scopes: [String], expiresAt: String?) {
            self.name = name
            self.scopes = scopes
            self.expiresAt = expiresAt
        }
    }

    init(name: String, scopes: [APIScope], expiresAt: Date?) {
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
    }

    init(_ body: Body, now: Date) throws {
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        // Counted as the database counts (code points), so the column's check can never be what refuses a name.
        guard (1...Self.maxNameLength).contains(name.unicodeScalars.count) else {
            throw AppError.invalidArgument(
                "field `name` must be 1-\(Self.maxNameLength) characters", details: ["field": .string("name")])
        }
        guard name.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw AppError.invalidArgument(
                "field `name` must not contain control characters", details: ["field": .string("name")])
        }
        guard !body.scopes.isEmpty else {
            throw AppError.invalidArgument(
                "field `scopes` must name at least one scope", details: ["field": .string("scopes")])
        }
        var scopes: [APIScope] = []
        for raw in body.scopes {
            guard let scope = APIScope(rawValue: raw) else {
                throw AppError.invalidArgument(
                    "unknown scope `\(String(raw.prefix(64)))`; scopes are "
                        + APIScope.allCases.map(\.rawValue).joined(separator: ", "),
                    details: ["field": .string("scopes")])
            }
            guard !scopes.contains(scope) else {
                throw AppError.invalidArgument(
                    "scope `\(raw)` is listed twice", details: ["field": .string("scopes")])
            }
            scopes.append(scope)
        }
        let expiresAt = try body.expiresAt.map { raw -> Date in
            guard let date = RFC3339.date(from: raw) else {
                throw AppError.invalidArgument(
                    "field `expires_at` must be an RFC 3339 timestamp", details: ["field": .string("expires_at")])
            }
            guard date > now else {
                throw AppError.invalidArgument(
                    "field `expires_at` must be in the future", details: ["field": .string("expires_at")])
            }
            return date
        }
        self.init(name: name, scopes: scopes.sorted(), expiresAt: expiresAt)
    }
}

/// A stored key as its owner sees it: never the secret.
struct APIKeyRecord: Sendable, Equatable {
    let id: UUID
    let name: String
    let visiblePrefix: String
    let scopes: [APIScope]
    let createdAt: Date
    let expiresAt: Date?
    let lastUsedAt: Date?
}
