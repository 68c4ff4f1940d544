import Hummingbird
import MediaVaultCore

/// Resolves the presented credential to the signed-in user: a personal API key (`Authorization: Bearer mvk_…` or
/// `X-API-Key`), a session token (`Authorization: Bearer …`) or the session cookie.
///
/// It never rejects: each route's `RouteAccess` decides, so open routes ignore a bad credential.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let sessions: SessionService
    let apiKeys: APIKeyService

    public init(sessions: SessionService, apiKeys: APIKeyService) {
        self.sessions = sessions
        self.apiKeys = apiKeys
    }

    /// What the request presented, before it is looked up.
    enum PresentedCredential: Equatable {
        case sessionToken(String)
        case apiKey(String)
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let presented = Self.presentedCredential(request) else { return try await next(request, context) }
        var context = context
        switch presented {
        case .sessionToken(let token): context.user = try await sessions.user(forToken: token)
        case .apiKey(let key): context.user = try await apiKeys.user(forKey: key)
        }
        if let user = context.user {
            context.logger[metadataKey: "user_id"] = .string(user.id.uuidString.lowercased())
            if case .apiKey(let id, _) = user.credential {
                context.logger[metadataKey: "api_key_id"] = .string(id.uuidString.lowercased())
            }
        }
        return try await next(request, context)
    }

    /// The `Authorization` header wins over `X-API-Key`, which wins over the cookie.
    static func presentedCredential(_ request: Request) -> PresentedCredential? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                guard !token.isEmpty, token.count <= 512 else { return nil }
                // Keys (47 characters) and session tokens (43) never share a shape, so a session token that happens
                // to start with the prefix is still a session token.
                return APIKeySecret.isWellFormed(token) ? .apiKey(token) : .sessionToken(token)
            }
        }
        if let key = request.headers[.apiKey]?.trimmingCharacters(in: .whitespaces), !key.isEmpty, key.count <= 512 {
            return .apiKey(key)
        }
        if let cookie = request.cookies[SessionService.cookieName]?.value, !cookie.isEmpty, cookie.count <= 512 {
            return .sessionToken(cookie)
        }
        return nil
    }
}
