import AsyncHTTPClient
import Auth
import Foundation
import GatewayApp
import Logging
import MediaVaultCore
import NIOCore
import NIOHTTP1
import TestSupport

/// A real gateway on a random port, over its own fresh database, with the fake Discord in front of it.
final class GatewayHarness: Sendable {
    static let frontendURL = "http://frontend.test"
    static let apiBaseURL = "http://api.test"
    static let sessionSecret = "test-session-secret-0123456789abcdef"

    let database: DatabaseConfiguration
    let discord: FakeDiscord
    let server: RunningServer
    let http: HTTPClient
    let ownsDependencies: Bool
    let environment: [String: String]

    var baseURL: String { server.baseURL }

    static func environment(
        database: DatabaseConfiguration, discord: FakeDiscord, extra: [String: String] = [:]
    ) -> [String: String] {
        let storageDirectory = NSTemporaryDirectory() + "mv-storage-" + UUID().uuidString
        return [
            "STORAGE_DIR": storageDirectory,
            "MEDIAVAULT_ENV": "production",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": "0",
            "POSTGRES_HOST": "\(database.host):\(database.port)",
            "POSTGRES_USER": database.username,
            "POSTGRES_DB": database.database,
            "API_BASE_URL": apiBaseURL,
            "FRONTEND_URL": frontendURL,
            "SESSION_SECRET": sessionSecret,
            "DISCORD_CLIENT_ID": discord.clientID,
            "DISCORD_CLIENT_SECRET": discord.clientSecret,
            "DISCORD_API_BASE_URL": discord.apiBaseURL,
            "DISCORD_AUTHORIZE_URL": discord.authorizeURL,
            "LOG_LEVEL": "warning",
        ].merging(extra) { $1 }
    }

    /// Starts a gateway; pass `sharing:` to start a second replica over the same database and fake Discord.
    static func start(
        extraEnvironment: [String: String] = [:], sharing other: GatewayHarness? = nil,
        logHandler: (@Sendable (String) -> any LogHandler)? = nil
    ) async throws -> GatewayHarness {
        let database: DatabaseConfiguration
        let discord: FakeDiscord
        if let other {
            (database, discord) = (other.database, other.discord)
        } else {
            database = try await TestPostgres.createMigratedDatabase(gatewayMigrations)
            discord = try await FakeDiscord.start()
        }
        let environment = Self.environment(database: database, discord: discord, extra: extraEnvironment)
        let configuration = try GatewayConfiguration(source: ConfigSource(environment: environment))
        var logger = logHandler.map { Logger(label: "gateway-test", factory: $0) } ?? Logger(label: "gateway-test")
        logger.logLevel = configuration.core.logging.level
        let server = try await RunningServer.start { onRunning in
            try buildGateway(
                configuration: configuration, logger: logger, options: GatewayOptions(onServerRunning: onRunning))
        }
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        return GatewayHarness(
            database: database, discord: discord, server: server, http: http, ownsDependencies: other == nil,
            environment: environment)
    }

    /// Runs `body` against a fresh gateway and always stops it afterwards.
    static func with(
        extraEnvironment: [String: String] = [:], _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        try await withGateway(extraEnvironment: extraEnvironment, body)
    }

    static func withGateway(
        extraEnvironment: [String: String], _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        let gateway = try await start(extraEnvironment: extraEnvironment)
        do {
            try await body(gateway)
        } catch {
            try? await gateway.stop()
            throw error
        }
        try await gateway.stop()
    }

    private init(
        database: DatabaseConfiguration, discord: FakeDiscord, server: RunningServer, http: HTTPClient,
        ownsDependencies: Bool, environment: [String: String]
    ) {
        self.environment = environment
        self.database = database
        self.discord = discord
        self.server = server
        self.http = http
        self.ownsDependencies = ownsDependencies
    }

