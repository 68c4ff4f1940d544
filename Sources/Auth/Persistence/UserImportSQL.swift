import Foundation
import MediaVaultCore
import PostgresNIO

/// Accounts for the original backend's users, found and created by Discord id, so people sign in as before and find
/// their things.
struct UserImportSQL: UserImporting {
    let logger: Logger

    func adoptUsers(_ users: [OriginalUser], on connection: PostgresConnection) async throws -> UserAdoption {
        guard !users.isEmpty else { return UserAdoption(accounts: [:], created: []) }
        let epoch = Date(timeIntervalSince1970: 0)
        // The original's created_at may be NULL; the epoch stands for "unknown" in the array and becomes now().
        let inserted = try await connection.query(
            """
            INSERT INTO auth.users (id, discord_id, username, avatar_hash, created_at)
            SELECT u.id, u.discord_id, u.username, NULLIF(u.avatar_hash, ''),
                   CASE WHEN u.created_at = \(epoch) THEN now() ELSE u.created_at END
            FROM unnest(\(users.map { _ in UUID() })::uuid[], \(users.map(\.discordID))::text[],
                        \(users.map(\.username))::text[], \(users.map { Self.avatarHash(fromURL: $0.avatarURL) ?? "" })::text[],
                        \(users.map { $0.createdAt ?? epoch })::timestamptz[])
                 AS u (id, discord_id, username, avatar_hash, created_at)
            ON CONFLICT (discord_id) DO NOTHING
            RETURNING discord_id
            """, logger: logger)
        var created: Set<String> = []
        for try await discordID in inserted.decode(String.self) { created.insert(discordID) }
        return UserAdoption(
            accounts: try await existingAccounts(discordIDs: users.map(\.discordID), on: connection), created: created)
    }

    func existingAccounts(discordIDs: [String], on connection: PostgresConnection) async throws -> [String: UUID] {
        guard !discordIDs.isEmpty else { return [:] }
        let rows = try await connection.query(
            "SELECT discord_id, id FROM auth.users WHERE discord_id = ANY(\(discordIDs))", logger: logger)
        var accounts: [String: UUID] = [:]
        for try await (discordID, id) in rows.decode((String, UUID).self) { accounts[discordID] = id }
        return accounts
    }

    /// `https://cdn.discordapp.com/avatars/<user>/<hash>.png?size=…` → `<hash>`; anything else is no avatar (the
    /// next sign-in fills it in from Discord).
    static func avatarHash(fromURL url: String?) -> String? {
        guard let url, let components = URLComponents(string: url), components.host?.hasSuffix("discordapp.com") == true
            || components.host?.hasSuffix("discord.com") == true
        else { return nil }
        let parts = components.path.split(separator: "/")
        guard parts.count == 3, parts[0] == "avatars", let file = parts.last else { return nil }
        let hash = file.split(separator: ".").first.map(String.init) ?? ""
        return !hash.isEmpty && hash.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) ? hash : nil
    }
}
