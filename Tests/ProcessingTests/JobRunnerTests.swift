import Foundation
import Logging
import MediaVaultCore
import Prometheus
import Testing
import Transcoding

@testable import Processing

/// The runner's rules against an in-memory ledger: every outcome, and exactly which persistent step each one takes.
@Suite struct JobRunnerTests {
    static let outputs = ProcessingOutputKeys(
        processed: "processed/x.mp4", compatibility: "processed/x.h264.mp4", thumbnail: "thumbnails/x.jpg",
        preview: "previews/x.jpg")

    static func job(attempt: Int = 1, maxAttempts: Int = 5) -> ClaimedJob {
        ClaimedJob(
            id: UUID(), mediaID: UUID(), ownerID: UUID(), objectKey: "original/u/m/clip.mp4", mimeType: "video/mp4",
            outputs: outputs, attempt: attempt, maxAttempts: maxAttempts, workerID: "worker-1")
    }

    static func runner(
        ledger: FakeLedger, processor: FakeProcessor, discarded: DiscardLog = DiscardLog(),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) -> JobRunner {
        JobRunner(
            ledger: ledger, processor: processor, discard: { await discarded.append($0) }, workerID: "worker-1",
            retryBase: .seconds(30), heartbeatInterval: .seconds(60), metrics: WorkerMetrics(registry: registry),
            logger: Logger(label: "job-runner-test"))
    }

    @Test func successRecordsTheResultAndCompletes() async throws {
        let job = Self.job()
        let ledger = FakeLedger(claimable: job)
        let result = ProcessedMedia(processedKey: Self.outputs.processed, thumbnailKey: Self.outputs.thumbnail)
        let runner = Self.runner(ledger: ledger, processor: FakeProcessor(.success(result)))
        #expect(await runner.run(jobID: job.id) == .succeeded)
        #expect(await ledger.steps == [.claim(job.id), .complete(job.id, result)])
    }

    @Test func aTransientFailureRetriesWithBackoff() async throws {
        let job = Self.job(attempt: 3)
        let ledger = FakeLedger(claimable: job)
        let runner = Self.runner(ledger: ledger, processor: FakeProcessor(.failure(TranscodingError.timedOut)))
        // Third attempt: base × 2² = 120 s.
        #expect(await runner.run(jobID: job.id) == .retry(after: .seconds(120)))
        #expect(await ledger.steps == [.claim(job.id), .retry(job.id, "timed out", .seconds(120))])
    }

    @Test func theLastAttemptFailsTheJobWithItsReason() async throws {
        let job = Self.job(attempt: 5, maxAttempts: 5)
        let ledger = FakeLedger(claimable: job)
        let reason = TranscodingError.ffmpegFailed.with(reason: "moov atom not found")
        let runner = Self.runner(ledger: ledger, processor: FakeProcessor(.failure(reason)))
        #expect(await runner.run(jobID: job.id) == .failed)
        #expect(await ledger.steps == [.claim(job.id), .fail(job.id, "moov atom not found")])
    }

    @Test func mediaDeletedDuringProcessingDiscardsTheOutputs() async throws {
        let job = Self.job()
        let ledger = FakeLedger(claimable: job, mediaExists: false)
        let discarded = DiscardLog()
        let result = ProcessedMedia(processedKey: Self.outputs.processed, thumbnailKey: Self.outputs.thumbnail)
        let runner = Self.runner(ledger: ledger, processor: FakeProcessor(.success(result)), discarded: discarded)
        #expect(await runner.run(jobID: job.id) == .succeeded)
        #expect(await discarded.keys == [Self.outputs.processed, Self.outputs.thumbnail])
    }

    @Test func shutdownHandsTheJobBackWithoutUsingAnAttempt() async throws {
        for error in [CancellationError() as any Error, TranscodingError.cancelled] {
            let job = Self.job(attempt: 5, maxAttempts: 5)
            let ledger = FakeLedger(claimable: job)
            let runner = Self.runner(ledger: ledger, processor: FakeProcessor(.failure(error)))
            // Even on the last attempt: a shutdown is not the job's fault.
            #expect(await runner.run(jobID: job.id) == .released)
            #expect(await ledger.steps == [.claim(job.id), .release(job.id)])
        }
    }

    @Test func aJobSomeoneElseHasIsADuplicate() async throws {
        let ledger = FakeLedger(claimable: nil)
        let processor = FakeProcessor(.success(ProcessedMedia()))
        let runner = Self.runner(ledger: ledger, processor: processor)
        let jobID = UUID()
        #expect(await runner.run(jobID: jobID) == .duplicate)
        #expect(await ledger.steps == [.claim(jobID)])
        #expect(await processor.calls == 0)
    }