    func stop() async throws {
        try await http.shutdown()
        try await server.stop()
        if ownsDependencies {
            try await discord.stop()
            try await TestPostgres.dropDatabase(database)
            if let directory = environment["STORAGE_DIR"] { try? FileManager.default.removeItem(atPath: directory) }
        }
    }

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: ByteBuffer

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        }
        var text: String { String(buffer: body) }
        func header(_ name: String) -> String? { headers.first(name: name) }
        var location: URLComponents? { header("Location").flatMap(URLComponents.init(string:)) }
        func query(_ name: String) -> String? { location?.queryItems?.first { $0.name == name }?.value }
    }

    /// Sends a request to the gateway (or to an absolute URL; `http://api.test` URLs go to this gateway).
    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, headers: [(String, String)] = [],
        body: String? = nil, bytes: [UInt8]? = nil
    ) async throws -> Reply {
        // Only a leading API base is this gateway: the same text inside a query (a `redirect_uri`) must stay as it is.
        let url =
            path.hasPrefix(Self.apiBaseURL)
            ? baseURL + path.dropFirst(Self.apiBaseURL.count) : path.hasPrefix("http") ? path : baseURL + path
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        } else if let bytes {
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: collected)
    }

    /// Cookie `name=value` pairs from the reply's `Set-Cookie` headers.
    static func cookies(_ reply: Reply) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in reply.headers[canonicalForm: "Set-Cookie"] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
        }
        return cookies
    }

    /// Outcome of the browser's sign-in round trip: where the frontend was sent and the cookies set on the way.
    struct SignInResult {
        let frontendRedirect: Reply
        var token: String? { frontendRedirect.query("token") }
        var error: String? { frontendRedirect.query("error") }
    }

    /// Plays the browser: login → Discord authorize (consenting as `userID`) → callback → frontend.
    func signIn(
        as userID: String, redirect: String? = nil, deny: Bool = false,
        tamper: ((inout String, inout String?) -> Void)? = nil
    ) async throws -> SignInResult {
        // Escaping everything but letters and digits keeps any redirect, hostile ones included, a single query value.
        let escaped = redirect.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0 }
        let loginPath = "/auth/discord/login" + (escaped.map { "?redirect=" + $0 } ?? "")
        let login = try await request(.GET, loginPath)
        precondition(login.status == 307, "login answered \(login.status)")
        var stateCookie = Self.cookies(login)["mv_oauth_state"]
        let consent = try await request(.GET, login.header("Location")! + (deny ? "&deny=1" : "&login_as=\(userID)"))
        precondition(consent.status == 302, "fake authorize answered \(consent.status)")
        var callback = consent.header("Location")!
        tamper?(&callback, &stateCookie)
        let reply = try await request(
            .GET, callback, headers: stateCookie.map { [("Cookie", "mv_oauth_state=\($0)")] } ?? [])
        return SignInResult(frontendRedirect: reply)
    }

    /// Signs in and returns the session token, failing loudly otherwise.
    func token(for userID: String, username: String? = nil) async throws -> String {
        discord.add(.init(id: userID, username: username ?? "user\(userID)"))
        let result = try await signIn(as: userID)
        guard let token = result.token else { throw HarnessError(message: "sign-in failed: \(result.frontendRedirect.header("Location") ?? "")") }
        return token
    }

    /// The first column of the first row, as an integer.
    func scalar(_ query: String) async throws -> Int {
        try await TestPostgres.withClient(database) { database in
            let rows = try await database.client.query(.init(unsafeSQL: query), logger: database.logger)
            for try await value in rows.decode(Int.self) { return value }
            throw HarnessError(message: "no row for \(query)")
        }
    }

    /// The first column of the first row, as text.
    func text(_ query: String) async throws -> String {
        try await TestPostgres.withClient(database) { database in
            let rows = try await database.client.query(.init(unsafeSQL: query), logger: database.logger)
            for try await value in rows.decode(String.self) { return value }
            throw HarnessError(message: "no row for \(query)")
        }
    }

    /// Runs SQL against the gateway's database.
    func sql(_ statement: String) async throws {
        _ = try await TestPostgres.withClient(database) { database in
            try await database.client.query(.init(unsafeSQL: statement), logger: database.logger)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
