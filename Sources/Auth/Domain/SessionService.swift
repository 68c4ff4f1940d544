import Foundation
import Hummingbird
import MediaVaultCore

/// Creates, resolves and revokes sessions; the cookie shape lives here too.
public struct SessionService: Sendable {
    public static let cookieName = "mv_session"

    let repository: AuthRepository
    let ttl: TimeInterval
    let secureCookies: Bool
    let now: @Sendable () -> Date

    public init(
        repository: AuthRepository, ttl: TimeInterval, secureCookies: Bool,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.repository = repository
        self.ttl = ttl
        self.secureCookies = secureCookies
        self.now = now
    }

    /// A new session for the user; returns the token to hand out (only its hash is stored).
    public func create(userID: UUID, userAgent: String?, clientIP: String?) async throws -> String {
        let token = SessionToken.generate()
        _ = try await repository.createSession(
            userID: userID, tokenHash: SessionToken.hash(token), expiresAt: now() + ttl,
            userAgent: userAgent.map { String($0.prefix(512)) }, clientIP: clientIP)
        return token
    }

    public func user(forToken token: String) async throws -> AuthenticatedUser? {
        try await repository.authenticatedUser(tokenHash: SessionToken.hash(token))
    }

    public func revoke(sessionID: UUID) async throws {
        try await repository.revokeSession(id: sessionID)
    }

    public func cookie(token: String) -> Cookie {
        Cookie(
            name: Self.cookieName, value: token, maxAge: Int(ttl), path: "/", secure: secureCookies, httpOnly: true,
            sameSite: .lax)
    }

    public func clearingCookie() -> Cookie {
        Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }
}
