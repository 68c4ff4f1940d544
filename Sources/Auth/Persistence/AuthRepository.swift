import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// A stored user.
public struct UserRecord: Sendable, Equatable {
    public let id: UUID
    public let discordID: String
    public let username: String
    public let globalName: String?
    public let avatarHash: String?
    public let createdAt: Date
}

/// SQL of the Auth module.
public struct AuthRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Inserts or refreshes the user by Discord ID and returns it.
    public func upsertUser(
        discordID: String, username: String, globalName: String?, avatarHash: String?
    ) async throws -> UserRecord {
        let rows = try await database.client.query(
            """
            INSERT INTO auth.users (id, discord_id, username, global_name, avatar_hash, last_login_at)
            VALUES (\(UUID()), \(discordID), \(username), \(globalName), \(avatarHash), now())
            ON CONFLICT (discord_id) DO UPDATE SET
                username = EXCLUDED.username, global_name = EXCLUDED.global_name,
                avatar_hash = EXCLUDED.avatar_hash, updated_at = now(), last_login_at = now()
            RETURNING id, discord_id, username, global_name, avatar_hash, created_at
            """, logger: database.logger)
        for try await row in rows.decode((UUID, String, String, String?, String?, Date).self) {
            return UserRecord(
                id: row.0, discordID: row.1, username: row.2, globalName: row.3, avatarHash: row.4, createdAt: row.5)
        }
        throw AppError.internal
    }

    public func user(id: UUID) async throws -> UserRecord? {
        let rows = try await database.client.query(
            """
            SELECT id, discord_id, username, global_name, avatar_hash, created_at
            FROM auth.users WHERE id = \(id)
            """, logger: database.logger)
        for try await row in rows.decode((UUID, String, String, String?, String?, Date).self) {
            return UserRecord(
                id: row.0, discordID: row.1, username: row.2, globalName: row.3, avatarHash: row.4, createdAt: row.5)
        }
        return nil
    }

    /// Stores a new session for the token's hash; also drops the user's long-expired sessions.
    public func createSession(
        userID: UUID, tokenHash: [UInt8], expiresAt: Date, userAgent: String?, clientIP: String?
    ) async throws -> UUID {
        let sessionID = UUID()
        let hash = Data(tokenHash)
        try await database.client.query(
            """
            INSERT INTO auth.sessions (id, user_id, token_hash, expires_at, user_agent, client_ip)
            VALUES (\(sessionID), \(userID), \(hash), \(expiresAt), \(userAgent), \(clientIP))
            """, logger: database.logger)
        try await database.client.query(
            """
            DELETE FROM auth.sessions
            WHERE user_id = \(userID) AND expires_at < now() - interval '30 days'
            """, logger: database.logger)
        return sessionID
    }

    /// The user of a live (unrevoked, unexpired) session: run on every authenticated request, so prepared.
    public func authenticatedUser(tokenHash: [UInt8]) async throws -> AuthenticatedUser? {
        let rows = try await database.client.execute(
            SessionUserStatement(tokenHash: ByteBuffer(bytes: tokenHash)), logger: database.logger)
        for try await user in rows { return user }
        return nil
    }

    public func revokeSession(id: UUID) async throws {
        try await database.client.query(
            "UPDATE auth.sessions SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL",
            logger: database.logger)
    }
}

/// The signed-in user behind a session token's hash.
struct SessionUserStatement: PostgresPreparedStatement {
    static let name = "auth.session_user"
    static let sql = """
        SELECT s.id, u.id, u.discord_id, u.username
        FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
        """
    typealias Row = AuthenticatedUser

    let tokenHash: ByteBuffer

    func makeBindings() throws -> PostgresBindings { PostgresBindings(tokenHash) }

    func decodeRow(_ row: PostgresRow) throws -> AuthenticatedUser {
        let (sessionID, userID, discordID, username) = try row.decode((UUID, UUID, String, String).self)
        return AuthenticatedUser(
            id: userID, credential: .session(id: sessionID), discordID: discordID, username: username)
    }
}
