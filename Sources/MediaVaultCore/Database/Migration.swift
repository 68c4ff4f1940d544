import Crypto
import Foundation
import Logging
import PostgresNIO

/// One ordered schema change of a module. Statements run in order inside one transaction.
public struct Migration: Sendable {
    public let module: String
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(module: String, version: Int, name: String, statements: [String]) {
        self.module = module
        self.version = version
        self.name = name
        self.statements = statements
    }

    /// Detects a migration edited after it was applied somewhere.
    var checksum: String {
        Hex.encode(SHA256.hash(data: Data(statements.joined(separator: "\n;\n").utf8)))
    }
}

/// Applies migrations once each, in module-then-version order, under a PostgreSQL advisory lock so that several
/// gateway replicas starting together are safe. Applied migrations are recorded in `public.schema_migrations`.
public struct MigrationRunner: Sendable {
    /// Arbitrary but fixed: every MediaVault process contends on the same lock.
    static let advisoryLockKey: Int64 = 0x4D56_4D49_4752  // "MVMIGR"

    let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies pending migrations and returns the names of those this call applied.
    @discardableResult
    public func run(on client: PostgresClient) async throws -> [String] {
        try Self.validate(migrations)
        return try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await applyPending(on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                // Session-level locks outlive a failed transaction; release before handing the connection back.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS public.schema_migrations (
                module text NOT NULL,
                version integer NOT NULL,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (module, version)
            )
            """, logger: logger)
        var done: [String: String] = [:]
        let rows = try await connection.query(
            "SELECT module, version, checksum FROM public.schema_migrations", logger: logger)
        for try await (module, version, checksum) in rows.decode((String, Int, String).self) {
            done["\(module)/\(version)"] = checksum
        }
        var applied: [String] = []
        for migration in migrations {
            let key = "\(migration.module)/\(migration.version)"
            if let checksum = done[key] {
                if checksum != migration.checksum {
                    logger.warning(
                        "applied migration differs from the code's version",
                        metadata: ["migration": "\(key)_\(migration.name)"])
                }
                continue
            }
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO public.schema_migrations (module, version, name, checksum)
                    VALUES (\(migration.module), \(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
            }
            logger.info("applied migration", metadata: ["migration": "\(key)_\(migration.name)"])
            applied.append("\(key)_\(migration.name)")
        }
        return applied
    }

    static func validate(_ migrations: [Migration]) throws {
        var seen = Set<String>()
        var lastVersion: [String: Int] = [:]
        for migration in migrations {
            guard seen.insert("\(migration.module)/\(migration.version)").inserted else {
                throw MigrationError(message: "duplicate migration \(migration.module)/\(migration.version)")
            }
            if let last = lastVersion[migration.module], migration.version <= last {
                throw MigrationError(message: "migrations of \(migration.module) are out of order")
            }
            lastVersion[migration.module] = migration.version
        }
    }
}

public struct MigrationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
