import Foundation
import Logging
import NSQ
import Processing
import ServiceLifecycle

/// Claims jobs straight from PostgreSQL (the embedded default, without NSQ). On graceful shutdown it stops
/// claiming; a running job gets `grace` to finish, after which it is cancelled and handed back.
struct PostgresQueueService: Service {
    let runner: JobRunner
    let concurrency: Int
    let pollInterval: Duration
    let grace: Duration
    let logger: Logger

    func run() async throws {
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
struct NSQConsumerService: Service {
    let runner: JobRunner
    let addresses: [String]
    let concurrency: Int
    let grace: Duration
    let logger: Logger

    struct JobMessage: Decodable {
        let jobID: UUID
        enum CodingKeys: String, CodingKey { case jobID = "job_id" }
    }

    func run() async throws {
        let configuration = NSQConsumerConfiguration(
            topic: ProcessingTopic.mediaUploaded, channel: ProcessingTopic.workerChannel, addresses: addresses,
            maxInFlight: concurrency, clientID: "mediavault-worker", messageTimeout: .seconds(60),
            drainTimeout: grace)
        let runner = self.runner
        let logger = self.logger
        let consumer = NSQConsumer(configuration: configuration, logger: logger) { message in
            guard let job = try? JSONDecoder().decode(JobMessage.self, from: Data(message.bodyBytes)) else {
                logger.error("dropping a message that names no job", metadata: ["message_id": "\(message.id)"])
                return .finish
            }
            switch await runner.run(jobID: job.jobID, touch: { try? await message.touch() }) {
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
