import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MediaVaultCore
import ObjectStorage
import Processing
import Prometheus
import ServiceLifecycle
import StorageService
import Transcoding

/// Builds the worker: PostgreSQL pool, object store, job transport (NSQ or PostgreSQL), and `/healthz` + `/metrics`.
/// Used by `mediavault-worker` and by the tests. `media` is the Media module's side of a job, handed in by the caller
/// so the worker's job logic never reaches into another module. Checks ffmpeg/ffprobe (with libx265) first.
public func buildWorker(
    configuration: WorkerConfiguration, media: any MediaProcessingLedger, logger: Logger,
    onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> ServiceGroup {
    let transcoder = Transcoder(tools: configuration.tools, logger: logger, limits: configuration.limits)
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
    logger.info("object storage", metadata: configuration.storage.summary)
    for notice in configuration.notices { logger.warning("\(notice)") }
    let jobs = JobRepository(database: database)
    let workerID = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
    let processor = JobProcessor(
        store: storage.store, transcoder: transcoder, settings: configuration.transcode,
        scratchRoot: configuration.tempDirectory, timeout: configuration.jobTimeout, metrics: metrics, logger: logger)
    let store = storage.store
    let runner = JobRunner(
        ledger: PostgresJobLedger(database: database, jobs: jobs, media: media), processor: processor,
        discard: { key in
            // Best effort: an object left behind here is removed by the gateway's storage janitor.
            guard let key = try? ObjectKey(key) else { return }
            try? await store.delete(key)
        },
        workerID: workerID, retryBase: configuration.retryBase, heartbeatInterval: .seconds(5), metrics: metrics,
        logger: logger)

    let usesNSQ = configuration.processing.usesNSQ
    let transport: any Service =
        usesNSQ
        ? NSQConsumerService(
            runner: runner, addresses: configuration.processing.nsqHosts, concurrency: configuration.concurrency,
            grace: configuration.shutdownGrace, logger: logger)
        : PostgresQueueService(
            runner: runner, concurrency: configuration.concurrency, pollInterval: configuration.pollInterval,
            grace: configuration.shutdownGrace, logger: logger)
    logger.info(
        "worker starting",
        metadata: [
            "worker_id": .string(workerID), "queue": .string(usesNSQ ? "nsq" : "postgresql"),
            "concurrency": "\(configuration.concurrency)",
        ])

    let router = Router(context: AppRequestContext.self)
    let routes = AccessRouter(router: router)
    routes.get("/healthz", .open) { _, _ in ["status": "ok"] }
    MetricsRoute.register(on: routes, registry: registry)
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

/// The ffmpeg arguments the worker would run for `file` (an upload of `mimeType`), writing to `primary` and
/// `compatibility`: for operators checking settings, and for benchmarks that run the same command bare.
public func transcodeArguments(
    configuration: WorkerConfiguration, file: URL, mimeType: String, primary: URL, compatibility: URL, logger: Logger
) async throws -> [String] {
    let transcoder = Transcoder(tools: configuration.tools, logger: logger, limits: configuration.limits)
    let probe = try await transcoder.probe(file)
    let settings = configuration.transcode
    let plan = try TranscodePlan(
        probe: probe, settings: settings, input: file,
        primary: TranscodePlan.makesPrimary(settings) ? primary : nil,
        compatibility: TranscodePlan.makesCompatibility(probe, originalMimeType: mimeType, settings: settings)
            ? compatibility : nil)
    return plan.arguments
}
