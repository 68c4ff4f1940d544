import Hummingbird
import MediaVaultCore

/// Resolves `Authorization: Bearer <token>` or the session cookie to the signed-in user.
///
/// It never rejects: routes that need a user call `context.requireUser()`, public routes ignore it.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let sessions: SessionService

    public init(sessions: SessionService) {
        self.sessions = sessions
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token = Self.presentedToken(request) else { return try await next(request, context) }
        var context = context
        context.user = try await sessions.user(forToken: token)
        if let user = context.user { context.logger[metadataKey: "user_id"] = .string(user.id.uuidString.lowercased()) }
        return try await next(request, context)
    }

    /// The bearer token wins over the cookie when both are present.
    static func presentedToken(_ request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                return token.isEmpty || token.count > 512 ? nil : token
            }
        }
        if let cookie = request.cookies[SessionService.cookieName]?.value, !cookie.isEmpty, cookie.count <= 512 {
            return cookie
        }
        return nil
    }
}
