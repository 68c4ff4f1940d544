import Foundation
import Logging
import Media
import MediaVaultCore
import ObjectStorage
import Processing
import Transcoding

/// Runs claimed jobs to an outcome, keeping the job row and the media row in step in one transaction per change:
/// claim → processing, success → ready + completed, failure → retry with backoff or failed after the last attempt,
/// shutdown → handed back without using up an attempt.
struct JobRunner: Sendable {
    enum Outcome: Sendable, Equatable {
        case succeeded, failed, duplicate, released
        case retry(after: Duration)
    }

    let database: Database
    let jobs: JobRepository
    let media: MediaProcessingRecorder
    let processor: JobProcessor
    let store: any ObjectStore
    let workerID: String
    let retryBase: Duration
    let heartbeatInterval: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    /// A delivered job (NSQ): `.duplicate` when it is done or someone else has it.
    func run(jobID: UUID, touch: (@Sendable () async -> Void)? = nil) async -> Outcome {
        do {
            let job = try await database.transaction { connection -> ClaimedJob? in
                guard let job = try await jobs.claim(jobID: jobID, workerID: workerID, on: connection) else { return nil }
                try await media.markProcessing(mediaID: job.mediaID, on: connection)
                return job
            }
            guard let job else {
                metrics.job(outcome: "duplicate")
                return .duplicate
            }
            return await execute(job, touch: touch)
        } catch {
            logger.warning("could not claim job", metadata: ["job_id": "\(jobID)", "error": "\(String(reflecting: error))"])
            return .retry(after: retryBase)
        }
    }

    /// The next due job from the PostgreSQL queue, or `nil` when there is none.
    func runNext() async throws -> Outcome? {
        let job = try await database.transaction { connection -> ClaimedJob? in
            guard let job = try await jobs.claimNext(workerID: workerID, on: connection) else { return nil }
            try await media.markProcessing(mediaID: job.mediaID, on: connection)
            return job
        }
        guard let job else { return nil }
        return await execute(job, touch: nil)
    }

    func execute(_ job: ClaimedJob, touch: (@Sendable () async -> Void)?) async -> Outcome {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "media_id"] = "\(job.mediaID)"
        logger.info("job started", metadata: ["attempt": "\(job.attempt)/\(job.maxAttempts)"])
        let progress = ProgressBox()
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeatInterval)
                if Task.isCancelled { break }
                _ = try? await jobs.heartbeat(jobID: job.id, workerID: workerID, progress: progress.value)
                await touch?()
            }
        }
        defer { heartbeat.cancel() }
        do {
            let result = try await processor.process(job) { progress.value = $0 }
            heartbeat.cancel()
            // Cleanup writes run in their own task: the job's task may be cancelled by now.
            return try await Task { try await finish(job, result: result, logger: logger) }.value
        } catch {
            heartbeat.cancel()
            return await Task { await handleFailure(job, error: error, logger: logger) }.value
        }
    }

    func finish(_ job: ClaimedJob, result: ProcessedMedia, logger: Logger) async throws -> Outcome {
        let stillThere = try await database.transaction { connection -> Bool in
            guard try await media.exists(mediaID: job.mediaID, on: connection) else { return false }
            try await media.markReady(mediaID: job.mediaID, result: result, on: connection)
            try await jobs.complete(jobID: job.id, on: connection)
            return true
        }
        if !stillThere {
            // Deleted while processing: what was just uploaded must not linger.
            for key in [result.processedKey, result.thumbnailKey].compactMap({ $0 }) {
                try? await store.delete(ObjectKey(key))
            }
            logger.info("media was deleted during processing; results discarded")
        } else {
            logger.info("job succeeded")
        }
        metrics.job(outcome: "succeeded")
        return .succeeded
    }

    func handleFailure(_ job: ClaimedJob, error: any Error, logger: Logger) async -> Outcome {
        let cancelled = error is CancellationError || (error as? TranscodingError) == .cancelled
        do {
            if cancelled {
                try await database.transaction { connection in
                    try await jobs.release(jobID: job.id, on: connection)
                    try await media.markQueued(mediaID: job.mediaID, on: connection)
                }
                logger.notice("job handed back unfinished (shutting down)")
                metrics.job(outcome: "released")
                return .released
            }
            let reason = Self.readableReason(error)
            if job.attempt >= job.maxAttempts {
                try await database.transaction { connection in
                    try await jobs.fail(jobID: job.id, error: reason, on: connection)
                    try await media.markFailed(mediaID: job.mediaID, reason: reason, on: connection)
                }
                logger.error("job failed after its last attempt", metadata: ["reason": .string(reason)])
                metrics.job(outcome: "failed")
                return .failed
            }
            let delay = backoff(afterAttempt: job.attempt)
            try await database.transaction { connection in
                try await jobs.retry(jobID: job.id, error: reason, delay: delay, on: connection)
                try await media.markQueued(mediaID: job.mediaID, on: connection)
            }
            logger.warning("job attempt failed; will retry", metadata: ["reason": .string(reason), "in": "\(delay)"])
            metrics.job(outcome: "retried")
            return .retry(after: delay)
        } catch {
            // The database is unreachable: the job stays claimed and the reaper hands it out again.
            logger.error("could not record the job's outcome", metadata: ["error": "\(String(reflecting: error))"])
            return .retry(after: retryBase)
        }
    }

    /// Exponential: base, 2×base, 4×base … capped at 10 minutes.
    func backoff(afterAttempt attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt - 1, 0), 16)
        return min(retryBase * factor, .seconds(600))
    }

    /// One line a person can act on: ffmpeg's last error line, or what failed.
    static func readableReason(_ error: any Error) -> String {
        switch error {
        case let error as TranscodingError:
            return error.reason
        case let error as S3Error:
            return "storage error: \(error.code.rawValue)"
        case let error as ObjectStorageError:
            return ObjectStorageError.isNotFound(error) ? "the uploaded file is missing from storage" : "storage error: \(error)"
        default:
            return String(describing: error).prefix(300).description
        }
    }
}

/// The latest progress percentage, written by ffmpeg's reader thread and read by the heartbeat.
final class ProgressBox: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Double = 0

    var value: Double {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
