import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// Schema `original_import`: which of the original's records an import has brought over. A record is claimed in the
/// same transaction that writes it, so a re-run imports only what is new, an interrupted run resumes where it
/// stopped, and something deleted here after its import does not come back.
public enum OriginalImportMigrations {
    public static let all: [Migration] = [
        Migration(
            module: "original_import", version: 1, name: "ledger",
            statements: [
                "CREATE SCHEMA IF NOT EXISTS original_import",
                """
                CREATE TABLE original_import.imported (
                    kind text NOT NULL CHECK (kind IN ('media', 'tagging', 'collection', 'collection_item')),
                    original_id text NOT NULL,
                    imported_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (kind, original_id)
                )
                """,
            ])
    ]
}

/// The kinds of record the ledger tracks (users are matched by Discord id instead: an account is never duplicated).
enum LedgerKind: String, Sendable {
    case media, tagging, collection
    case collectionItem = "collection_item"
}

struct ImportLedger: Sendable {
    let logger: Logger

    /// Records `ids` as imported and returns those that were not yet.
    func claim(_ kind: LedgerKind, _ ids: [String], on connection: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            INSERT INTO original_import.imported (kind, original_id)
            SELECT \(kind.rawValue), unnest(\(ids)::text[]) ON CONFLICT DO NOTHING RETURNING original_id
            """, logger: logger)
        var claimed: Set<String> = []
        for try await id in rows.decode(String.self) { claimed.insert(id) }
        return claimed
    }

    /// Those of `ids` an earlier run imported (no writes: a dry run).
    func imported(_ kind: LedgerKind, _ ids: [String], on connection: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            SELECT original_id FROM original_import.imported
            WHERE kind = \(kind.rawValue) AND original_id = ANY(\(ids))
            """, logger: logger)
        var found: Set<String> = []
        for try await id in rows.decode(String.self) { found.insert(id) }
        return found
    }

    /// Whether MediaVault's schema (and the ledger) exist yet: a dry run against a fresh database counts everything.
    static func targetIsMigrated(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT to_regclass('original_import.imported') IS NOT NULL AND to_regclass('auth.users') IS NOT NULL",
            logger: logger)
        for try await migrated in rows.decode(Bool.self) { return migrated }
        return false
    }
}
