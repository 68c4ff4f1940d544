import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// A local stand-in for Discord's OAuth2 and user API, speaking the same HTTP: authorize (auto-consents as the
/// chosen user), token exchange (checks client credentials, redirect URI and single-use codes), `/users/@me` and
/// `/users/@me/guilds`. Failure modes let tests exercise Discord errors and timeouts.
public final class FakeDiscord: Sendable {
    public struct User: Sendable {
        public let id: String
        public let username: String
        public let globalName: String?
        public let avatar: String?
        public let guildIDs: [String]

        public init(id: String, username: String, globalName: String? = nil, avatar: String? = nil, guildIDs: [String] = []) {
            self.id = id
            self.username = username
            self.globalName = globalName
            self.avatar = avatar
            self.guildIDs = guildIDs
        }
    }

    public enum Failure: Sendable {
        case none
        /// The token endpoint answers 500.
        case tokenServerError
        /// The token endpoint answers only after this many seconds.
        case tokenDelay(seconds: Double)
    }

    struct State {
        var users: [String: User] = [:]
        var codes: [String: (userID: String, redirectURI: String)] = [:]
        var tokens: [String: String] = [:]
        var failure: Failure = .none
        var tokenRequests = 0
    }

    public let clientID: String
    public let clientSecret: String
    private let state: NIOLockedValueBox<State>
    private let server: RunningServer

    public var baseURL: String { server.baseURL }
    public var apiBaseURL: String { server.baseURL + "/api" }
    public var authorizeURL: String { server.baseURL + "/oauth2/authorize" }

    public static func start(clientID: String = "test-client", clientSecret: String = "test-client-secret") async throws
        -> FakeDiscord
    {
        let box = NIOLockedValueBox(State())
        let server = try await RunningServer.start { onRunning in
            Application(
                router: makeRouter(state: box, clientID: clientID, clientSecret: clientSecret),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "fake-discord"))
        }
        return FakeDiscord(clientID: clientID, clientSecret: clientSecret, state: box, server: server)
    }

    private init(clientID: String, clientSecret: String, state: NIOLockedValueBox<State>, server: RunningServer) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.state = state
        self.server = server
    }

    public func add(_ user: User) {
        state.withLockedValue { $0.users[user.id] = user }
    }

    public func fail(with failure: Failure) {
        state.withLockedValue { $0.failure = failure }
    }

    public var tokenRequestCount: Int { state.withLockedValue { $0.tokenRequests } }

    public func stop() async throws {
        try await server.stop()
    }

    static func makeRouter(state: NIOLockedValueBox<State>, clientID: String, clientSecret: String) -> Router<
        BasicRequestContext
    > {
        let router = Router()
        // Real Discord shows a consent page; the fake consents as `login_as` (or denies with `deny=1`).
        router.get("/oauth2/authorize") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query["client_id"].map(String.init) == clientID, query["response_type"] == "code",
                let redirect = query["redirect_uri"].map(String.init), let stateParam = query["state"].map(String.init)
            else { return Response(status: .badRequest) }
            var components = URLComponents(string: redirect)!
            if query["deny"] == "1" {
                components.queryItems = [
                    .init(name: "error", value: "access_denied"), .init(name: "state", value: stateParam),
                ]
            } else {
                guard let userID = query["login_as"].map(String.init),
                    state.withLockedValue({ $0.users[userID] }) != nil
                else { return Response(status: .badRequest) }
                let code = UUID().uuidString
                state.withLockedValue { $0.codes[code] = (userID, redirect) }
                components.queryItems = [.init(name: "code", value: code), .init(name: "state", value: stateParam)]
            }
            return Response(status: .found, headers: [.location: components.string!])
        }
        router.post("/api/oauth2/token") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 65536)
            let form = URLComponents(string: "?" + String(buffer: body))?.queryItems ?? []
            func field(_ name: String) -> String? { form.first { $0.name == name }?.value }
            let failure = state.withLockedValue { state -> Failure in
                state.tokenRequests += 1
                return state.failure
            }
            switch failure {
            case .tokenServerError: return Response(status: .internalServerError)
            case .tokenDelay(let seconds): try await Task.sleep(for: .seconds(seconds))
            case .none: break
            }
            guard field("client_id") == clientID, field("client_secret") == clientSecret,
                field("grant_type") == "authorization_code", let code = field("code")
            else { return json(.unauthorized, #"{"error":"invalid_client"}"#) }
            let grant = state.withLockedValue { $0.codes.removeValue(forKey: code) }
            guard let grant, grant.redirectURI == field("redirect_uri") else {
                return json(.badRequest, #"{"error":"invalid_grant"}"#)
            }
            let token = UUID().uuidString
            state.withLockedValue { $0.tokens[token] = grant.userID }
            return json(
                .ok, #"{"access_token":"\#(token)","token_type":"Bearer","expires_in":604800,"scope":"identify"}"#)
        }
        router.get("/api/users/@me") { request, _ -> Response in
            guard let user = authorizedUser(request, state: state) else { return json(.unauthorized, #"{"code":0}"#) }
            let payload: [String: String?] = [
                "id": user.id, "username": user.username, "global_name": user.globalName, "avatar": user.avatar,
            ]
            let data = try JSONSerialization.data(withJSONObject: payload.mapValues { $0 ?? NSNull() as Any })
            return json(.ok, String(decoding: data, as: UTF8.self))
        }
        router.get("/api/users/@me/guilds") { request, _ -> Response in
            guard let user = authorizedUser(request, state: state) else { return json(.unauthorized, #"{"code":0}"#) }
            let list = user.guildIDs.map { #"{"id":"\#($0)","name":"Guild \#($0)"}"# }.joined(separator: ",")
            return json(.ok, "[\(list)]")
        }
        return router
    }

    private static func authorizedUser(_ request: Request, state: NIOLockedValueBox<State>) -> User? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        let token = String(header.dropFirst("Bearer ".count))
        return state.withLockedValue { state in state.tokens[token].flatMap { state.users[$0] } }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
