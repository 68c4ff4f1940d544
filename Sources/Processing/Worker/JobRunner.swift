import Foundation
import Logging
import MediaVaultCore
import ObjectStorage
import Transcoding

/// Turns a claimed job into its outputs; the live one runs ffmpeg (``JobProcessor``).
public protocol JobProcessing: Sendable {
    func process(_ job: ClaimedJob, progress: @escaping @Sendable (Double) -> Void) async throws -> ProcessedMedia
}

/// Runs claimed jobs to an outcome: claim → processing, success → ready + completed, failure → retry with backoff or
/// failed after the last attempt, shutdown → handed back without using up an attempt. Every persistent step goes
/// through the ledger; the runner itself holds the rules.
public struct JobRunner: Sendable {
    public enum Outcome: Sendable, Equatable {
        case succeeded, failed, duplicate, released
        case retry(after: Duration)
    }

    let ledger: any JobLedger
    let processor: any JobProcessing
    /// Removes objects a finished job wrote for media that was deleted while it ran.
    let discard: @Sendable (String) async -> Void
    let workerID: String
    let retryBase: Duration
    let heartbeatInterval: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    public init(
        ledger: any JobLedger, processor: any JobProcessing, discard: @escaping @Sendable (String) async -> Void,
        workerID: String, retryBase: Duration, heartbeatInterval: Duration, metrics: WorkerMetrics, logger: Logger
    ) {
        self.ledger = ledger
        self.processor = processor
        self.discard = discard
        self.workerID = workerID
        self.retryBase = retryBase
        self.heartbeatInterval = heartbeatInterval
        self.metrics = metrics
        self.logger = logger
    }

    /// A delivered job (NSQ): `.duplicate` when it is done or someone else has it.
    public func run(jobID: UUID, touch: (@Sendable () async -> Void)? = nil) async -> Outcome {
        let job: ClaimedJob?
        do {
            job = try await ledger.claim(jobID: jobID, workerID: workerID)
        } catch {
            logger.warning("could not claim job", metadata: ["job_id": "\(jobID)", "error": "\(String(reflecting: error))"])
            return .retry(after: retryBase)
        }
        guard let job else {
            metrics.job(outcome: .duplicate)
            return .duplicate
        }
        return await execute(job, touch: touch)
    }

    /// The next due job from the PostgreSQL queue, or `nil` when there is none.
    public func runNext() async throws -> Outcome? {
        guard let job = try await ledger.claimNext(workerID: workerID) else { return nil }
        return await execute(job, touch: nil)
    }

    func execute(_ job: ClaimedJob, touch: (@Sendable () async -> Void)?) async -> Outcome {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "media_id"] = "\(job.mediaID)"
        logger.info("job started", metadata: ["attempt": "\(job.attempt)/\(job.maxAttempts)"])
        let progress = ProgressBox()
        let heartbeat = Task { [ledger, workerID, heartbeatInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeatInterval)
                if Task.isCancelled { break }
                _ = try? await ledger.heartbeat(jobID: job.id, workerID: workerID, progress: progress.value)
                await touch?()
            }
        }
        defer { heartbeat.cancel() }
        do {
            let result = try await processor.process(job) { progress.value = $0 }
            heartbeat.cancel()
            // Recording runs in its own task: the job's task may be cancelled by now, and the result must still land.
            return await Task { await finish(job, result: result, logger: logger) }.value
        } catch {
            heartbeat.cancel()
            return await Task { await handleFailure(job, error: error, logger: logger) }.value
        }
    }

    func finish(_ job: ClaimedJob, result: ProcessedMedia, logger: Logger) async -> Outcome {
        do {
            if try await ledger.complete(job, result: result) {
                logger.info("job succeeded")
            } else {
                // Deleted while processing: what was just uploaded must not linger.
                for key in result.objectKeys { await discard(key) }
                logger.info("media was deleted during processing; results discarded")
            }
            metrics.job(outcome: .succeeded)
            return .succeeded
        } catch {
            // The database is unreachable: the job stays claimed and the reaper hands it out again.
            logger.error("could not record the job's result", metadata: ["error": "\(String(reflecting: error))"])
            return .retry(after: retryBase)
        }
    }

    func handleFailure(_ job: ClaimedJob, error: any Error, logger: Logger) async -> Outcome {
        let cancelled = error is CancellationError || (error as? TranscodingError) == .cancelled
        do {
            if cancelled {
                try await ledger.release(job)
                logger.notice("job handed back unfinished (shutting down)")
                metrics.job(outcome: .released)
                return .released
            }
            let reason = Self.readableReason(error)
            let permanent = Self.isPermanent(error)
            if permanent || job.isLastAttempt {
                try await ledger.fail(job, reason: reason)
                logger.error(
                    permanent ? "job failed: the file cannot be processed" : "job failed after its last attempt",
                    metadata: ["reason": .string(reason)])
                metrics.job(outcome: .failed)
                return .failed
            }
            let delay = Self.backoff(afterAttempt: job.attempt, base: retryBase)
            try await ledger.retry(job, reason: reason, delay: delay)
            logger.warning("job attempt failed; will retry", metadata: ["reason": .string(reason), "in": "\(delay)"])
            metrics.job(outcome: .retried)
            return .retry(after: delay)
        } catch {
            // The database is unreachable: the job stays claimed and the reaper hands it out again.
            logger.error("could not record the job's outcome", metadata: ["error": "\(String(reflecting: error))"])
            return .retry(after: retryBase)
        }
    }

    /// Exponential: base, 2×base, 4×base … capped at 10 minutes.
    static func backoff(afterAttempt attempt: Int, base: Duration) -> Duration {
        let factor = 1 << min(max(attempt - 1, 0), 16)
        return min(base * factor, .seconds(600))
    }

    /// Failures that another attempt cannot mend: a file ffprobe or ffmpeg cannot decode, without video, of an
    /// unsupported kind, or not the file its uploader declared. Everything else (storage or database unreachable, a
    /// killed or timed-out process) is transient and retried with backoff.
    static func isPermanent(_ error: any Error) -> Bool {
        if error is ContentChecksumMismatch { return true }
        return (error as? TranscodingError)?.isPermanent ?? false
    }

    /// One line a person can act on: ffmpeg's last error line, or what failed.
    static func readableReason(_ error: any Error) -> String {
        switch error {
        case let error as TranscodingError:
            return error.reason
        case let error as ContentChecksumMismatch:
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
