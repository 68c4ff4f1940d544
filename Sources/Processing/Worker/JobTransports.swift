import Foundation
import Logging
import MediaVaultCore
import NSQ
import ServiceLifecycle

/// Claims jobs straight from PostgreSQL (the embedded default, without NSQ). On graceful shutdown it stops
/// claiming; a running job gets `grace` to finish, after which it is cancelled and handed back.
public struct PostgresQueueService: Service {
    let runner: JobRunner
    let concurrency: Int
    let pollInterval: Duration
    let grace: Duration
    let logger: Logger

    public init(runner: JobRunner, concurrency: Int, pollInterval: Duration, grace: Duration, logger: Logger) {
        self.runner = runner
        self.concurrency = concurrency
        self.pollInterval = pollInterval
        self.grace = grace
        self.logger = logger
    }

    public func run() async throws {
        await runUntilDrained(grace: grace, logger: logger) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while !Task.isShuttingDownGracefully && !Task.isCancelled {
                            do {
                                if try await runner.runNext() == nil { try? await Task.sleep(for: pollInterval) }
                            } catch {
                                logger.warning("job queue unavailable", metadata: ["error": "\(String(reflecting: error))"])
                                try? await Task.sleep(for: pollInterval * 5)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Consumes `media-uploaded` on channel `processing-worker`. Each message names a job row; the row decides.
public struct NSQConsumerService: Service {
    let runner: JobRunner
    let addresses: [String]
    let concurrency: Int
    let grace: Duration
    let logger: Logger

    public init(runner: JobRunner, addresses: [String], concurrency: Int, grace: Duration, logger: Logger) {
        self.runner = runner
        self.addresses = addresses
        self.concurrency = concurrency
        self.grace = grace
        self.logger = logger
    }

    public func run() async throws {
        let configuration = NSQConsumerConfiguration(
            topic: ProcessingTopic.mediaUploaded, channel: ProcessingTopic.workerChannel, addresses: addresses,
            maxInFlight: concurrency, clientID: "mediavault-worker", messageTimeout: .seconds(60),
            drainTimeout: grace)
        let runner = self.runner
        let logger = self.logger
        let consumer = NSQConsumer(configuration: configuration, logger: logger) { message in
            guard let jobID = JobMessage.jobID(in: message.bodyBytes) else {
                logger.error("dropping a message that names no job", metadata: ["message_id": "\(message.id)"])
                return .finish
            }
            switch await runner.run(jobID: jobID, touch: { try? await message.touch() }) {
            case .succeeded, .failed, .duplicate:
                return .finish
            case .retry(let delay):
                return .requeue(delay: delay)
            case .released:
                return .requeueWithoutBackoff(delay: .zero)
            }
        }
        try await withGracefulShutdownHandler {
            try await consumer.run()
        } onGracefulShutdown: {
            consumer.shutdown()
        }
    }
}

/// Samples the queue lag for `/metrics` every ten seconds.
public struct QueueLagSampler: Service {
    let jobs: JobRepository
    let metrics: WorkerMetrics

    public init(jobs: JobRepository, metrics: WorkerMetrics) {
        self.jobs = jobs
        self.metrics = metrics
    }

    public func run() async throws {
        try await PeriodicService {
            if let lag = try? await jobs.queueLagSeconds() { metrics.queueLag(lag) }
            return .seconds(10)
        }.run()
    }
}

/// Runs `work` until it returns; after a graceful shutdown starts, waits at most `grace` before cancelling it.
func runUntilDrained(grace: Duration, logger: Logger, _ work: @escaping @Sendable () async -> Void) async {
    struct GraceExpired: Error {}
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await work() }
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: grace)
                throw GraceExpired()
            }
            try await group.next()
            group.cancelAll()
        }
    } catch is GraceExpired {
        logger.warning("shutdown grace period over: handing unfinished jobs back")
    } catch {
        // Cancelled: the work's own cancellation handling has handed its jobs back.
    }
}
