import Foundation
import MediaVaultCore
import Testing

@Suite("Encore-style infra config")
struct InfraConfigTests {
    @Test("the current self-hosting format maps onto MediaVault's variables, with $env indirection")
    func currentFormat() throws {
        let json = """
            {
              "metadata": {"app_id": "mediavault", "env_name": "prod", "env_type": "production", "cloud": "local",
                           "base_url": "https://api.example.com"},
              "sql_servers": [{"host": "postgres:5432", "tls_config": {"disabled": true},
                               "databases": {"mediavault": {"username": "mv", "password": {"$env": "DB_PASSWORD"},
                                                            "max_connections": 30}}}],
              "pubsub": [{"type": "nsq", "hosts": "nsqd:4150", "topics": {"media-uploaded": {"name": "media-uploaded"}}}],
              "object_storage": [{"type": "s3", "region": "us-east-1", "endpoint": "http://minio:9000",
                                  "access_key_id": "minio", "secret_access_key": {"$env": "S3_SECRET"},
                                  "buckets": {"media": {"name": "mediavault-media"}}}],
              "secrets": {"DiscordClientSecret": {"$env": "DISCORD_SECRET_VALUE"}, "SessionSecret": "abc",
                          "DiscordClientID": "42"},
              "metrics": {"type": "prometheus", "remote_write_url": "http://prometheus:9090/api/v1/write"}
            }
            """
        let settings = try InfraConfig.settings(
            fromJSON: Data(json.utf8),
            environment: ["DB_PASSWORD": "pw", "S3_SECRET": "s3pw", "DISCORD_SECRET_VALUE": "discord"])
        #expect(settings["API_BASE_URL"] == "https://api.example.com")
        #expect(settings["POSTGRES_HOST"] == "postgres:5432")
        #expect(settings["POSTGRES_DB"] == "mediavault")
        #expect(settings["POSTGRES_USER"] == "mv")
        #expect(settings["POSTGRES_PASSWORD"] == "pw")
        #expect(settings["POSTGRES_TLS"] == "disable")
        #expect(settings["POSTGRES_MAX_CONNECTIONS"] == "30")
        #expect(settings["NSQ_HOSTS"] == "nsqd:4150")
        #expect(settings["S3_ENDPOINT"] == "minio:9000")
        #expect(settings["S3_USE_SSL"] == "false")
        #expect(settings["S3_ACCESS_KEY"] == "minio")
        #expect(settings["S3_SECRET_KEY"] == "s3pw")
        #expect(settings["S3_BUCKET"] == "mediavault-media")
        #expect(settings["DISCORD_CLIENT_SECRET"] == "discord")
        #expect(settings["DISCORD_CLIENT_ID"] == "42")
        #expect(settings["SESSION_SECRET"] == "abc")
    }

    @Test("the original project's older shape still works")
    func legacyFormat() throws {
        let json = """
            {
              "sql_servers": [{"id": "main", "host": "db.local:5433"}],
              "sql_databases": [{"server_id": "main", "name": "mediavault", "username": "legacy",
                                 "password": {"$env": "PGPASS"}}],
              "pubsub_topics": [{"type": "nsq", "hosts": ["nsq-a:4150", "nsq-b:4150"]}]
            }
            """
        let settings = try InfraConfig.settings(fromJSON: Data(json.utf8), environment: ["PGPASS": "old"])
        #expect(settings["POSTGRES_HOST"] == "db.local:5433")
        #expect(settings["POSTGRES_DB"] == "mediavault")
        #expect(settings["POSTGRES_USER"] == "legacy")
        #expect(settings["POSTGRES_PASSWORD"] == "old")
        #expect(settings["NSQ_HOSTS"] == "nsq-a:4150,nsq-b:4150")
    }

    /// The original Go/Encore backend's infra file: one database per service, `server_id` an index.
    static let originalJSON = """
        {
          "sql_servers": [{"host": "postgres:5432", "tls_config": {"disabled": true}}],
          "sql_databases": {
            "auth":       {"server_id": 0, "name": "mediavault_auth",
                           "username": {"$env": "POSTGRES_USER"}, "password": {"$env": "POSTGRES_PASSWORD"}},
            "media":      {"server_id": 0, "name": "mediavault_media",
                           "username": {"$env": "POSTGRES_USER"}, "password": {"$env": "POSTGRES_PASSWORD"}},
            "collection": {"server_id": 0, "name": "mediavault_collection",
                           "username": {"$env": "POSTGRES_USER"}, "password": {"$env": "POSTGRES_PASSWORD"}},
            "processing": {"server_id": 0, "name": "mediavault_processing",
                           "username": {"$env": "POSTGRES_USER"}, "password": {"$env": "POSTGRES_PASSWORD"}}
          }
        }
        """
    static let originalEnvironment = ["POSTGRES_USER": "vault", "POSTGRES_PASSWORD": "secret"]

