import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Media
import MediaVaultCore
import NIOCore
import Processing
import Prometheus
import ServiceLifecycle
import StorageService
import Transcoding

/// Builds the worker: PostgreSQL pool, object store, job transport (NSQ or PostgreSQL), and `/healthz` + `/metrics`.
/// Used by `mediavault-worker` and by the tests. Checks ffmpeg/ffprobe (with libx265) before anything starts.
public func buildWorker(
    configuration: WorkerConfiguration, logger: Logger,
    onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> ServiceGroup {
    let transcoder = Transcoder(tools: configuration.tools, logger: logger)
    let report = try await transcoder.checkTools()
    logger.info("ffmpeg ready", metadata: ["version": .string(report.ffmpegVersion)])

    let registry = PrometheusCollectorRegistry()
    let metrics = WorkerMetrics(registry: registry)
    let database = Database(configuration: configuration.core.database, logger: logger)
    let httpClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(60))))
    let storage = try Storage.make(
        configuration.storage, httpClient: httpClient, publicBaseURL: URL(string: "http://localhost")!,
        signingKey: configuration.signingKey, logger: logger)
    let jobs = JobRepository(database: database)
    let workerID = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
    let processor = JobProcessor(
        store: storage.store, transcoder: transcoder, settings: configuration.transcode,
        scratchRoot: configuration.tempDirectory, timeout: configuration.jobTimeout, metrics: metrics, logger: logger)
    let runner = JobRunner(
        database: database, jobs: jobs, media: MediaProcessingRecorder(logger: logger), processor: processor,
        store: storage.store, workerID: workerID, retryBase: configuration.retryBase, heartbeatInterval: .seconds(5),
        metrics: metrics, logger: logger)

    let transport: any Service =
        configuration.nsqHosts.isEmpty
        ? PostgresQueueService(
            runner: runner, concurrency: configuration.concurrency, pollInterval: configuration.pollInterval,
            grace: configuration.shutdownGrace, logger: logger)
        : NSQConsumerService(
            runner: runner, addresses: configuration.nsqHosts, concurrency: configuration.concurrency,
            grace: configuration.shutdownGrace, logger: logger)
    logger.info(
        "worker starting",
        metadata: [
            "worker_id": .string(workerID), "queue": .string(configuration.nsqHosts.isEmpty ? "postgresql" : "nsq"),
            "concurrency": "\(configuration.concurrency)",
        ])

    let router = Router()
    router.get("/healthz") { _, _ in ["status": "ok"] }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
    let http = Application(
        router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
        onServerRunning: { channel in await onHTTPRunning(channel.localAddress?.port ?? 0) }, logger: logger)

    // Shutdown runs in reverse order, one service after another: the transport first (it stops claiming and drains
    // the running jobs), then the lag sampler, the health server, the HTTP client and last the database pool.
    return ServiceGroup(
        configuration: .init(
            services: [
                .init(service: database.client), .init(service: HTTPClientService(client: httpClient)),
                .init(service: http), .init(service: QueueLagSampler(jobs: jobs, metrics: metrics)),
                .init(service: transport),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
}

/// Samples the queue lag for `/metrics`.
struct QueueLagSampler: Service {
    let jobs: JobRepository
    let metrics: WorkerMetrics

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    if let lag = try? await jobs.queueLagSeconds() { metrics.queueLag(lag) }
                    try await Task.sleep(for: .seconds(10))
                }
            }
        } catch is CancellationError {
            // Shutdown interrupted the pause between samples.
        }
    }
}
