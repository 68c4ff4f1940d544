import Foundation
import GatewayApp
import Logging
import MediaVaultCore
import NIOConcurrencyHelpers
import PostgresNIO
import TestSupport
import Testing

@Suite("Migrations and readiness against a real PostgreSQL")
struct DatabaseTests {
    @Test("two runners migrating one database at once apply each migration once")
    func concurrentMigrations() async throws {
        let configuration = try await TestPostgres.createDatabase()
        let logger = Logger(label: "migration-test")
        let runner = MigrationRunner(migrations: gatewayMigrations, logger: logger)
        let applied = try await TestPostgres.withClient(configuration) { database in
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<2 {
                    // Separate pools, as two gateway replicas would have.
                    group.addTask {
                        try await TestPostgres.withClient(configuration) { own in try await runner.run(on: own.client) }
                    }
                }
                var all: [String] = []
                for try await names in group { all += names }
                let recorded = try await database.client.query(
                    "SELECT count(*)::int FROM public.schema_migrations", logger: logger)
                for try await count in recorded.decode(Int.self) { #expect(count == gatewayMigrations.count) }
                return all
            }
        }
        #expect(applied.count == gatewayMigrations.count, "each migration applied by exactly one runner")
        #expect(Set(applied).count == applied.count)
        // A later run finds nothing to do.
        let again = try await TestPostgres.withClient(configuration) { database in
            try await runner.run(on: database.client)
        }
        #expect(again.isEmpty)
        try await TestPostgres.dropDatabase(configuration)
    }

    @Test("a failing migration leaves nothing behind and releases the lock")
    func failingMigrationRollsBack() async throws {
        let configuration = try await TestPostgres.createDatabase()
        let logger = Logger(label: "migration-test")
        let broken = [
            Migration(module: "demo", version: 1, name: "half", statements: [
                "CREATE TABLE public.demo_half (id int)", "THIS IS NOT SQL",
            ])
        ]
        try await TestPostgres.withClient(configuration) { database in
            await #expect(throws: (any Error).self) {
                try await MigrationRunner(migrations: broken, logger: logger).run(on: database.client)
            }
            let tables = try await database.client.query(
                "SELECT count(*)::int FROM pg_tables WHERE tablename = 'demo_half'", logger: logger)
            for try await count in tables.decode(Int.self) { #expect(count == 0) }
            // The advisory lock was released: a good migration set still runs.
            let applied = try await MigrationRunner(migrations: gatewayMigrations, logger: logger).run(on: database.client)
            #expect(applied.count == gatewayMigrations.count)
        }
        try await TestPostgres.dropDatabase(configuration)
    }

    @Test("/readyz answers 503 naming PostgreSQL while it is down, and 200 when it is back",
        .enabled(if: TemporaryPostgresCluster.isAvailable, "PostgreSQL server binaries are not installed"))
    func readinessFollowsPostgres() async throws {
        // Below Linux's ephemeral range (32768–60999): a port there can be taken by any outgoing connection, and
        // the cluster has to get the same port back after it is stopped.
        let port = Int.random(in: 20000..<30000)
        let cluster = try await TemporaryPostgresCluster.create(port: port)
        let step = NIOLockedValueBox("starting the cluster")
        do {
            try await cluster.start()
            // Bounded: a step that never returns must fail this test, naming the step, not stall the whole run.
            try await withTimeout(.seconds(120)) { try await checkReadiness(following: cluster, step: step) }
        } catch is TimeoutError {
            Issue.record("the readiness test hung while \(step.withLockedValue { $0 })")
            await cluster.destroy()
            return
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    func checkReadiness(following cluster: TemporaryPostgresCluster, step: NIOLockedValueBox<String>) async throws {
        func now(_ doing: String) { step.withLockedValue { $0 = doing } }
        let port = cluster.port
        let database = DatabaseConfiguration(
            host: "127.0.0.1", port: port, username: "postgres", password: nil, database: "postgres", maxConnections: 4)
        let discord = try await FakeDiscord.start()
        let environment = GatewayHarness.environment(database: database, discord: discord)
        let configuration = try GatewayConfiguration(source: ConfigSource(environment: environment))
        var logger = Logger(label: "readiness-test")
        logger.logLevel = .critical
        now("starting the gateway")
        let server = try await RunningServer.start { onRunning in
            try buildGateway(configuration: configuration, logger: logger, options: GatewayOptions(onServerRunning: onRunning))
        }
        let client = GatewayClient(baseURL: server.baseURL)
        now("asking /readyz with PostgreSQL up")

        #expect(try await client.status("/readyz") == 200)
        now("stopping PostgreSQL")
        try await cluster.stop()
        now("asking /readyz with PostgreSQL down")
        let down = try await client.get("/readyz")
        #expect(down.status == 503)
        let checks = down.json["checks"] as? [String: [String: Any]]
        #expect(checks?["postgres"]?["status"] as? String == "down")
        #expect(down.json["status"] as? String == "unavailable")
        #expect(try await client.status("/healthz") == 200, "the process itself is alive")

        now("starting PostgreSQL again")
        try await cluster.start()
        now("waiting for /readyz to recover")
        var recovered = false
        for _ in 0..<40 where !recovered {
            recovered = try await client.status("/readyz") == 200
            if !recovered { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(recovered)
        now("stopping the HTTP client")
        try await client.shutdown()
        now("stopping the gateway")
        try await server.stop()
        now("stopping the fake Discord")
        try await discord.stop()
    }
}