    @Test("the original's sql_databases object names four databases; MediaVault uses the media one and says so")
    func originalObjectForm() throws {
        let data = Data(Self.originalJSON.utf8)
        let databases = try InfraConfig.databases(
            fromJSON: data, environment: Self.originalEnvironment, fileName: "prod.json")
        #expect(databases.map(\.key) == ["auth", "collection", "media", "processing"])
        #expect(databases.map(\.name) == [
            "mediavault_auth", "mediavault_collection", "mediavault_media", "mediavault_processing",
        ])
        for database in databases {
            #expect(database.host == "postgres:5432")
            #expect(database.username == "vault")
            #expect(database.password == "secret")
            #expect(database.tlsDisabled == true)
            #expect(database.maxConnections == nil)
        }

        let parsed = try InfraConfig.parse(fromJSON: data, environment: Self.originalEnvironment, fileName: "prod.json")
        #expect(parsed.settings["POSTGRES_DB"] == "mediavault_media")
        #expect(parsed.settings["POSTGRES_HOST"] == "postgres:5432")
        #expect(parsed.settings["POSTGRES_USER"] == "vault")
        #expect(parsed.settings["POSTGRES_PASSWORD"] == "secret")
        #expect(parsed.settings["POSTGRES_TLS"] == "disable")
        #expect(parsed.notices == [
            "prod.json names 4 databases (mediavault_auth, mediavault_collection, mediavault_media, "
                + "mediavault_processing); MediaVault keeps everything in one database and uses mediavault_media. "
                + "To bring the original's data over, run: mediavault import-original --infra-config prod.json"
        ])
        let settings = try InfraConfig.settings(fromJSON: data, environment: Self.originalEnvironment)
        #expect(settings == parsed.settings)
    }

    @Test("an explicit POSTGRES_DB chooses among several databases, and the notice names it")
    func explicitDatabaseAmongSeveral() throws {
        let environment = Self.originalEnvironment.merging(["POSTGRES_DB": "mediavault_auth"]) { $1 }
        let parsed = try InfraConfig.parse(
            fromJSON: Data(Self.originalJSON.utf8), environment: environment, fileName: "prod.json")
        #expect(parsed.settings["POSTGRES_DB"] == "mediavault_auth")
        #expect(parsed.notices.count == 1)
        #expect(parsed.notices.first?.contains("uses mediavault_auth (set by POSTGRES_DB)") == true)
    }

    @Test("several databases inside the current shape's server: the media one, with a notice")
    func severalNestedDatabases() throws {
        let json = """
            {"sql_servers": [{"host": "db:5432", "databases": {
              "mediavault_auth": {"username": "a"}, "mediavault_media": {"username": "m", "max_connections": 40}}}]}
            """
        let parsed = try InfraConfig.parse(fromJSON: Data(json.utf8), environment: [:], fileName: "infra.json")
        #expect(parsed.settings["POSTGRES_DB"] == "mediavault_media")
        #expect(parsed.settings["POSTGRES_USER"] == "m")
        #expect(parsed.settings["POSTGRES_MAX_CONNECTIONS"] == "40")
        #expect(parsed.settings["POSTGRES_HOST"] == "db:5432")
        #expect(parsed.notices.count == 1)
        #expect(parsed.notices.first?.contains("names 2 databases (mediavault_auth, mediavault_media)") == true)
    }

    @Test("an object form with one database gives no notice; a numeric server_id indexes sql_servers")
    func singleObjectDatabase() throws {
        let json = """
            {
              "sql_servers": [{"host": "first:5432"}, {"host": "second:5433", "tls_config": {}}],
              "sql_databases": {"vault": {"server_id": 1, "username": "u", "password": "p", "max_connections": 7}}
            }
            """
        let parsed = try InfraConfig.parse(fromJSON: Data(json.utf8), environment: [:])
        #expect(parsed.notices.isEmpty)
        #expect(parsed.settings["POSTGRES_HOST"] == "second:5433")
        #expect(parsed.settings["POSTGRES_DB"] == "vault")
        #expect(parsed.settings["POSTGRES_USER"] == "u")
        #expect(parsed.settings["POSTGRES_PASSWORD"] == "p")
        #expect(parsed.settings["POSTGRES_MAX_CONNECTIONS"] == "7")
        // A tls_config that does not disable TLS requires it.
        #expect(parsed.settings["POSTGRES_TLS"] == "require")
        let databases = try InfraConfig.databases(fromJSON: Data(json.utf8), environment: [:])
        #expect(databases == [
            InfraDatabase(
                key: "vault", name: "vault", host: "second:5433", username: "u", password: "p", tlsDisabled: false,
                maxConnections: "7")
        ])
    }

    @Test("a server_id that names no server is a clear problem")
    func unknownServer() {
        let byIndex = """
            {"sql_servers": [{"host": "postgres:5432"}], "sql_databases": {"media": {"server_id": 3, "name": "m"}}}
            """
        let byID = """
            {"sql_servers": [{"id": "main", "host": "postgres:5432"}],
             "sql_databases": [{"server_id": "other", "name": "m"}]}
            """
        for (json, expected) in [
            (byIndex, "prod.json: sql_databases.media.server_id 3 names no entry of sql_servers"),
            (byID, "prod.json: sql_databases[0].server_id \"other\" names no entry of sql_servers"),
        ] {
            for attempt in [
                { _ = try InfraConfig.settings(fromJSON: Data(json.utf8), environment: [:], fileName: "prod.json") },
                { _ = try InfraConfig.databases(fromJSON: Data(json.utf8), environment: [:], fileName: "prod.json") },
            ] as [() throws -> Void] {
                do {
                    try attempt()
                    Issue.record("expected a configuration error for \(json)")
                } catch let error as ConfigurationError {
                    #expect(error.problems == [expected])
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
        }
    }

    @Test("an unset $env variable and invalid JSON are clear errors")
    func errors() {
        let missing = #"{"sql_servers": [{"host": {"$env": "NOPE"}}]}"#
        #expect(throws: ConfigurationError.self) {
            try InfraConfig.settings(fromJSON: Data(missing.utf8), environment: [:])
        }
        do {
            _ = try InfraConfig.settings(fromJSON: Data(missing.utf8), environment: [:], fileName: "prod.json")
        } catch let error as ConfigurationError {
            #expect(error.problems == ["prod.json: sql_servers[0].host refers to environment variable NOPE, which is not set"])
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: ConfigurationError.self) {
            try InfraConfig.settings(fromJSON: Data("{not json".utf8), environment: [:])
        }
    }
}

