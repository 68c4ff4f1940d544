import Foundation
import GatewayApp
import MediaVaultCore
import Testing
import WorkerApp

@Suite("Gateway configuration")
struct ConfigurationTests {
    static let valid: [String: String] = [
        "SESSION_SECRET": String(repeating: "s", count: 40),
        "API_BASE_URL": "https://api.example.com",
        "FRONTEND_URL": "https://app.example.com",
        "DISCORD_CLIENT_ID": "123",
        "DISCORD_CLIENT_SECRET": "shh-very-secret",
    ]

    func problems(_ environment: [String: String]) -> [String] {
        do {
            _ = try GatewayConfiguration(source: ConfigSource(environment: environment))
            return []
        } catch let error as ConfigurationError {
            return error.problems
        } catch {
            return ["\(error)"]
        }
    }

    @Test("gateway and worker read the job pipeline's settings with the same validation")
    func processingSettingsAreShared() throws {
        let environment = Self.valid.merging(["NSQ_HOSTS": "nsqd:4150,nsqd-b", "JOB_STALE_SECONDS": "45"]) { $1 }
        let gateway = try GatewayConfiguration(source: ConfigSource(environment: environment))
        let worker = try WorkerConfiguration(source: ConfigSource(environment: environment))
        #expect(gateway.processing.nsqHosts == ["nsqd:4150", "nsqd-b"])
        #expect(worker.processing.nsqHosts == gateway.processing.nsqHosts)
        #expect(worker.processing.staleAfter == .seconds(45))
        #expect(worker.processing.usesNSQ)

        let invalid = Self.valid.merging(["NSQ_HOSTS": "nsqd:notaport"]) { $1 }
        #expect(problems(invalid).contains { $0.contains("NSQ_HOSTS") })
        var workerProblems: [String] = []
        do {
            _ = try WorkerConfiguration(source: ConfigSource(environment: invalid))
        } catch let error as ConfigurationError {
            workerProblems = error.problems
        }
        #expect(workerProblems.contains { $0.contains("NSQ_HOSTS") })
    }

    @Test("the original's S3 settings without STORAGE_BACKEND mean S3, in its default bucket media-vault")
    func originalStorageSettings() throws {
        let original = Self.valid.merging([
            "S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY": "minioadmin", "S3_SECRET_KEY": "minioadmin",
        ]) { $1 }
        let configuration = try GatewayConfiguration(source: ConfigSource(environment: original))
        guard case .s3(let s3, _, _) = configuration.storage.backend else {
            Issue.record("S3 settings without STORAGE_BACKEND chose \(configuration.storage.backend)")
            return
        }
        #expect(s3.bucket == "media-vault")
        #expect(configuration.storage.summary["bucket"] == "media-vault")
        #expect(configuration.storage.summary.values.allSatisfy { !"\($0)".contains("minioadmin") }, "no keys in logs")
        let local = try GatewayConfiguration(source: ConfigSource(environment: Self.valid))
        guard case .filesystem = local.storage.backend else {
            Issue.record("without S3 settings the filesystem store is the default")
            return
        }
        let explicit = try GatewayConfiguration(
            source: ConfigSource(environment: original.merging(["STORAGE_BACKEND": "filesystem"]) { $1 }))
        guard case .filesystem = explicit.storage.backend else {
            Issue.record("an explicit STORAGE_BACKEND wins")
            return
        }
        #expect(problems(Self.valid.merging(["STORAGE_BACKEND": "tape"]) { $1 }).contains { $0.contains("STORAGE_BACKEND") })
    }

    @Test("a complete production configuration is accepted with the original's variable names")
    func validProduction() throws {
        let configuration = try GatewayConfiguration(source: ConfigSource(environment: Self.valid.merging([
            "POSTGRES_HOST": "db.internal:6543", "POSTGRES_USER": "vault", "POSTGRES_PASSWORD": "pw",
            "POSTGRES_DB": "vaultdb",
        ]) { $1 }))
        #expect(configuration.core.database.host == "db.internal")
        #expect(configuration.core.database.port == 6543)
        #expect(configuration.core.database.database == "vaultdb")
        #expect(configuration.port == 4000)
        #expect(configuration.auth.discord?.redirectURI == "https://api.example.com/auth/discord/callback")
        #expect(configuration.auth.secureCookies)
        #expect(configuration.corsAllowedOrigins == ["https://app.example.com"])
        #expect(!configuration.auth.devLoginEnabled)
    }

    @Test("every missing or bad setting is reported on its own line, secrets never echoed")
    func problemsAreListed() {
        let found = problems([
            "SESSION_SECRET": "short-secret-value", "HTTP_PORT": "eighty", "POSTGRES_HOST": "db:99999",
            "LOG_FORMAT": "xml", "CORS_ALLOWED_ORIGINS": "*",
        ])
        let text = found.joined(separator: "\n")
        for name in [
            "SESSION_SECRET", "HTTP_PORT", "POSTGRES_HOST", "LOG_FORMAT", "CORS_ALLOWED_ORIGINS", "API_BASE_URL",
            "FRONTEND_URL", "DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET",
        ] {
            #expect(found.contains { $0.hasPrefix(name) }, "no line names \(name):\n\(text)")
        }
        #expect(!text.contains("short-secret-value"))
        #expect(found.allSatisfy { !$0.contains("\n") })
    }

    @Test("the development sign-in is refused in production")
    func devLoginOnlyInDevelopment() {
        #expect(problems(Self.valid.merging(["DEV_LOGIN": "true"]) { $1 }).contains { $0.hasPrefix("DEV_LOGIN") })
        let development = try? GatewayConfiguration(source: ConfigSource(environment: [
            "MEDIAVAULT_ENV": "development", "SESSION_SECRET": String(repeating: "d", count: 32),
        ]))
        #expect(development?.auth.devLoginEnabled == true)
        #expect(development?.auth.discord == nil, "Discord is optional in development")
    }

    @Test("the process environment wins over .env, which wins over the infra config")
    func precedence() throws {
        let infra = #"{"sql_servers": [{"host": "infra-db:5432", "databases": {"media": {"username": "infra"}}}]}"#
        let directory = NSTemporaryDirectory() + "mv-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try infra.write(toFile: directory + "/infra.json", atomically: true, encoding: .utf8)
        try "POSTGRES_USER=dotenv\nexport POSTGRES_DB='from dotenv' # comment\nMEDIAVAULT_INFRA_CONFIG=\(directory)/infra.json\n"
            .write(toFile: directory + "/.env", atomically: true, encoding: .utf8)
        let source = try ConfigSource.load(
            environment: ["POSTGRES_DB": "from-env"], workingDirectory: directory)
        #expect(source.rawValue("POSTGRES_DB") == "from-env")
        #expect(source.rawValue("POSTGRES_USER") == "dotenv")
        #expect(source.rawValue("POSTGRES_HOST") == "infra-db:5432")
    }
}
