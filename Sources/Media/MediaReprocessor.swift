import Foundation
import Logging
import MediaVaultCore

/// Sends media through processing again after a change of settings, by the normal queue: each item gets a job and
/// an outbox message in one transaction, exactly as a confirmed upload does.
public struct MediaReprocessor: Sendable {
    public struct Summary: Sendable, Equatable {
        /// Items given a new job.
        public var queued = 0
        /// Items that were already being processed (their job will use the new settings anyway).
        public var skipped = 0
        public var total = 0
    }

    let repository: MediaRepository
    let scheduler: any ProcessingScheduler
    let batchSize: Int

    public init(repository: MediaRepository, scheduler: any ProcessingScheduler, batchSize: Int = 200) {
        self.repository = repository
        self.scheduler = scheduler
        self.batchSize = batchSize
    }

    /// Queues every item of `selection`; `progress` sees the running summary after each item.
    public func run(_ selection: ReprocessSelection, progress: (Summary) -> Void) async throws -> Summary {
        var summary = Summary(total: try await repository.reprocessCount(selection))
        var cursor: UUID?
        while true {
            let batch = try await repository.reprocessBatch(selection, after: cursor, limit: batchSize)
            guard let last = batch.last else { break }
            for media in batch {
                do {
                    try await repository.requeue(media, scheduler: scheduler)
                    summary.queued += 1
                } catch let error as AppError where error.code == .failedPrecondition {
                    // Claimed or queued since the batch was read.
                    summary.skipped += 1
                }
                progress(summary)
            }
            cursor = last.id
        }
        return summary
    }
}
