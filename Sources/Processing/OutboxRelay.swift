import Foundation
import Logging
import MediaVaultCore
import NSQ
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// Publishes outbox rows to NSQ in batches and marks them sent, in one transaction per batch: a row is marked only
/// after nsqd answered `OK`, and while nsqd is unreachable rows simply wait. Rows are locked with SKIP LOCKED, so
/// several gateway replicas never send the same row. Also returns jobs of vanished workers to the queue.
///
/// Without NSQ the job rows are the queue (workers claim them directly); the relay then only marks rows handled.
public struct OutboxRelay: Service {
    let database: Database
    let jobs: JobRepository
    let producer: NSQProducer?
    let registry: PrometheusCollectorRegistry
    let pollInterval: Duration
    let staleAfter: Duration
    let batchSize: Int
    let startup: StartupGate
    let logger: Logger

    public init(
        database: Database, jobs: JobRepository, producer: NSQProducer?, registry: PrometheusCollectorRegistry,
        pollInterval: Duration = .milliseconds(500), staleAfter: Duration = .seconds(90), batchSize: Int = 100,
        startup: StartupGate = StartupGate(open: true), logger: Logger
    ) {
        self.startup = startup
        self.database = database
        self.jobs = jobs
        self.producer = producer
        self.registry = registry
        self.pollInterval = pollInterval
        self.staleAfter = staleAfter
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Carried between ticks: the current pause after failures and when stale jobs were last reaped.
    struct LoopState: Sendable {
        var backoff: Duration
        var lastReap: ContinuousClock.Instant
    }

    public func run() async throws {
        // Graceful shutdown interrupts the pause; a batch cut short by it was rolled back and its rows stay pending.
        let initial = LoopState(backoff: pollInterval, lastReap: ContinuousClock.now - .seconds(3600))
        try await PeriodicService(
            initialState: initial, startup: startup, onShutdown: { [producer] in await producer?.close() }
        ) { state in
            await tick(&state)
        }.run()
    }

    /// Reaps stale jobs now and then, sends one batch, and says how long to pause.
    func tick(_ state: inout LoopState) async -> Duration {
        if ContinuousClock.now - state.lastReap > min(.seconds(15), staleAfter / 2) {
            state.lastReap = ContinuousClock.now
            do {
                let reaped = try await jobs.reapStaleJobs(olderThan: staleAfter)
                if reaped > 0 { logger.warning("requeued jobs of vanished workers", metadata: ["count": "\(reaped)"]) }
            } catch {
                logger.warning("reaping stale jobs failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
        // Keeps the mediavault_outbox_pending gauge current for dashboards and alerts.
        _ = try? await pendingCount()
        do {
            let sent = try await relayBatch()
            state.backoff = pollInterval
            // A full batch means more are waiting: go again at once.
            return sent == batchSize ? .zero : pollInterval
        } catch {
            state.backoff = min(state.backoff * 2, .seconds(30))
            logger.warning(
                "outbox relay could not publish; rows wait for the next try",
                metadata: ["error": "\(error)", "retry_in": "\(state.backoff)"])
            return state.backoff
        }
    }

    /// Sends one batch; returns how many rows were handled.
    public func relayBatch() async throws -> Int {
        let handled = try await database.transaction { connection -> Int in
            let rows = try await connection.query(
                """
                SELECT id, topic, payload::text FROM processing.outbox
                WHERE sent_at IS NULL ORDER BY id LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var batch: [(id: Int64, topic: String, payload: String)] = []
            for try await (id, topic, payload) in rows.decode((Int64, String, String).self) {
                batch.append((id, topic, payload))
            }
            guard !batch.isEmpty else { return 0 }
            if let producer {
                for (topic, messages) in Dictionary(grouping: batch, by: \.topic) {
                    do {
                        try await producer.multiPublish(topic: topic, bodies: messages.map { Array($0.payload.utf8) })
                    } catch {
                        // Record the failure outside this (rolled back) transaction.
                        let ids = batch.map(\.id)
                        let message = "\(error)"
                        Task { try? await recordFailure(ids: ids, error: message) }
                        throw error
                    }
                }
            }
            let ids = batch.map(\.id)
            try await connection.query(
                "UPDATE processing.outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY(\(ids))",
                logger: logger)
            return batch.count
        }
        if handled > 0 {
            registry.makeCounter(descriptor: Self.published).increment(by: Int64(handled))
        }
        try await database.client.query(
            "DELETE FROM processing.outbox WHERE sent_at < now() - interval '7 days'", logger: logger)
        return handled
    }

    func recordFailure(ids: [Int64], error: String) async throws {
        try await database.client.query(
            """
            UPDATE processing.outbox SET attempts = attempts + 1, last_error = \(String(error.prefix(500)))
            WHERE id = ANY(\(ids)) AND sent_at IS NULL
            """, logger: logger)
    }

    /// Rows waiting to be sent, for `/readyz` and metrics.
    public func pendingCount() async throws -> Int {
        let rows = try await database.client.query(
            "SELECT count(*)::int8 FROM processing.outbox WHERE sent_at IS NULL", logger: logger)
        for try await count in rows.decode(Int.self) {
            registry.makeGauge(descriptor: Self.pending).set(Double(count))
            return count
        }
        return 0
    }

    static var published: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "mediavault", metricName: "outbox_published", unitName: "total",
            helpText: "Outbox messages handed to the queue")
    }

    static var pending: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "mediavault", metricName: "outbox_pending", unitName: "",
            helpText: "Outbox messages waiting to be published")
    }
}
