import Foundation
import MediaVaultCore

/// The persistent steps of running a job, each one atomic: the job row and its media row change together or not at
/// all. The runner decides which step to take; this decides nothing.
public protocol JobLedger: Sendable {
    /// Claims a specific job (an NSQ delivery); `nil` when it is done, failed or someone else has it.
    func claim(jobID: UUID, workerID: String) async throws -> ClaimedJob?
    /// Claims the next due job of the PostgreSQL queue; `nil` when none is due.
    func claimNext(workerID: String) async throws -> ClaimedJob?
    /// Records liveness and progress; `false` when the job is no longer this worker's.
    func heartbeat(jobID: UUID, workerID: String, progress: Double) async throws -> Bool
    /// Records the result and completes the job; `false` when the media was deleted meanwhile (nothing recorded).
    func complete(_ job: ClaimedJob, result: ProcessedMedia) async throws -> Bool
    /// Queues the job again after `delay`.
    func retry(_ job: ClaimedJob, reason: String, delay: Duration) async throws
    /// Fails the job and its media for good.
    func fail(_ job: ClaimedJob, reason: String) async throws
    /// Hands the job back without using up its attempt.
    func release(_ job: ClaimedJob) async throws
}

/// The ledger over PostgreSQL: Processing's job rows and, through the Media module's contract, its media rows, in
/// one transaction per step.
public struct PostgresJobLedger: JobLedger {
    let database: Database
    let jobs: JobRepository
    let media: any MediaProcessingLedger

    public init(database: Database, jobs: JobRepository, media: any MediaProcessingLedger) {
        self.database = database
        self.jobs = jobs
        self.media = media
    }

    public func claim(jobID: UUID, workerID: String) async throws -> ClaimedJob? {
        try await database.transaction { connection in
            guard let job = try await jobs.claim(jobID: jobID, workerID: workerID, on: connection) else { return nil }
            try await media.markProcessing(mediaID: job.mediaID, on: connection)
            return job
        }
    }

    public func claimNext(workerID: String) async throws -> ClaimedJob? {
        try await database.transaction { connection in
            guard let job = try await jobs.claimNext(workerID: workerID, on: connection) else { return nil }
            try await media.markProcessing(mediaID: job.mediaID, on: connection)
            return job
        }
    }

    public func heartbeat(jobID: UUID, workerID: String, progress: Double) async throws -> Bool {
        try await jobs.heartbeat(jobID: jobID, workerID: workerID, progress: progress)
    }

    /// A worker whose claim was taken back (the reaper handed the job to another) records nothing: the media row
    /// belongs to the new claim. Its outputs went to the same keys the new claim writes, so nothing is discarded.
    public func complete(_ job: ClaimedJob, result: ProcessedMedia) async throws -> Bool {
        try await database.transaction { connection in
            // The media row first (with its owner's storage row), as user-side changes lock them.
            guard try await media.lockIfExists(mediaID: job.mediaID, on: connection) else { return false }
            if try await jobs.complete(job, on: connection) {
                try await media.markReady(mediaID: job.mediaID, result: result, on: connection)
            }
            return true
        }
    }

    public func retry(_ job: ClaimedJob, reason: String, delay: Duration) async throws {
        try await database.transaction { connection in
            // Media before job, in the order a deletion (which cascades to the job) takes them.
            let mediaExists = try await media.lockIfExists(mediaID: job.mediaID, on: connection)
            guard try await jobs.retry(job, error: reason, delay: delay, on: connection), mediaExists else { return }
            try await media.markQueued(mediaID: job.mediaID, on: connection)
        }
    }

    public func fail(_ job: ClaimedJob, reason: String) async throws {
        try await database.transaction { connection in
            // Media before job, in the order a deletion (which cascades to the job) takes them.
            let mediaExists = try await media.lockIfExists(mediaID: job.mediaID, on: connection)
            guard try await jobs.fail(job, error: reason, on: connection), mediaExists else { return }
            try await media.markFailed(mediaID: job.mediaID, reason: reason, on: connection)
        }
    }

    public func release(_ job: ClaimedJob) async throws {
        try await database.transaction { connection in
            // Media before job, in the order a deletion (which cascades to the job) takes them.
            let mediaExists = try await media.lockIfExists(mediaID: job.mediaID, on: connection)
            guard try await jobs.release(job, on: connection), mediaExists else { return }
            try await media.markQueued(mediaID: job.mediaID, on: connection)
        }
    }
}
