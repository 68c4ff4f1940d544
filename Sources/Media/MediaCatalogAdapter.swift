import Foundation
import MediaVaultCore

/// The Media module's answer to `MediaCatalog`, over its own tables.
struct MediaCatalogAdapter: MediaCatalog {
    let repository: MediaRepository

    func mediaOwned(by ownerID: UUID, among ids: [UUID]) async throws -> Set<UUID> {
        try await repository.ownedIDs(ownerID: ownerID, among: ids)
    }

    func confirmedMedia(among ids: [UUID]) async throws -> Set<UUID> {
        try await repository.confirmedIDs(among: ids)
    }

    func summaries(of ids: [UUID]) async throws -> [UUID: MediaSummary] {
        var summaries: [UUID: MediaSummary] = [:]
        for record in try await repository.withRenditions(try await repository.records(ids: ids)) {
            summaries[record.id] = MediaSummary(
                id: record.id, ownerID: record.ownerID, title: record.title, originalFilename: record.originalFilename,
                mimeType: record.mimeType, sizeBytes: record.sizeBytes, durationSeconds: record.durationSeconds,
                width: record.width, height: record.height, status: record.status, tags: record.tags,
                createdAt: record.createdAt, originalKey: record.objectKey, processedKey: record.processedKey,
                thumbnailKey: record.thumbnailKey, previewKey: record.previewKey, renditions: record.renditions,
                capture: record.capture)
        }
        return summaries
    }
}
