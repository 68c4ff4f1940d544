import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// SQL of personal API keys.
struct APIKeyRepository: Sendable {
    let database: Database

    /// Stores a new key for `userID` unless the user already holds the maximum of unrevoked keys (expired ones count
    /// until deleted: they are listed, so they must not pile up without bound).
    func create(
        userID: UUID, request: APIKeyRequest, secretHash: [UInt8], visiblePrefix: String
    ) async throws -> APIKeyRecord {
        let id = UUID()
        let hash = Data(secretHash)
        let scopes = request.scopes.map(\.rawValue)
        return try await database.transaction { connection in
            // The user's row serialises concurrent creations, so the limit holds under a burst of requests; NO KEY
            // UPDATE leaves alone what only references the user (a sign-in creating a session).
            let locked = try await connection.query(
                "SELECT 1 FROM auth.users WHERE id = \(userID) FOR NO KEY UPDATE", logger: database.logger)
            var exists = false
            for try await _ in locked { exists = true }
            guard exists else { throw AppError.unauthenticated() }
            let counted = try await connection.query(
                """
                SELECT count(*) FROM auth.api_keys WHERE user_id = \(userID) AND revoked_at IS NULL
                """, logger: database.logger)
            var active = 0
            for try await (count) in counted.decode(Int.self) { active = count }
            guard active < APIKeyRequest.maxActiveKeys else {
                throw AppError.resourceExhausted(
                    "at most \(APIKeyRequest.maxActiveKeys) API keys may exist at once (expired ones included); "
                        + "delete one first")
            }
            let rows = try await connection.query(
                """
                INSERT INTO auth.api_keys (id, user_id, name, visible_prefix, secret_hash, scopes, expires_at)
                VALUES (\(id), \(userID), \(request.name), \(visiblePrefix), \(hash), \(scopes), \(request.expiresAt))
                RETURNING created_at
                """, logger: database.logger)
            for try await createdAt in rows.decode(Date.self) {
                return APIKeyRecord(
                    id: id, name: request.name, visiblePrefix: visiblePrefix, scopes: request.scopes,
                    createdAt: createdAt, expiresAt: request.expiresAt, lastUsedAt: nil)
            }
            throw AppError.internal
        }
    }

    /// The user's keys that are not revoked (expired ones included, so they can be seen and removed), newest first.
    func keys(of userID: UUID) async throws -> [APIKeyRecord] {
        let rows = try await database.client.query(
            """
            SELECT id, name, visible_prefix, scopes, created_at, expires_at, last_used_at
            FROM auth.api_keys WHERE user_id = \(userID) AND revoked_at IS NULL
            ORDER BY created_at DESC, id
            """, logger: database.logger)
        var keys: [APIKeyRecord] = []
        for try await row in rows.decode((UUID, String, String, [String], Date, Date?, Date?).self) {
            keys.append(
                APIKeyRecord(
                    id: row.0, name: row.1, visiblePrefix: row.2, scopes: Self.scopes(row.3), createdAt: row.4,
                    expiresAt: row.5, lastUsedAt: row.6))
        }
        return keys
    }

    /// Revokes the user's key; false when there is no such unrevoked key of theirs.
    func revoke(id: UUID, userID: UUID) async throws -> Bool {
        let rows = try await database.client.query(
            """
            UPDATE auth.api_keys SET revoked_at = now()
            WHERE id = \(id) AND user_id = \(userID) AND revoked_at IS NULL
            RETURNING id
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// The user of a live key, and whether its last-used time is stale enough to be written again.
    func keyUser(secretHash: [UInt8]) async throws -> (user: AuthenticatedUser, lastUseIsStale: Bool)? {
        let rows = try await database.client.execute(
            APIKeyUserStatement(secretHash: ByteBuffer(bytes: secretHash)), logger: database.logger)
        for try await match in rows { return match }
        return nil
    }

    /// Records that the key was used; a no-op when another request recorded it within the granularity.
    func recordUse(of id: UUID) async throws {
        try await database.client.query(
            """
            UPDATE auth.api_keys SET last_used_at = now()
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < now() - \(APIKeyUserStatement.lastUseGranularity)::interval)
            """, logger: database.logger)
    }

    /// Scopes a later release no longer knows are not granted.
    static func scopes(_ raw: [String]) -> [APIScope] { raw.compactMap(APIScope.init(rawValue:)).sorted() }
}

/// The user behind an API key's hash, on every request a key makes: prepared.
struct APIKeyUserStatement: PostgresPreparedStatement {
    /// How stale `last_used_at` may get: one write per key per interval, not one per request.
    static let lastUseGranularity = "5 minutes"
    static let name = "auth.api_key_user"
    static let sql = """
        SELECT k.id, k.scopes, k.last_used_at IS NULL OR k.last_used_at < now() - interval '\(lastUseGranularity)',
               u.id, u.discord_id, u.username
        FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id
        WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
        """
    typealias Row = (user: AuthenticatedUser, lastUseIsStale: Bool)

    let secretHash: ByteBuffer

    func makeBindings() throws -> PostgresBindings { PostgresBindings(secretHash) }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (keyID, scopes, stale, userID, discordID, username) = try row.decode(
            (UUID, [String], Bool, UUID, String, String).self)
        let user = AuthenticatedUser(
            id: userID, credential: .apiKey(id: keyID, scopes: Set(APIKeyRepository.scopes(scopes))),
            discordID: discordID, username: username)
        return (user, stale)
    }
}
