import AsyncHTTPClient
import Foundation
import GatewayApp
import Logging
import MediaVaultCore
import ObjectStorage
import OriginalImport
import StorageService
import TestSupport
import Testing

/// A deployment of the original backend: its four databases with the schema its migrations created, realistic
/// rows, and objects under its keys in SeaweedFS; then the import, seen through the HTTP API.
@Suite("Importing a deployment of the original backend",
    .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/vipsthumbnail"), "libvips-tools is not installed"))
struct OriginalImportTests {
    static let logger: Logger = {
        var logger = Logger(label: "original-import-test")
        logger.logLevel = .warning
        return logger
    }()

    /// The original's tables, per service database, as its migrations created them.
    static let schema: [OriginalService: [String]] = [
        .auth: [
            """
            CREATE TABLE users (id BIGSERIAL PRIMARY KEY, discord_id TEXT UNIQUE NOT NULL, username TEXT NOT NULL,
                avatar_url TEXT, created_at TIMESTAMP DEFAULT NOW())
            """
        ],
        .media: [
            """
            CREATE TABLE media (id UUID PRIMARY KEY, owner_id BIGINT NOT NULL, title TEXT, original_filename TEXT,
                s3_key_original TEXT NOT NULL, s3_key_processed TEXT, mime_type TEXT, size_bytes BIGINT,
                duration_seconds INT,
                status TEXT NOT NULL CHECK (status IN ('uploading', 'queued', 'processing', 'ready', 'failed')),
                created_at TIMESTAMP DEFAULT NOW())
            """,
            "CREATE TABLE tags (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, color TEXT)",
            """
            CREATE TABLE media_tags (media_id UUID REFERENCES media(id) ON DELETE CASCADE,
                tag_id BIGINT REFERENCES tags(id) ON DELETE CASCADE, PRIMARY KEY (media_id, tag_id))
            """,
        ],
        .collection: [
            """
            CREATE TABLE collections (id UUID PRIMARY KEY, owner_id BIGINT NOT NULL, title TEXT NOT NULL,
                description TEXT, is_public BOOLEAN DEFAULT FALSE, share_token UUID, created_at TIMESTAMP DEFAULT NOW())
            """,
            """
            CREATE TABLE collection_items (collection_id UUID REFERENCES collections(id) ON DELETE CASCADE,
                media_id UUID NOT NULL, added_at TIMESTAMP DEFAULT NOW(), PRIMARY KEY (collection_id, media_id))
            """,
        ],
        .processing: [
            """
            CREATE TABLE processing_jobs (id UUID PRIMARY KEY, media_id UUID NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
                error_message TEXT, started_at TIMESTAMP, completed_at TIMESTAMP, created_at TIMESTAMP DEFAULT NOW())
            """
        ],
    ]

    /// One media row of the fixture and what it should become.
    struct Medium {
        let id: UUID
        let owner: Int64
        let status: String
        let key: String
        let processedKey: String?
        let mimeType: String
        var size: Int64
        let tagIDs: [Int64]
        let uploadedObject: Bool
    }

    struct Deployment {
        let databases: [OriginalService: DatabaseConfiguration]
        let media: [Medium]
        /// Discord id per original user id.
        let discordIDs: [Int64: String]
        let publicCollections: [UUID]
        /// Collection id → its share token, for collections that are not public.
        let sharedCollections: [UUID: String]
        let itemsPerCollection: [UUID: Int]
        let tags: [Int64: String]

        var sources: OriginalSources { get throws { try OriginalSources(databases: databases) } }

        func drop() async {
            for database in databases.values { try? await TestPostgres.dropDatabase(database) }
        }
    }

    static func execute(_ statements: [String], in database: DatabaseConfiguration) async throws {
        try await TestPostgres.withClient(database) { db in
            for statement in statements { try await db.client.query(.init(unsafeSQL: statement), logger: logger) }
        }
    }

    static func literal(_ text: String?) -> String {
        text.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL"
    }

    /// Four users (the fourth with nothing), 300 media across every status plus one whose owner does not exist,
    /// global tags (one our rules refuse), three collections per user (public, token-shared, token-less).
    static func makeDeployment(store: any ObjectStore, photo: URL, video: URL) async throws -> Deployment {
        var databases: [OriginalService: DatabaseConfiguration] = [:]
        for service in OriginalService.allCases {
            let database = try await TestPostgres.createDatabase()
            databases[service] = database
            try await execute(schema[service]!, in: database)
        }
        let discordIDs: [Int64: String] = [1: "910001", 2: "910002", 3: "910003", 4: "910004"]
        try await execute(
            discordIDs.sorted { $0.key < $1.key }.map { id, discordID in
                let avatar = id == 1 ? "'https://cdn.discordapp.com/avatars/\(discordID)/a1b2c3d4e5f6.png'" : "NULL"
                return """
                    INSERT INTO users (id, discord_id, username, avatar_url, created_at)
                    VALUES (\(id), '\(discordID)', 'person\(id)', \(avatar), '2023-0\(id)-01 10:00:00')
                    """
            } + ["SELECT setval('users_id_seq', 4)"], in: databases[.auth]!)

        let tags: [Int64: String] = [1: "Holiday", 2: "family", 3: "Road  Trip", 4: "bad/tag!"]
        var statements = tags.sorted { $0.key < $1.key }.map { "INSERT INTO tags (id, name, color) VALUES (\($0.key), \(literal($0.value)), '#ff0000')" }
        let photoSize = Int64(try Data(contentsOf: photo).count)
        let videoSize = Int64(try Data(contentsOf: video).count)
        var media: [Medium] = []
        for index in 0..<300 {
            let id = UUID()
            let owner = Int64(1 + index % 3)
            let status: String
            switch index % 20 {
            case 8: status = "queued"
            case 18: status = "processing"
            case 9: status = "failed"
            case 19: status = "uploading"
            case 7, 17: status = "ready"  // without a processed file: processed here
            default: status = "ready"
            }
            let processed = status == "ready" && index % 10 != 7
            // Everything that goes through processing here is a photo: the worker handles those in milliseconds.
            let needsProcessing = !processed && status != "uploading"
            let filename = needsProcessing ? "photo \(index).jpg" : "clip \(index).mp4"
            var tagIDs: [Int64] = [Int64(1 + index % 3)]
            if index % 5 == 0 { tagIDs.append(2) }
            if index % 7 == 0 { tagIDs.append(4) }
            let medium = Medium(
                id: id, owner: owner, status: status,
                key: "original/\(owner)/\(id.uuidString.lowercased())/\(filename)",
                processedKey: processed ? "processed/\(id.uuidString.lowercased()).mp4" : nil,
                mimeType: needsProcessing ? "image/jpeg" : "video/mp4",
                size: needsProcessing ? photoSize : videoSize, tagIDs: Array(Set(tagIDs)).sorted(),
                uploadedObject: status != "uploading")
            media.append(medium)
            let created = status == "uploading" && index % 40 == 19 ? "NOW()" : "'2024-01-01 00:00:00'::timestamp + interval '\(index) minutes'"
            statements.append(
                """
                INSERT INTO media (id, owner_id, title, original_filename, s3_key_original, s3_key_processed, mime_type,
                                   size_bytes, duration_seconds, status, created_at)
                VALUES ('\(id.uuidString.lowercased())', \(owner), \(literal(index % 4 == 0 ? nil : "Item \(index)")),
                        \(literal(filename)), \(literal(medium.key)), \(literal(medium.processedKey)),
                        '\(medium.mimeType)', \(medium.size), \(needsProcessing ? "NULL" : "3"), '\(status)', \(created))
                """)
            for tag in medium.tagIDs {
                statements.append("INSERT INTO media_tags (media_id, tag_id) VALUES ('\(id.uuidString.lowercased())', \(tag))")
            }
        }
        // A row whose owner is not one of the users: reported, not imported.
        statements.append(
            """
            INSERT INTO media (id, owner_id, s3_key_original, status)
            VALUES ('\(UUID().uuidString.lowercased())', 99, 'original/99/x/lost.mp4', 'ready')
            """)
        try await execute(statements, in: databases[.media]!)

        var collectionStatements: [String] = []
        var publicCollections: [UUID] = []
        var sharedCollections: [UUID: String] = [:]
        var itemsPerCollection: [UUID: Int] = [:]
        for owner in Int64(1)...3 {
            let owned = media.filter { $0.owner == owner && $0.status != "uploading" }
            for (kind, count) in [("public", 10), ("shared", 5), ("tokenless", 3)] {
                let id = UUID()
                let token = kind == "tokenless" ? nil : UUID().uuidString.lowercased()
                if kind == "public" { publicCollections.append(id) }
                if kind == "shared" { sharedCollections[id] = token }
                itemsPerCollection[id] = count
                collectionStatements.append(
                    """
                    INSERT INTO collections (id, owner_id, title, description, is_public, share_token)
                    VALUES ('\(id.uuidString.lowercased())', \(owner), 'Collection \(kind) \(owner)',
                            \(kind == "public" ? "'From the trip'" : "NULL"), \(kind == "public"),
                            \(token.map { "'\($0)'" } ?? "NULL"))
                    """)
                for (position, medium) in owned.prefix(count).enumerated() {
                    collectionStatements.append(
                        """
                        INSERT INTO collection_items (collection_id, media_id, added_at)
                        VALUES ('\(id.uuidString.lowercased())', '\(medium.id.uuidString.lowercased())',
                                '2024-02-01 00:00:00'::timestamp + interval '\(position) hours')
                        """)
                }
            }
        }
        try await execute(collectionStatements, in: databases[.collection]!)
        try await execute(
            media.filter { $0.status != "uploading" }.prefix(20).map {
                "INSERT INTO processing_jobs (id, media_id, status) VALUES (gen_random_uuid(), '\($0.id.uuidString.lowercased())', 'completed')"
            }, in: databases[.processing]!)

        // The objects, under the original's keys.
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = media.filter(\.uploadedObject)[...]
            func next() {
                guard let medium = pending.popFirst() else { return }
                group.addTask {
                    let file = medium.mimeType == "image/jpeg" ? photo : video
                    try await store.upload(from: file, to: ObjectKey(medium.key), contentType: medium.mimeType)
                    if let processed = medium.processedKey {
                        try await store.upload(from: video, to: ObjectKey(processed), contentType: "video/mp4")
                    }
                }
            }
            for _ in 0..<8 { next() }
            while try await group.next() != nil { next() }
        }
        return Deployment(
            databases: databases, media: media, discordIDs: discordIDs, publicCollections: publicCollections,
            sharedCollections: sharedCollections, itemsPerCollection: itemsPerCollection, tags: tags)
    }

    static func makePhoto() async throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-import-photo-\(UUID().uuidString).jpg")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=96x64", "-frames:v",
            "1", "-y", url.path,
        ])
        return url
    }

    static func makeBytes(_ count: Int) throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-import-bytes-\(UUID().uuidString).mp4")
        try Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: url)
        return url
    }

    /// Every id of the signed-in user's media, through the paged list.
    static func listedMedia(_ gateway: GatewayHarness, token: String) async throws -> (ids: Set<String>, total: Int, items: [[String: Any]]) {
        var ids: Set<String> = []
        var items: [[String: Any]] = []
        var total = 0
        for page in 1...10 {
            let reply = try await gateway.request(.GET, "/media?page=\(page)&page_size=100", token: token)
            #expect(reply.status == 200, "\(reply.text)")
            total = reply.json["total_count"] as? Int ?? -1
            let pageItems = reply.json["items"] as? [[String: Any]] ?? reply.json["media"] as? [[String: Any]] ?? []
            if pageItems.isEmpty { break }
            items += pageItems
            for item in pageItems { if let id = item["id"] as? String { ids.insert(id) } }
        }
        return (ids, total, items)
    }

    @Test("users, media, tags, collections and share links come over; the API shows each person exactly theirs")
    func importDeployment() async throws {
        let photo = try await Self.makePhoto()
        let video = try Self.makeBytes(4096)
        defer {
            try? FileManager.default.removeItem(at: photo)
            try? FileManager.default.removeItem(at: video)
        }
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            let configuration = try GatewayConfiguration(source: ConfigSource(environment: gateway.environment))
            let store = try Storage.make(
                configuration.storage, httpClient: gateway.http, publicBaseURL: configuration.apiBaseURL,
                signingKey: configuration.auth.sessionSecret, logger: Self.logger
            ).store
            let deployment = try await Self.makeDeployment(store: store, photo: photo, video: video)
            defer { Task { [deployment] in await deployment.drop() } }
            func run(_ options: ImportOptions) async throws -> ImportSummary {
                try await importOriginal(
                    configuration: configuration, sources: try deployment.sources, options: options, logger: Self.logger)
            }
            let imported = deployment.media
            let uploading = imported.filter { $0.status == "uploading" }.count
            let queued = imported.filter { $0.status != "uploading" && $0.processedKey == nil }.count
            let validTaggings = imported.reduce(0) { $0 + $1.tagIDs.filter { $0 != 4 }.count }
            let refusedTaggings = imported.filter { $0.tagIDs.contains(4) }.count

            // A dry run counts and writes nothing.
            let dry = try await run(ImportOptions(dryRun: true))
            #expect(dry.dryRun)
            #expect(dry.users.imported == 4)
            #expect(dry.media.imported == 300)
            #expect(dry.media.problems == 1)
            #expect(dry.collections.imported == 9)
            #expect(dry.collectionItems.imported == 54)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 0)
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.users") == 0)

            let first = try await run(ImportOptions(batchSize: 64))
            #expect(first.users.imported == 4)
            #expect(first.media.imported == 300)
            #expect(first.media.problems == 1)
            #expect(first.problems.contains { $0.contains("owner 99 is not one of the original's users") })
            #expect(first.tags.imported == validTaggings)
            #expect(first.tags.problems == refusedTaggings, "\(first.problems.filter { $0.contains("tag") }.prefix(3))")
            #expect(first.collections.imported == 9)
            #expect(first.collectionItems.imported == 54)
            #expect(first.queuedForProcessing == queued)
            #expect(first.uploadsInProgress == uploading)
            #expect(first.originalJobs == ["completed": 20])
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE status = 'queued'") == queued)
            #expect(try await gateway.scalar(
                "SELECT count(DISTINCT payload->>'media_id') FROM processing.outbox o JOIN processing.jobs j ON j.id::text = o.payload->>'job_id' AND j.media_id::text = o.payload->>'media_id'") == queued,
                "one message per job, naming its job and media")

            let avatar = try await gateway.text("SELECT COALESCE(avatar_hash, '') FROM auth.users WHERE discord_id = '910001'")
            #expect(avatar == "a1b2c3d4e5f6", "the hash inside the original's avatar URL")
            #expect(try await gateway.text("SELECT created_at::date::text FROM auth.users WHERE discord_id = '910002'") == "2023-02-01")

            // Each person signs in through Discord as before and finds exactly their media, with their tags.
            var tokens: [Int64: String] = [:]
            for owner in Int64(1)...3 {
                let token = try await gateway.token(for: deployment.discordIDs[owner]!, username: "person\(owner)")
                tokens[owner] = token
                let expected = Set(imported.filter { $0.owner == owner }.map { $0.id.uuidString.lowercased() })
                let listed = try await Self.listedMedia(gateway, token: token)
                #expect(listed.ids == expected)
                #expect(listed.total == expected.count)
                let sample = try #require(imported.first { $0.owner == owner && $0.tagIDs.count > 1 })
                let detail = try await gateway.request(.GET, "/media/\(sample.id.uuidString.lowercased())", token: token)
                let expectedTags = Set(sample.tagIDs.filter { $0 != 4 }.map {
                    deployment.tags[$0]!.lowercased().split(separator: " ").joined(separator: " ")
                })
                #expect(Set(detail.json["tags"] as? [String] ?? []) == expectedTags)
                let other = try #require(imported.first { $0.owner != owner })
                #expect(try await gateway.request(.GET, "/media/\(other.id.uuidString.lowercased())", token: token).status == 404)
            }
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.users") == 4, "signing in found the imported accounts")

            // Storage use is what the items add up to.
            for owner in Int64(1)...3 {
                let bytes = imported.filter { $0.owner == owner && $0.status != "uploading" }.reduce(Int64(0)) { $0 + $1.size }
                let me = try await gateway.request(.GET, "/auth/me", token: tokens[owner]!)
                #expect((me.json["storage_used_bytes"] as? Int).map(Int64.init) == bytes, "\(me.text)")
            }

            // Share links already handed out keep working, anonymously; public collections are public.
            for (id, token) in deployment.sharedCollections {
                let path = "/collection/\(id.uuidString.lowercased())"
                let shared = try await gateway.request(.GET, path + "?token=\(token)")
                #expect(shared.status == 200, "\(shared.text)")
                #expect((shared.json["items"] as? [Any])?.count == deployment.itemsPerCollection[id])
                #expect(try await gateway.request(.GET, path).status == 404)
                #expect(try await gateway.request(.GET, path + "?token=\(UUID().uuidString.lowercased())").status == 404)
            }
            for id in deployment.publicCollections {
                let reply = try await gateway.request(.GET, "/collection/\(id.uuidString.lowercased())")
                #expect(reply.status == 200)
                #expect((reply.json["items"] as? [Any])?.count == 10)
                #expect(reply.json["description"] as? String == "From the trip")
            }

            // The new worker picks up what the original never finished.
            try await ProcessingTests.withWorker(gateway) {
                let deadline = ContinuousClock.now + .seconds(180)
                while ContinuousClock.now < deadline,
                    try await gateway.scalar("SELECT count(*) FROM media.items WHERE status IN ('queued', 'processing')") > 0
                {
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items WHERE status = 'ready'") == 300 - uploading)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items WHERE preview_key IS NOT NULL") == queued)

            // Deleted here after the import: a re-run must not bring it back. Nothing else is new either.
            let removed = try #require(imported.first { $0.owner == 1 && $0.processedKey != nil })
            #expect(try await gateway.request(.DELETE, "/media/\(removed.id.uuidString.lowercased())", token: tokens[1]!).status == 200)
            // Cut-over: two uploads imported unfinished were finished in the original meanwhile.
            let finishing = imported.filter { $0.status == "uploading" }.prefix(2)
            let (nowReady, nowFailed) = (finishing.first!, finishing.last!)
            let readyProcessed = "processed/\(nowReady.id.uuidString.lowercased()).mp4"
            for key in [nowReady.key, readyProcessed, nowFailed.key] {
                try await store.upload(from: video, to: ObjectKey(key), contentType: "video/mp4")
            }
            try await Self.execute(
                [
                    "UPDATE media SET status = 'ready', s3_key_processed = '\(readyProcessed)' WHERE id = '\(nowReady.id.uuidString.lowercased())'",
                    "UPDATE media SET status = 'failed' WHERE id = '\(nowFailed.id.uuidString.lowercased())'",
                ], in: deployment.databases[.media]!)
            let second = try await run(ImportOptions())
            #expect(second.uploadsFinished == 2)
            #expect(try await gateway.text("SELECT status FROM media.items WHERE id = '\(nowReady.id.uuidString.lowercased())'") == "ready")
            #expect(try await gateway.text("SELECT status FROM media.items WHERE id = '\(nowFailed.id.uuidString.lowercased())'") == "queued")
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE media_id = '\(nowFailed.id.uuidString.lowercased())'") == 1)
            #expect(second.users.imported == 0 && second.users.skipped == 4)
            #expect(second.media.imported == 0 && second.media.skipped == 300)
            #expect(second.tags.imported == 0)
            #expect(second.collections.imported == 0 && second.collections.skipped == 9)
            #expect(second.collectionItems.imported == 0)
            #expect(second.queuedForProcessing == 1, "only the upload the original has since finished")
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items WHERE id = '\(removed.id.uuidString.lowercased())'") == 0)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 299)

            // --verify: a deleted object and one of another size are reported; the import still succeeds.
            let missing = try #require(imported.first { $0.owner == 2 && $0.processedKey != nil })
            try await store.delete(ObjectKey(missing.key))
            let resized = try #require(imported.last { $0.owner == 3 && $0.processedKey != nil })
            try await Self.execute(
                ["UPDATE media SET size_bytes = 1 WHERE id = '\(resized.id.uuidString.lowercased())'"],
                in: deployment.databases[.media]!)
            let verified = try await run(ImportOptions(verify: true))
            let verification = try #require(verified.verification)
            #expect(verification.missing == [missing.key])
            #expect(verification.sizeMismatches == ["\(resized.key): expected 1 bytes, found \(resized.size)"])
            // Every object of the imported media, less the two of the item deleted here, plus the three of the
            // uploads finished since.
            #expect(verification.checked == imported.filter(\.uploadedObject).count + imported.filter { $0.processedKey != nil }.count + 1)
            #expect(verified.media.imported == 0)
        }
    }

    @Test("the command imports from one database holding every table, MediaVault's own included",
        .enabled(if: MediaVaultBinary.path != nil, "the mediavault binary is not built"))
    func commandFromOneDatabase() async throws {
        try await GatewayHarness.with { gateway in
            // The original's tables in `public` of the very database MediaVault uses (its own live in schemas),
            // without the processing jobs, which are optional.
            try await Self.execute(
                Self.schema.filter { $0.key != .processing }.sorted { $0.key < $1.key }.flatMap(\.value),
                in: gateway.database)
            let collection = UUID().uuidString.lowercased()
            var statements = [
                "INSERT INTO users (id, discord_id, username) VALUES (1, '920001', 'ana'), (2, '920002', 'ben')",
                """
                INSERT INTO collections (id, owner_id, title, is_public, share_token)
                VALUES ('\(collection)', 2, 'Ben''s', true, gen_random_uuid())
                """,
            ]
            for index in 0..<4 {
                let id = UUID().uuidString.lowercased()
                let owner = 1 + index % 2
                statements.append(
                    """
                    INSERT INTO media (id, owner_id, title, original_filename, s3_key_original, s3_key_processed,
                                       mime_type, size_bytes, status)
                    VALUES ('\(id)', \(owner), 'Clip \(index)', 'clip.mp4', 'original/\(owner)/\(id)/clip.mp4',
                            'processed/\(id).mp4', 'video/mp4', 100, 'ready')
                    """)
                if owner == 2 {
                    statements.append("INSERT INTO collection_items (collection_id, media_id) VALUES ('\(collection)', '\(id)')")
                }
            }
            try await Self.execute(statements, in: gateway.database)
            let database = gateway.database
            let url = "postgres://\(database.username)@\(database.host):\(database.port)/\(database.database)"
            let environment = gateway.environment.map { "\($0.key)=\($0.value)" }
            let output = try await Shell.output(
                ["-i"] + environment + [MediaVaultBinary.path!, "import-original", "--database-url", url, "--json"])
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
            #expect((summary["users"] as? [String: Any])?["imported"] as? Int == 2)
            #expect((summary["media"] as? [String: Any])?["imported"] as? Int == 4)
            #expect((summary["collection_items"] as? [String: Any])?["imported"] as? Int == 2)
            #expect(summary["ready_from_original"] as? Int == 4)
            #expect((summary["original_jobs"] as? [String: Any])?.isEmpty == true)
            let shared = try await gateway.request(.GET, "/collection/\(collection)")
            #expect(shared.status == 200)
            #expect((shared.json["items"] as? [Any])?.count == 2)
            let token = try await gateway.token(for: "920001", username: "ana")
            #expect(try await Self.listedMedia(gateway, token: token).ids.count == 2)
        }
    }

    @Test("an unreachable database and an unexpected schema are clear errors naming the database and table")
    func clearErrors() async throws {
        let empty = try await TestPostgres.createDatabase()
        defer { Task { try? await TestPostgres.dropDatabase(empty) } }
        try await Self.execute(["CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT)"], in: empty)
        let target = try await TestPostgres.createMigratedDatabase(gatewayMigrations)
        defer { Task { try? await TestPostgres.dropDatabase(target) } }
        let discord = try await FakeDiscord.start()
        let environment = GatewayHarness.environment(database: target, discord: discord)
        let configuration = try GatewayConfiguration(source: ConfigSource(environment: environment))
        do {
            _ = try await importOriginal(
                configuration: configuration, sources: try OriginalSources(databases: [.auth: empty, .media: empty, .collection: empty]),
                options: ImportOptions(), logger: Self.logger)
            Issue.record("a database without the original's tables must be refused")
        } catch let error as ImportError {
            guard case .unexpectedSchema(let problems) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(problems.contains("auth database \(empty.database): table public.users has no columns discord_id, avatar_url, created_at"))
            #expect(problems.contains { $0.contains("table public.media does not exist") })
            #expect(problems.contains { $0.contains("table public.collection_items does not exist") })
        }
        var unreachable = empty
        unreachable.port = 1
        do {
            _ = try await importOriginal(
                configuration: configuration,
                sources: try OriginalSources(databases: [.auth: unreachable, .media: empty, .collection: empty]),
                options: ImportOptions(connectTimeout: .seconds(2)), logger: Self.logger)
            Issue.record("an unreachable database must be refused")
        } catch let error as ImportError {
            #expect("\(error)".hasPrefix("cannot reach the original's auth database \(empty.database)"), "\(error)")
        }
        try await discord.stop()
    }
}

/// The built `mediavault` executable, for tests of its commands.
enum MediaVaultBinary {
    static var path: String? {
        let candidate = WorkerBinary.path.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }?
            .appendingPathComponent("mediavault").path
        return candidate.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
    }
}
