import Foundation
import Hummingbird
import Logging
import MediaVaultCore

/// `/auth/*`: Discord sign-in, the development sign-in, `/auth/me` and logout.
public struct AuthController: Sendable {
    let configuration: AuthConfiguration
    let discord: DiscordAPI?
    let repository: AuthRepository
    let sessions: SessionService
    let profileExtensions: [any ProfileExtension]
    let now: @Sendable () -> Date

    public init(
        configuration: AuthConfiguration, discord: DiscordAPI?, repository: AuthRepository, sessions: SessionService,
        profileExtensions: [any ProfileExtension] = [], now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.discord = discord
        self.repository = repository
        self.sessions = sessions
        self.profileExtensions = profileExtensions
        self.now = now
    }

    public func register(on router: AccessRouter) {
        let auth = router.group("auth")
        auth.get("discord/login", .open, use: login)
        auth.get("discord/callback", .open, use: callback)
        auth.post("logout", .account, use: logout)
        auth.get("me", .account, use: me)
        if configuration.devLoginEnabled {
            auth.get("dev/login", .open, use: devLoginRedirect)
            auth.post("dev/login", .open, use: devLoginJSON)
        }
    }

    // MARK: Discord

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let discordConfig = configuration.discord else {
            throw AppError.failedPrecondition(
                "Discord sign-in is not configured"
                    + (configuration.devLoginEnabled ? "; use /auth/dev/login in development" : ""))
        }
        let redirectPath = RedirectTarget.safePath(
            request.uri.queryParameters["redirect"].map(String.init), frontendURL: configuration.frontendURL)
        let state = OAuthState.make(redirectPath: redirectPath, now: now())
        let scope = configuration.requiredGuildID == nil ? "identify" : "identify guilds"
        let query = try URLEncodedFormEncoder().encodeForm(
            AuthorizeQuery(
                clientID: discordConfig.clientID, redirectURI: discordConfig.redirectURI, responseType: "code",
                scope: scope, state: state.nonce, prompt: "consent"))
        var response = Response(
            status: .temporaryRedirect, headers: [.location: discordConfig.authorizeURL + "?" + query])
        response.setCookie(
            Cookie(
                name: OAuthState.cookieName, value: state.cookieValue(secret: configuration.sessionSecret),
                maxAge: Int(OAuthState.lifetime), path: "/auth/discord", secure: configuration.secureCookies,
                httpOnly: true, sameSite: .lax))
        return response
    }

    /// The query of Discord's authorize URL.
    struct AuthorizeQuery: Encodable {
        let clientID: String
        let redirectURI: String
        let responseType: String
        let scope: String
        let state: String
        let prompt: String

        enum CodingKeys: String, CodingKey {
            case scope, state, prompt
            case clientID = "client_id"
            case redirectURI = "redirect_uri"
            case responseType = "response_type"
        }
    }

    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let state = OAuthState.verify(
            cookie: request.cookies[OAuthState.cookieName]?.value, state: query["state"].map(String.init),
            secret: configuration.sessionSecret, now: now())
        guard let state else {
            context.logger.notice("sign-in refused: missing, expired or tampered OAuth state")
            return try frontendError(
                "invalid_state", "The sign-in link expired or was tampered with. Please try again.")
        }
        if let error = query["error"] {
            let denied = error == "access_denied"
            return try frontendError(
                denied ? "access_denied" : "discord_error",
                denied ? "Discord sign-in was cancelled." : "Discord refused the sign-in request.",
                redirectPath: state.redirectPath)
        }
        guard let code = query["code"].map(String.init), !code.isEmpty, code.count <= 512, let discord else {
            return try frontendError("invalid_request", "Discord did not return an authorization code.")
        }
        do {
            let accessToken = try await discord.exchangeCode(code)
            let discordUser = try await discord.currentUser(accessToken)
            if let refusal = try await signInRefusal(for: discordUser, accessToken: accessToken, discord: discord) {
                context.logger.notice("sign-in refused", metadata: ["discord_id": .string(discordUser.id)])
                return try frontendError("not_allowed", refusal, redirectPath: state.redirectPath)
            }
            let user = try await repository.upsertUser(
                discordID: discordUser.id, username: discordUser.username, globalName: discordUser.globalName,
                avatarHash: discordUser.avatar)
            return try await signedIn(user, request: request, context: context, redirectPath: state.redirectPath)
        } catch let error as DiscordError {
            context.logger.warning("Discord sign-in failed", metadata: ["error": .string(error.description)])
            let code = error.kind == .rejected ? "discord_rejected" : "discord_unavailable"
            return try frontendError(code, "Discord could not complete the sign-in. Please try again.")
        }
    }

    /// Why this Discord user may not sign in, or `nil` when they may.
    func signInRefusal(for user: DiscordUser, accessToken: String, discord: DiscordAPI) async throws -> String? {
        if !configuration.allowedUserIDs.isEmpty && !configuration.allowedUserIDs.contains(user.id) {
            return "This MediaVault only admits invited Discord accounts."
        }
        if let guildID = configuration.requiredGuildID {
            let guilds = try await discord.currentUserGuildIDs(accessToken)
            if !guilds.contains(guildID) {
                return "This MediaVault only admits members of its Discord server."
            }
        }
        return nil
    }

    // MARK: Development sign-in

    struct DevLoginRequest: Decodable {
        let username: String
    }

    struct DevLoginResponse: ResponseEncodable {
        let token: String
        let user: MeResponse
    }

    @Sendable func devLoginRedirect(_ request: Request, context: AppRequestContext) async throws -> Response {
        let username = try Self.validDevUsername(request.uri.queryParameters["username"].map(String.init) ?? "developer")
        let user = try await repository.upsertUser(
            discordID: "dev-" + username, username: username, globalName: nil, avatarHash: nil)
        let redirectPath = RedirectTarget.safePath(
            request.uri.queryParameters["redirect"].map(String.init), frontendURL: configuration.frontendURL)
        return try await signedIn(user, request: request, context: context, redirectPath: redirectPath)
    }

    @Sendable func devLoginJSON(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: DevLoginRequest.self, context: context)
        let username = try Self.validDevUsername(body.username)
        let user = try await repository.upsertUser(
            discordID: "dev-" + username, username: username, globalName: nil, avatarHash: nil)
        let token = try await sessions.create(
            userID: user.id, userAgent: request.headers[.userAgent], clientIP: context.remoteAddress)
        var response = try DevLoginResponse(token: token, user: await profile(of: user, context: context))
            .response(from: request, context: context)
        response.setCookie(sessions.cookie(token: token))
        return response
    }

    static func validDevUsername(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard (1...32).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") })
        else {
            throw AppError.invalidArgument("username must be 1-32 letters, digits, '.', '_' or '-'")
        }
        return name.lowercased()
    }

    // MARK: Session endpoints

    struct MeResponse: ResponseEncodable {
        let id: String
        let discordID: String
        let username: String
        let globalName: String?
        let avatarURL: String?
        let createdAt: Date
        let extra: [String: JSONValue]

        enum CodingKeys: String, CodingKey {
            case id, username
            case discordID = "discord_id"
            case globalName = "global_name"
            case avatarURL = "avatar_url"
            case createdAt = "created_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(discordID, forKey: .discordID)
            try container.encode(username, forKey: .username)
            try container.encode(globalName, forKey: .globalName)
            try container.encode(avatarURL, forKey: .avatarURL)
            try container.encode(createdAt, forKey: .createdAt)
            var dynamic = encoder.container(keyedBy: DynamicKey.self)
            for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
                try dynamic.encode(value, forKey: DynamicKey(key))
            }
        }
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> MeResponse {
        let current = try context.requireUser()
        guard let user = try await repository.user(id: current.id) else { throw AppError.unauthenticated() }
        return try await profile(of: user, context: context)
    }

    func profile(of user: UserRecord, context: AppRequestContext) async throws -> MeResponse {
        var extra: [String: JSONValue] = [:]
        for profileExtension in profileExtensions {
            extra.merge(try await profileExtension.fields(forUser: user.id)) { current, _ in current }
        }
        return MeResponse(
            id: user.id.uuidString.lowercased(), discordID: user.discordID, username: user.username,
            globalName: user.globalName, avatarURL: DiscordAvatar.url(discordID: user.discordID, hash: user.avatarHash),
            createdAt: user.createdAt, extra: extra)
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        // An account route: only a session gets here, never an API key.
        guard let sessionID = try context.requireUser().sessionID else { throw AppError.unauthenticated() }
        try await sessions.revoke(sessionID: sessionID)
        var response = try SuccessResponse(success: true).response(from: request, context: context)
        response.setCookie(sessions.clearingCookie())
        return response
    }

    // MARK: Redirects

    func signedIn(
        _ user: UserRecord, request: Request, context: AppRequestContext, redirectPath: String?
    ) async throws -> Response {
        let token = try await sessions.create(
            userID: user.id, userAgent: request.headers[.userAgent], clientIP: context.remoteAddress)
        var response = try frontendRedirect(FrontendCallback(token: token, redirect: redirectPath))
        response.setCookie(sessions.cookie(token: token))
        context.logger.info("signed in", metadata: ["user_id": .string(user.id.uuidString.lowercased())])
        return response
    }

    func frontendError(_ code: String, _ message: String, redirectPath: String? = nil) throws -> Response {
        try frontendRedirect(FrontendCallback(error: code, errorDescription: message, redirect: redirectPath))
    }

    /// The query of the frontend's `/auth/callback`: a session token on success, an error otherwise, and where to
    /// go next. Absent fields are left out of the query.
    struct FrontendCallback: Encodable {
        var token: String?
        var error: String?
        var errorDescription: String?
        var redirect: String?

        enum CodingKeys: String, CodingKey {
            case token, error, redirect
            case errorDescription = "error_description"
        }
    }

    func frontendRedirect(_ callback: FrontendCallback) throws -> Response {
        let query = try URLEncodedFormEncoder().encodeForm(callback)
        let target = configuration.frontendURL.absoluteString + "/auth/callback?" + query
        var response = Response(status: .temporaryRedirect, headers: [.location: target])
        // The state cookie is single-use.
        response.setCookie(
            Cookie(
                name: OAuthState.cookieName, value: "", maxAge: 0, path: "/auth/discord",
                secure: configuration.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }
}

/// Discord CDN avatar URLs, with Discord's default avatar when the user has none.
public enum DiscordAvatar {
    public static func url(discordID: String, hash: String?) -> String? {
        guard let snowflake = UInt64(discordID) else { return nil }
        guard let hash else { return "https://cdn.discordapp.com/embed/avatars/\((snowflake >> 22) % 6).png" }
        let ext = hash.hasPrefix("a_") ? "gif" : "png"
        return "https://cdn.discordapp.com/avatars/\(discordID)/\(hash).\(ext)"
    }
}

struct DynamicKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
