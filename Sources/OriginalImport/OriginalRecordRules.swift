import Foundation
import MediaVaultCore

/// What each of the original's rows becomes in MediaVault. Pure, so every rule is unit-tested without a database.
enum OriginalRecordRules {
    /// A row that cannot be imported, with the reason the summary shows.
    struct Refusal: Error, Equatable {
        let reason: String
    }

    static func user(_ row: OriginalUserRow) -> Result<OriginalUser, Refusal> {
        guard let discordID = row.discordID?.trimmingCharacters(in: .whitespaces), !discordID.isEmpty else {
            return .failure(Refusal(reason: "user \(row.id): no Discord id"))
        }
        let username = row.username?.trimmingCharacters(in: .whitespaces) ?? ""
        return .success(
            OriginalUser(
                originalID: row.id, discordID: discordID, username: username.isEmpty ? discordID : username,
                avatarURL: row.avatarURL, createdAt: row.createdAt))
    }

    /// The state an item gets here: uploads in progress stay uploads (confirmable until the abandoned-upload sweep
    /// takes them); anything not finished, failed, or "ready" without a processed file goes through processing.
    static func status(original: String, hasProcessedKey: Bool) -> MediaStatus? {
        switch original.lowercased() {
        case "uploading": return .uploading
        case "queued", "processing", "failed": return .queued
        case "ready": return hasProcessedKey ? .ready : .queued
        default: return nil
        }
    }

    static func media(_ row: OriginalMediaRow, owner: UUID?, now: Date) -> Result<OriginalMediaItem, Refusal> {
        let label = "media \(row.id.uuidString.lowercased())"
        guard let key = row.originalKey?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
            return .failure(Refusal(reason: "\(label): no s3_key_original"))
        }
        guard let ownerID = row.ownerID else { return .failure(Refusal(reason: "\(label): no owner")) }
        guard let owner else {
            return .failure(Refusal(reason: "\(label): owner \(ownerID) is not one of the original's users"))
        }
        let processedKey = row.processedKey.flatMap { $0.isEmpty ? nil : $0 }
        guard let status = status(original: row.status ?? "", hasProcessedKey: processedKey != nil) else {
            return .failure(Refusal(reason: "\(label): unknown status \(String(reflecting: row.status ?? ""))"))
        }
        let filename = nonEmpty(row.originalFilename) ?? key.split(separator: "/").last.map(String.init) ?? "file"
        return .success(
            OriginalMediaItem(
                id: row.id, ownerID: owner, title: nonEmpty(row.title) ?? filename, originalFilename: filename,
                objectKey: key, processedKey: status == .ready ? processedKey : nil,
                mimeType: nonEmpty(row.mimeType)?.lowercased() ?? "application/octet-stream",
                sizeBytes: max(0, row.sizeBytes ?? 0), durationSeconds: row.durationSeconds.flatMap { $0 > 0 ? $0 : nil },
                status: status, createdAt: row.createdAt ?? now))
    }

    static func tagging(_ row: OriginalTaggingRow) -> Result<OriginalTagging, Refusal> {
        guard let name = nonEmpty(row.name) else {
            return .failure(Refusal(reason: "tag \(row.tagID) on media \(row.mediaID.uuidString.lowercased()): no such tag"))
        }
        return .success(OriginalTagging(mediaID: row.mediaID, tag: name))
    }

    /// Same id and token; a collection without a token (the original allowed NULL) gets a fresh one.
    static func collection(_ row: OriginalCollectionRow, owner: UUID?, now: Date) -> Result<OriginalCollection, Refusal> {
        let label = "collection \(row.id.uuidString.lowercased())"
        guard let ownerID = row.ownerID else { return .failure(Refusal(reason: "\(label): no owner")) }
        guard let owner else {
            return .failure(Refusal(reason: "\(label): owner \(ownerID) is not one of the original's users"))
        }
        return .success(
            OriginalCollection(
                id: row.id, ownerID: owner, title: nonEmpty(row.title) ?? "Untitled", description: row.description ?? "",
                isPublic: row.isPublic ?? false, shareToken: nonEmpty(row.shareToken) ?? RandomToken.generate(),
                createdAt: row.createdAt ?? now))
    }

    static func item(_ row: OriginalCollectionItemRow, now: Date) -> OriginalCollectionItem {
        OriginalCollectionItem(collectionID: row.collectionID, mediaID: row.mediaID, addedAt: row.addedAt ?? now)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        return trimmed
    }
}
