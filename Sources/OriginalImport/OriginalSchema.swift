import Foundation

/// The four services of the original backend, each with its own database there (one database holding every table
/// works as well).
public enum OriginalService: String, Sendable, CaseIterable, Comparable {
    case auth, media, collection, processing

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The processing service's jobs are only counted (its media are queued again from their own state), so an
    /// import may go without that database.
    var isRequired: Bool { self != .processing }
}

/// A table of the original's schema as its migrations created it, with the columns the import reads.
struct OriginalTable: Sendable {
    let name: String
    let service: OriginalService
    let columns: [String]

    var qualifiedName: String { "public.\(name)" }

    static let users = OriginalTable(
        name: "users", service: .auth, columns: ["id", "discord_id", "username", "avatar_url", "created_at"])
    static let media = OriginalTable(
        name: "media", service: .media,
        columns: [
            "id", "owner_id", "title", "original_filename", "s3_key_original", "s3_key_processed", "mime_type",
            "size_bytes", "duration_seconds", "status", "created_at",
        ])
    static let tags = OriginalTable(name: "tags", service: .media, columns: ["id", "name"])
    static let mediaTags = OriginalTable(name: "media_tags", service: .media, columns: ["media_id", "tag_id"])
    static let collections = OriginalTable(
        name: "collections", service: .collection,
        columns: ["id", "owner_id", "title", "description", "is_public", "share_token", "created_at"])
    static let collectionItems = OriginalTable(
        name: "collection_items", service: .collection, columns: ["collection_id", "media_id", "added_at"])
    static let processingJobs = OriginalTable(
        name: "processing_jobs", service: .processing, columns: ["id", "media_id", "status"])

    static let all = [users, media, tags, mediaTags, collections, collectionItems, processingJobs]

    /// What is wrong with the table given the columns found (`nil`: the table does not exist), or nil when it fits.
    func problem(foundColumns: Set<String>?, databaseName: String) -> String? {
        guard let foundColumns else {
            return "\(service.rawValue) database \(databaseName): table \(qualifiedName) does not exist"
                + " (is this the original's \(service.rawValue) database?)"
        }
        let missing = columns.filter { !foundColumns.contains($0) }
        guard !missing.isEmpty else { return nil }
        return "\(service.rawValue) database \(databaseName): table \(qualifiedName) has no column"
            + (missing.count == 1 ? " " : "s ") + missing.joined(separator: ", ")
    }
}
