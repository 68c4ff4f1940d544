import Foundation
import Logging
import MediaVaultCore
import ObjectStorage
import ServiceLifecycle

/// Removes objects of deleted media and abandoned uploads, retrying failures from `media.pending_deletions`,
/// so storage never keeps an orphan.
public struct StorageJanitor: Service {
    let repository: MediaRepository
    let store: any ObjectStore
    let interval: Duration
    let abandonedUploadAge: Duration
    let logger: Logger
    let startup: StartupGate

    public init(
        repository: MediaRepository, store: any ObjectStore, interval: Duration, abandonedUploadAge: Duration,
        startup: StartupGate = StartupGate(open: true), logger: Logger
    ) {
        self.startup = startup
        self.repository = repository
        self.store = store
        self.interval = interval
        self.abandonedUploadAge = abandonedUploadAge
        self.logger = logger
    }

    public func run() async throws {
        try await PeriodicService(startup: startup) {
            await runOnce()
            return interval
        }.run()
    }

    /// One sweep: expire abandoned uploads, then work through due deletions.
    public func runOnce() async {
        do {
            for upload in try await repository.abandonedUploads(olderThan: abandonedUploadAge, limit: 100) {
                let pending = try await repository.delete(mediaID: upload.mediaID, ownerID: upload.ownerID)
                logger.info("removed abandoned upload", metadata: ["media_id": "\(upload.mediaID)"])
                await remove(pending)
            }
            await remove(try await repository.dueDeletions(limit: 200))
        } catch {
            logger.warning("storage sweep failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Removes each object (aborting its multipart upload first); failures stay recorded for a later sweep.
    public func remove(_ deletions: [PendingDeletion]) async {
        for deletion in deletions {
            do {
                let key = try ObjectKey(deletion.objectKey)
                if let uploadID = deletion.multipartUploadID {
                    try await store.abortMultipartUpload(for: key, uploadID: MultipartUploadID(uploadID))
                }
                try await store.delete(key)
                try await repository.finishDeletion(id: deletion.id)
            } catch {
                logger.warning(
                    "object deletion failed; will retry",
                    metadata: ["key": .string(deletion.objectKey), "error": "\(error)"])
                try? await repository.postponeDeletion(id: deletion.id, error: "\(error)")
            }
        }
    }
}
