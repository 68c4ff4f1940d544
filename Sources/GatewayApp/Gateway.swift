import AsyncHTTPClient
import Auth
import Collection
import Foundation
import Hummingbird
import Logging
import Media
import MediaVaultCore
import NIOCore
import NSQ
import OriginalImport
import Processing
import Prometheus
import ServiceLifecycle
import StorageService

/// Options that differ between the binary and the tests.
public struct GatewayOptions: Sendable {
    /// Called with the bound port once the server listens (tests bind port 0).
    public var onServerRunning: @Sendable (Int) async -> Void
    public var runMigrations: Bool?

    public init(runMigrations: Bool? = nil, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.runMigrations = runMigrations
        self.onServerRunning = onServerRunning
    }
}

/// Every module's migrations, in the order their schemas depend on each other.
public let gatewayMigrations: [Migration] =
    AuthMigrations.all + MediaMigrations.all + CollectionMigrations.all + ProcessingMigrations.all
    + OriginalImportMigrations.all

/// Builds the gateway: one PostgreSQL pool, the modules' routes, middleware and health endpoints.
/// Used by `mediavault serve` and by the tests, so both run the same application.
public func buildGateway(
    configuration: GatewayConfiguration, logger: Logger, options: GatewayOptions = GatewayOptions()
) throws -> some ApplicationProtocol {
    let gateway = try GatewayComposition(configuration: configuration, logger: logger)
    let willReadBody = gateway.willReadBody
    var app = Application(
        router: gateway.router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ExpectContinueHandler(willReadBody: willReadBody)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: gateway.services,
        onServerRunning: { channel in await options.onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
    let runMigrations = options.runMigrations ?? configuration.autoMigrate
    let database = gateway.database
    let storage = gateway.storage
    let startup = gateway.startup
    app.beforeServerStarts {
        if runMigrations {
            try await MigrationRunner(migrations: gatewayMigrations, logger: logger).run(on: database.client)
        }
        try await storage.prepare(configuration.storage, corsOrigins: configuration.corsAllowedOrigins)
        startup.open()
    }
    return app
}

/// The routes a gateway with `configuration` serves, as the router holds them and as they were declared with their
/// access: what the API description is checked against. Nothing is started.
public func gatewayRoutes(
    configuration: GatewayConfiguration, logger: Logger
) async throws -> (served: [String], declared: [RouteDeclaration]) {
    let gateway = try GatewayComposition(configuration: configuration, logger: logger)
    try await gateway.httpClient.shutdown()
    return (gateway.router.routes.map { "\($0.method.rawValue) \($0.path.description)" }, gateway.routeTable.declarations)
}

/// Every part of the gateway, wired: modules, middleware, routes and the services to run.
struct GatewayComposition {
    let router: Router<AppRequestContext>
    let routeTable: RouteAccessTable
    let services: [any Service]
    let database: Database
    let storage: Storage
    /// Which requests' bodies will be read, judged from the head: the `Expect: 100-continue` answer.
    let willReadBody: @Sendable (HTTPRequest) -> Bool
    let startup: StartupGate
    let httpClient: HTTPClient

    init(configuration: GatewayConfiguration, logger: Logger) throws {
        let registry = PrometheusCollectorRegistry()
        let database = Database(configuration: configuration.core.database, logger: logger)
        let httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))))
        let storage = try Storage.make(
            configuration.storage, httpClient: httpClient, publicBaseURL: configuration.apiBaseURL,
            signingKey: configuration.auth.sessionSecret, logger: logger)
        logger.info("object storage", metadata: configuration.storage.summary)
        for notice in configuration.notices { logger.warning("\(notice)") }
        let startup = StartupGate()
        let processing = ProcessingModule(database: database, maxAttempts: configuration.processing.maxAttempts)
        let media = MediaModule(
            configuration: configuration.media, database: database, store: storage.store, scheduler: processing.scheduler,
            registry: registry, janitorInterval: configuration.janitorInterval, startup: startup, logger: logger)
        let collections = CollectionModule(
            configuration: configuration.collections, database: database, catalog: media.catalog, store: storage.store)
        let producer = configuration.processing.usesNSQ
            ? NSQProducer(
                configuration: .init(addresses: configuration.processing.nsqHosts, clientID: "mediavault-gateway"),
                logger: logger)
            : nil
        let relay = OutboxRelay(
            database: database, jobs: processing.jobs, producer: producer, registry: registry,
            staleAfter: configuration.processing.staleAfter, startup: startup, logger: logger)
        let discord = configuration.auth.discord.map { DiscordAPI.live(configuration: $0, httpClient: httpClient) }
        let auth = AuthModule(
            configuration: configuration.auth, database: database, discord: discord,
            profileExtensions: [media.profileExtension], logger: logger)

        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxyCount))
        router.add(middleware: HTTPMetricsMiddleware(registry: registry))
        router.add(middleware: CORSPolicyMiddleware(allowedOrigins: configuration.corsAllowedOrigins))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware())
        router.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxRequestBodyBytes))
        if let secret = configuration.gatewaySecret { router.add(middleware: GatewaySecretMiddleware(secret: secret)) }
        let routeTable = RouteAccessTable()
        router.add(middleware: MethodNotAllowedMiddleware(table: routeTable))
        router.add(middleware: NULCharacterMiddleware())
        router.add(middleware: auth.authenticationMiddleware)

        var checks = [ReadinessCheck(name: "postgres") { try await database.ping(timeout: .seconds(2)) }]
        if configuration.processing.usesNSQ {
            let hosts = configuration.processing.nsqHosts
            checks.append(ReadinessCheck(name: "nsq", critical: false) { try await NSQProbe.check(addresses: hosts) })
        }
        checks.append(ReadinessCheck(name: "outbox", critical: false) {
            // Fails (without making the gateway unready) when messages pile up: the queue is not draining.
            if try await relay.pendingCount() > 1000 { throw AppError.unavailable("outbox backlog") }
        })
        let routes = AccessRouter(router: router, table: routeTable)
        HealthRoutes(checks: checks).register(on: routes)
        MetricsRoute.register(on: routes, registry: registry)
        auth.registerRoutes(on: routes)
        media.registerRoutes(on: routes)
        collections.registerRoutes(on: routes)
        processing.registerRoutes(on: routes)
        var features: Set<OpenAPIDocument.Feature> = []
        if configuration.auth.devLoginEnabled { features.insert(.devLogin) }
        if let fileSystem = storage.fileSystem {
            let fileStore = FileStoreRoutes(store: fileSystem)
            fileStore.register(on: routes)
            features.insert(.filesystemStorage)
            self.willReadBody = { fileStore.willReadBody($0) }
        } else {
            // Uploads go to S3 directly; nothing the gateway serves waits for 100 Continue.
            self.willReadBody = { _ in false }
        }
        OpenAPIDocument.register(
            on: routes,
            document: try OpenAPIDocument.served(serverURL: configuration.apiBaseURL.absoluteString, features: features))

        self.router = router
        self.routeTable = routes.table
        self.services = [database.client, HTTPClientService(client: httpClient), media.janitor, media.counterCheck, relay]
        self.database = database
        self.storage = storage
        self.startup = startup
        self.httpClient = httpClient
    }
}

/// Applies the JSON request-body limit; file uploads to `/storage/` have their own signed size caps.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBytes: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if request.uri.path.hasPrefix("/storage/") { return try await next(request, context) }
        var context = context
        context.maxUploadSize = maxBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw AppError.resourceExhausted("request body is too large (limit \(maxBytes) bytes)", status: .contentTooLarge)
        }
        return try await next(request, context)
    }
}
