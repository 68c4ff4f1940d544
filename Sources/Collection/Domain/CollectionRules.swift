import Foundation
import MediaVaultCore

/// Validation of what users type into collections and links.
enum CollectionRules {
    static let maxTitleLength = 200
    static let maxDescriptionLength = 5000
    static let maxLabelLength = 100
    static let maxItemsPerOrder = 10_000

    static func title(_ raw: String) throws -> String {
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw AppError.invalidArgument("title is required", details: ["field": "title"]) }
        guard title.count <= maxTitleLength, !hasControlCharacters(title) else {
            throw AppError.invalidArgument(
                "title must be at most \(maxTitleLength) characters without control characters", details: ["field": "title"])
        }
        return title
    }

    static func description(_ raw: String) throws -> String {
        let description = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard description.count <= maxDescriptionLength else {
            throw AppError.invalidArgument(
                "description must be at most \(maxDescriptionLength) characters", details: ["field": "description"])
        }
        return description
    }

    static func label(_ raw: String?) throws -> String? {
        guard let label = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !label.isEmpty else { return nil }
        guard label.count <= maxLabelLength, !hasControlCharacters(label) else {
            throw AppError.invalidArgument("label must be at most \(maxLabelLength) characters", details: ["field": "label"])
        }
        return label
    }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static func uuid(_ raw: String?, notFound: String) throws -> UUID {
        guard let raw, let id = UUID(uuidString: raw) else { throw AppError.notFound(notFound) }
        return id
    }

    /// When a new link expires: the requested moment, the configured default, or never when asked for.
    static func expiry(
        expiresAt: Date?, expiresInDays: Int?, neverExpires: Bool, defaultExpiry: Duration, now: Date
    ) throws -> Date? {
        let given = [expiresAt != nil, expiresInDays != nil, neverExpires].filter { $0 }.count
        guard given <= 1 else {
            throw AppError.invalidArgument("give at most one of expires_at, expires_in_days and never_expires")
        }
        if neverExpires { return nil }
        if let days = expiresInDays {
            guard (1...3650).contains(days) else {
                throw AppError.invalidArgument("expires_in_days must be 1 to 3650", details: ["field": "expires_in_days"])
            }
            return now + TimeInterval(days * 86400)
        }
        if let expiresAt {
            guard expiresAt > now, expiresAt < now + 3650 * 86400 else {
                throw AppError.invalidArgument(
                    "expires_at must be in the future and within 10 years", details: ["field": "expires_at"])
            }
            return expiresAt
        }
        return now + TimeInterval(defaultExpiry.components.seconds)
    }
}