@Suite(".env files and value parsing")
struct DotEnvTests {
    @Test("KEY=value, export, quotes and comments")
    func parsing() throws {
        let values = try DotEnvParser.parse(
            """
            # comment
            PLAIN=value
            export EXPORTED=yes
            QUOTED="two words"
            SINGLE='keep # this'
            TRAILING=value # note
            EMPTY=
            COMMENTED=        # optional: nothing set
            """)
        #expect(values == [
            "PLAIN": "value", "EXPORTED": "yes", "QUOTED": "two words", "SINGLE": "keep # this", "TRAILING": "value",
            "EMPTY": "", "COMMENTED": "",
        ])
        #expect(throws: ConfigurationError.self) { try DotEnvParser.parse("NOT A LINE") }
    }

    @Test("sizes and host:port")
    func values() {
        #expect(ByteCountParser.parse("5GiB") == 5 << 30)
        #expect(ByteCountParser.parse("512MiB") == 512 << 20)
        #expect(ByteCountParser.parse("10k") == 10_000)
        #expect(ByteCountParser.parse("1234") == 1234)
        #expect(ByteCountParser.parse("lots") == nil)
        #expect(CoreConfiguration.hostAndPort("db:5433", defaultPort: 5432)! == ("db", 5433))
        #expect(CoreConfiguration.hostAndPort("db", defaultPort: 5432)! == ("db", 5432))
        #expect(CoreConfiguration.hostAndPort("[::1]:6000", defaultPort: 5432)! == ("::1", 6000))
        #expect(CoreConfiguration.hostAndPort("db:0", defaultPort: 5432) == nil)
    }

    @Test("secret names convert from Encore's CamelCase")
    func secretNames() {
        #expect(InfraConfig.environmentName(forSecret: "DiscordClientSecret") == "DISCORD_CLIENT_SECRET")
        #expect(InfraConfig.environmentName(forSecret: "DiscordClientID") == "DISCORD_CLIENT_ID")
        #expect(InfraConfig.environmentName(forSecret: "SESSION_SECRET") == "SESSION_SECRET")
    }
}