    @Test func anUnreachableDatabaseLeavesTheJobForTheReaper() async throws {
        let job = Self.job()
        let ledger = FakeLedger(claimable: job, failing: true)
        let runner = Self.runner(ledger: ledger, processor: FakeProcessor(.success(ProcessedMedia())))
        #expect(await runner.run(jobID: job.id) == .retry(after: .seconds(30)))
    }

    @Test func theQueueRunnerReportsAnEmptyQueue() async throws {
        let runner = Self.runner(ledger: FakeLedger(claimable: nil), processor: FakeProcessor(.success(ProcessedMedia())))
        #expect(try await runner.runNext() == nil)
    }

    @Test func outcomesAreCounted() async throws {
        let registry = PrometheusCollectorRegistry()
        let job = Self.job(attempt: 5, maxAttempts: 5)
        let runner = Self.runner(
            ledger: FakeLedger(claimable: job), processor: FakeProcessor(.failure(TranscodingError.invalidInput)),
            registry: registry)
        _ = await runner.run(jobID: job.id)
        let metrics = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        #expect(metrics.contains(#"mediavault_jobs_total{outcome="failed"} 1"#))
    }

    @Test func backoffDoublesAndIsCapped() {
        #expect(JobRunner.backoff(afterAttempt: 1, base: .seconds(30)) == .seconds(30))
        #expect(JobRunner.backoff(afterAttempt: 2, base: .seconds(30)) == .seconds(60))
        #expect(JobRunner.backoff(afterAttempt: 4, base: .seconds(30)) == .seconds(240))
        #expect(JobRunner.backoff(afterAttempt: 6, base: .seconds(30)) == .seconds(600))
        #expect(JobRunner.backoff(afterAttempt: 60, base: .seconds(30)) == .seconds(600))
        #expect(JobRunner.backoff(afterAttempt: 0, base: .seconds(30)) == .seconds(30))
    }
}

/// Persistent steps as the runner asked for them.
enum LedgerStep: Equatable {
    case claim(UUID)
    case complete(UUID, ProcessedMedia)
    case retry(UUID, String, Duration)
    case fail(UUID, String)
    case release(UUID)
}

struct LedgerUnavailable: Error {}

actor FakeLedger: JobLedger {
    let claimable: ClaimedJob?
    let mediaExists: Bool
    /// Claims work, every later step throws: the database went away while the job ran.
    let failing: Bool
    private(set) var steps: [LedgerStep] = []

    init(claimable: ClaimedJob?, mediaExists: Bool = true, failing: Bool = false) {
        self.claimable = claimable
        self.mediaExists = mediaExists
        self.failing = failing
    }

    private func record(_ step: LedgerStep) throws {
        steps.append(step)
        if case .claim = step { return }
        if failing { throw LedgerUnavailable() }
    }

    func claim(jobID: UUID, workerID: String) async throws -> ClaimedJob? {
        try record(.claim(jobID))
        return claimable?.id == jobID ? claimable : nil
    }

    func claimNext(workerID: String) async throws -> ClaimedJob? {
        guard let claimable else { return nil }
        try record(.claim(claimable.id))
        return claimable
    }

    func heartbeat(jobID: UUID, workerID: String, progress: Double) async throws -> Bool { true }

    func complete(_ job: ClaimedJob, result: ProcessedMedia) async throws -> Bool {
        guard mediaExists else { return false }
        try record(.complete(job.id, result))
        return true
    }

    func retry(_ job: ClaimedJob, reason: String, delay: Duration) async throws {
        try record(.retry(job.id, reason, delay))
    }

    func fail(_ job: ClaimedJob, reason: String) async throws { try record(.fail(job.id, reason)) }

    func release(_ job: ClaimedJob) async throws { try record(.release(job.id)) }
}

actor FakeProcessor: JobProcessing {
    let outcome: Result<ProcessedMedia, any Error>
    private(set) var calls = 0

    init(_ outcome: Result<ProcessedMedia, any Error>) {
        self.outcome = outcome
    }

    func process(_ job: ClaimedJob, progress: @escaping @Sendable (Double) -> Void) async throws -> ProcessedMedia {
        calls += 1
        progress(50)
        return try outcome.get()
    }
}

actor DiscardLog {
    private(set) var keys: [String] = []
    func append(_ key: String) { keys.append(key) }
}
