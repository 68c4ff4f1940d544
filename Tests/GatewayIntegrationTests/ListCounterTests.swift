import Foundation
import Logging
import Media
import MediaVaultCore
import Prometheus
import TestSupport
import Testing

/// The per-owner list counters against `count(*)` after every kind of change, and the list totals they answer.
@Suite("Media: list counters stay exact")
struct ListCounterTests {
    /// Counter rows that disagree with the rows they count (status and tag), as readable lines; empty when exact.
    static func drift(_ gateway: GatewayHarness) async throws -> [String] {
        try await TestPostgres.withClient(gateway.database) { database in
            let rows = try await database.client.query(
                """
                SELECT 'status ' || COALESCE(e.status, s.status) || ': ' || COALESCE(e.n, 0) || ' rows, counter '
                       || COALESCE(s.item_count::text, 'missing')
                FROM (SELECT owner_id, status, count(*) AS n FROM media.items GROUP BY owner_id, status) e
                FULL JOIN media.owner_status_counts s ON s.owner_id = e.owner_id AND s.status = e.status
                WHERE COALESCE(e.n, 0) <> COALESCE(s.item_count, 0)
                UNION ALL
                SELECT 'tag ' || COALESCE(e.tag, s.tag) || ': ' || COALESCE(e.n, 0) || ' rows, counter '
                       || COALESCE(s.item_count::text, 'missing')
                FROM (SELECT owner_id, tag, count(*) AS n FROM media.tags GROUP BY owner_id, tag) e
                FULL JOIN media.owner_tag_counts s ON s.owner_id = e.owner_id AND s.tag = e.tag
                WHERE COALESCE(e.n, 0) <> COALESCE(s.item_count, 0)
                UNION ALL
                SELECT 'empty tag counter ' || tag FROM media.owner_tag_counts WHERE item_count <= 0
                """, logger: database.logger)
            var lines: [String] = []
            for try await line in rows.decode(String.self) { lines.append(line) }
            return lines
        }
    }

    /// The API's totals for `token` against `count(*)` of that owner's rows: unfiltered, per status, per tag.
    static func expectTotalsExact(_ gateway: GatewayHarness, token: String, owner: String, tags: [String]) async throws {
        func total(_ query: String) async throws -> Int? {
            try await gateway.request(.GET, "/media?\(query)", token: token).json["total_count"] as? Int
        }
        let ownerFilter = "owner_id = (SELECT id FROM auth.users WHERE discord_id = '\(owner)')"
        #expect(try await total("") == (try await gateway.scalar("SELECT count(*) FROM media.items WHERE \(ownerFilter)")))
        for status in MediaStatus.allCases {
            let exact = try await gateway.scalar(
                "SELECT count(*) FROM media.items WHERE \(ownerFilter) AND status = '\(status.rawValue)'")
            #expect(try await total("status=\(status.rawValue)") == exact, "status \(status)")
        }
        for tag in tags {
            let exact = try await gateway.scalar("SELECT count(*) FROM media.tags WHERE \(ownerFilter) AND tag = '\(tag)'")
            #expect(try await total("tags=\(tag)") == exact, "tag \(tag)")
        }
    }

    static func sign(_ gateway: GatewayHarness, token: String, name: String) async throws -> (id: String, url: String) {
        let sign = try await gateway.request(
            .POST, "/media/upload/sign", token: token, body: #"{"filename": "\#(name)", "mime_type": "image/png"}"#)
        #expect(sign.status == 200, "\(sign.text)")
        return (try #require(sign.json["media_id"] as? String), try #require(sign.json["upload_url"] as? String))
    }

    static func tags(_ gateway: GatewayHarness, token: String, media: String, add: [String] = [], remove: [String] = [])
        async throws -> Int
    {
        let body = try String(
            decoding: JSONSerialization.data(withJSONObject: ["add_tags": add, "remove_tags": remove]), as: UTF8.self)
        return try await gateway.request(.PATCH, "/media/\(media)/tags", token: token, body: body).status
    }

    @Test("sign, confirm, tags, processing, failure, deletion and the abandoned-upload sweep keep every counter exact")
    func everyChangeKeepsCountersExact() async throws {
        try await GatewayHarness.with(extraEnvironment: ["JANITOR_INTERVAL_SECONDS": "1", "ABANDONED_UPLOAD_HOURS": "1"]) {
            gateway in
            let alice = try await gateway.token(for: "8101")
            let bob = try await gateway.token(for: "8102")
            var media: [String] = []
            for index in 0..<4 {
                let (id, url) = try await Self.sign(gateway, token: alice, name: "p\(index).png")
                media.append(id)
                #expect(try await Self.drift(gateway) == [], "after sign \(index)")
                if index < 3 {
                    _ = try await gateway.request(
                        .PUT, url, headers: [("Content-Type", "image/png")], bytes: MediaFlowTests.bytes(64))
                    let confirm = try await gateway.request(
                        .POST, "/media/upload/confirm", token: alice, body: #"{"media_id": "\#(id)"}"#)
                    #expect(confirm.status == 200)
                    #expect(try await Self.drift(gateway) == [], "after confirm \(index)")
                }
            }
            _ = try await Self.sign(gateway, token: bob, name: "bob.png")

            #expect(try await Self.tags(gateway, token: alice, media: media[0], add: ["beach", "sunset"]) == 200)
            #expect(try await Self.tags(gateway, token: alice, media: media[1], add: ["beach"]) == 200)
            #expect(try await Self.tags(gateway, token: alice, media: media[2], add: ["beach", "family"]) == 200)
            #expect(try await Self.drift(gateway) == [])
            #expect(try await Self.tags(gateway, token: alice, media: media[0], remove: ["sunset"]) == 200)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.owner_tag_counts WHERE tag = 'sunset'") == 0)
            // A refused edit (too many tags) changes nothing, counters included.
            let tooMany = (0..<60).map { "t\($0)" }
            #expect(try await Self.tags(gateway, token: alice, media: media[1], add: tooMany) == 400)
            #expect(try await Self.drift(gateway) == [])
            try await Self.expectTotalsExact(gateway, token: alice, owner: "8101", tags: ["beach", "family", "sunset"])

            // The worker's side: processing, ready, failed, queued again.
            let ledger = MediaModule.processingLedger(logger: Logger(label: "test"))
            let (processed, failing) = (UUID(uuidString: media[0])!, UUID(uuidString: media[1])!)
            try await TestPostgres.withClient(gateway.database) { database in
                try await database.transaction { connection in
                    try await ledger.markProcessing(mediaID: processed, on: connection)
                    try await ledger.markProcessing(mediaID: failing, on: connection)
                }
                try await database.transaction { connection in
                    try await ledger.markFailed(mediaID: failing, reason: "corrupt", on: connection)
                    try await ledger.markQueued(mediaID: processed, on: connection)
                }
            }
            #expect(try await Self.drift(gateway) == [])
            // The job's own end, as the worker would record it next to the media's.
            try await gateway.sql("UPDATE processing.jobs SET status = 'failed' WHERE media_id = '\(failing)'")
            let reprocess = try await gateway.request(.POST, "/media/\(media[1])/reprocess", token: alice)
            #expect(reprocess.status == 200, "\(reprocess.text)")
            #expect(try await Self.drift(gateway) == [])
            try await Self.expectTotalsExact(gateway, token: alice, owner: "8101", tags: ["beach", "family"])

            #expect(try await gateway.request(.DELETE, "/media/\(media[2])", token: alice).status == 200)
            #expect(try await Self.drift(gateway) == [], "after deletion (tags cascade)")
            #expect(try await gateway.scalar("SELECT count(*) FROM media.owner_tag_counts WHERE tag = 'family'") == 0)

            // The never-confirmed upload ages out and the janitor removes it.
            try await gateway.sql("UPDATE media.items SET created_at = now() - interval '2 hours' WHERE id = '\(media[3])'")
            var swept = false
            for _ in 0..<40 where !swept {
                try await Task.sleep(for: .milliseconds(250))
                swept = try await gateway.scalar("SELECT count(*) FROM media.items WHERE id = '\(media[3])'") == 0
            }
            #expect(swept)
            #expect(try await Self.drift(gateway) == [], "after the sweep")
            try await Self.expectTotalsExact(gateway, token: alice, owner: "8101", tags: ["beach"])
            try await Self.expectTotalsExact(gateway, token: bob, owner: "8102", tags: [])
        }
    }

    @Test("concurrent tag edits on the same and different media leave exact tag counters")
    func concurrentTagEdits() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "8201")
            var media: [String] = []
            for index in 0..<6 {
                let (id, _) = try await Self.sign(gateway, token: token, name: "c\(index).png")
                media.append(id)
            }
            let vocabulary = ["red", "green", "blue", "cyan"]
            try await withThrowingTaskGroup(of: Int.self) { group in
                for round in 0..<60 {
                    let target = media[round % media.count]
                    let add = [vocabulary[round % 4], vocabulary[(round / 3) % 4]]
                    let remove = [vocabulary[(round + 1) % 4]]
                    group.addTask { try await Self.tags(gateway, token: token, media: target, add: add, remove: remove) }
                }
                for try await status in group { #expect(status == 200) }
            }
            #expect(try await Self.drift(gateway) == [])
            try await Self.expectTotalsExact(gateway, token: token, owner: "8201", tags: vocabulary)
        }
    }

    @Test("the periodic check repairs counters that drifted behind the triggers' back, and finds nothing after")
    func periodicCheckRepairsDrift() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "8301")
            let (first, _) = try await Self.sign(gateway, token: token, name: "a.png")
            _ = try await Self.sign(gateway, token: token, name: "b.png")
            #expect(try await Self.tags(gateway, token: token, media: first, add: ["kept"]) == 200)
            // Drift no normal path can cause: triggers off while rows change, counters edited by hand.
            try await TestPostgres.withClient(gateway.database) { database in
                try await database.transaction { connection in
                    for statement in [
                        "ALTER TABLE media.tags DISABLE TRIGGER USER",
                        """
                        INSERT INTO media.tags (media_id, owner_id, tag, item_created_at, item_status)
                        SELECT id, owner_id, 'untracked', created_at, status FROM media.items
                        """,
                        "ALTER TABLE media.tags ENABLE TRIGGER USER",
                        "ALTER TABLE media.items DISABLE TRIGGER USER",
                        "UPDATE media.items SET status = 'failed' WHERE id = '\(first)'",
                        "ALTER TABLE media.items ENABLE TRIGGER USER",
                        "UPDATE media.owner_status_counts SET item_count = 40",
                        """
                        INSERT INTO media.owner_tag_counts (owner_id, tag, item_count)
                        SELECT owner_id, 'ghost', 3 FROM media.owner_status_counts LIMIT 1
                        """,
                    ] {
                        try await connection.query(.init(unsafeSQL: statement), logger: database.logger)
                    }
                }
            }
            // uploading 40 instead of 1 and no failed counter; the untracked tag; the ghost tag.
            #expect(try await Self.drift(gateway).count == 4)
            let repaired = try await TestPostgres.withClient(gateway.database) { database in
                let check = ListCounterCheck(
                    repository: MediaRepository(database: database, defaultQuotaBytes: nil), interval: .seconds(3600),
                    registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
                let first = await check.runOnce()
                let second = await check.runOnce()
                return (first, second)
            }
            #expect(
                repaired.0 == 6,
                "two status counters, the untracked and the ghost tag, and the two tag rows still saying uploading")
            #expect(repaired.1 == 0)
            #expect(try await Self.drift(gateway) == [])
            try await Self.expectTotalsExact(gateway, token: token, owner: "8301", tags: ["kept", "untracked", "ghost"])
            let failedAndKept = try await gateway.request(.GET, "/media?tags=kept&status=failed", token: token)
            #expect(failedAndKept.json["total_count"] as? Int == 1)
        }
    }

    @Test("a bulk statement over many owners updates their counters once each, and tags cannot be rewritten in place")
    func bulkStatements() async throws {
        try await GatewayHarness.with { gateway in
            for user in ["8401", "8402", "8403"] { _ = try await gateway.token(for: user) }
            for statement in [
                """
                INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, status, object_key)
                SELECT gen_random_uuid(), u.id, 'bulk ' || n, 'bulk.png', 'image/png',
                       (ARRAY['queued', 'ready', 'failed'])[1 + n % 3], 'original/bulk/' || u.id || '/' || n
                FROM auth.users u CROSS JOIN generate_series(1, 300) AS n
                """,
                "INSERT INTO media.tags (media_id, owner_id, tag) SELECT id, owner_id, 'bulk' FROM media.items",
                "UPDATE media.items SET status = 'ready' WHERE status = 'queued'",
                "DELETE FROM media.items WHERE status = 'failed' AND title LIKE 'bulk 1%'",
            ] {
                try await gateway.sql(statement)
            }
            #expect(try await Self.drift(gateway) == [])
            await #expect(throws: (any Error).self) {
                try await gateway.sql("UPDATE media.tags SET tag = 'renamed'")
            }
            #expect(try await Self.drift(gateway) == [])
        }
    }

    @Test("one tag's pages (alone or with a status), newest and oldest first, match the general query page by page")
    func tagPagesMatchTheGeneralQuery() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "8501")
            _ = try await gateway.token(for: "8502")
            // 57 items, a third tagged "pick"; ties in creation time broken by id; another owner's "pick" items
            // must never show.
            for statement in [
                """
                INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, status, object_key,
                                         created_at)
                SELECT gen_random_uuid(), u.id, 'item ' || n, 'item.png', 'image/png', 'ready',
                       'original/pages/' || u.id || '/' || n, timestamptz '2026-01-01' + make_interval(mins => n / 2)
                FROM auth.users u CROSS JOIN generate_series(1, 57) AS n
                """,
                """
                INSERT INTO media.tags (media_id, owner_id, tag)
                SELECT id, owner_id, 'pick' FROM media.items WHERE (split_part(title, ' ', 2))::int % 3 = 0
                """,
                "INSERT INTO media.tags (media_id, owner_id, tag) SELECT id, owner_id, 'all' FROM media.items",
            ] {
                try await gateway.sql(statement)
            }
            func ids(_ query: String) async throws -> [String] {
                let reply = try await gateway.request(.GET, "/media?\(query)", token: token)
                #expect(reply.status == 200, "\(reply.text)")
                return (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            for sort in ["created_at_desc", "created_at_asc"] {
                var tagIndexPages: [String] = []
                var generalPages: [String] = []
                for page in 1...4 {
                    // The single tag takes the tag-index path; adding a second tag every item carries gives the
                    // same set through the general one.
                    tagIndexPages += try await ids("tags=pick&sort=\(sort)&page=\(page)&page_size=5")
                    generalPages += try await ids("tags=pick,all&sort=\(sort)&page=\(page)&page_size=5")
                }
                #expect(tagIndexPages.count == 19)
                #expect(tagIndexPages == generalPages, "\(sort)")
                let direction = sort.hasSuffix("desc") ? "DESC" : "ASC"
                let expected = try await gateway.text(
                    """
                    SELECT string_agg(i.id::text, ',' ORDER BY i.created_at \(direction), i.id \(direction))
                    FROM media.items i JOIN media.tags t ON t.media_id = i.id AND t.tag = 'pick'
                    WHERE i.owner_id = (SELECT id FROM auth.users WHERE discord_id = '8501')
                    """)
                #expect(tagIndexPages.joined(separator: ",") == expected)
            }
            let total = try await gateway.request(.GET, "/media?tags=pick&page=4&page_size=5", token: token)
            #expect(total.json["total_count"] as? Int == 19)

            // A status change reaches the tag rows, so one tag and a status is still one index walk, and right.
            try await gateway.sql(
                """
                UPDATE media.items SET status = 'failed'
                WHERE (split_part(title, ' ', 2))::int % 2 = 0
                """)
            var tagIndexPages: [String] = []
            var generalPages: [String] = []
            for page in 1...3 {
                tagIndexPages += try await ids("tags=pick&status=failed&page=\(page)&page_size=4")
                generalPages += try await ids("tags=pick,all&status=failed&page=\(page)&page_size=4")
            }
            #expect(tagIndexPages.count == 9)
            #expect(tagIndexPages == generalPages)
            let failed = try await gateway.request(.GET, "/media?tags=pick&status=failed", token: token)
            #expect(failed.json["total_count"] as? Int == 9)
            let ready = try await gateway.request(.GET, "/media?tags=pick&status=ready", token: token)
            #expect(ready.json["total_count"] as? Int == 10)

            // Filters no counter answers are counted exactly, a page past the end included.
            let matching = try await gateway.scalar(
                """
                SELECT count(*) FROM media.items WHERE title LIKE 'item 1%'
                AND owner_id = (SELECT id FROM auth.users WHERE discord_id = '8501')
                """)
            #expect(matching == 11)
            for page in [1, 2, 9] {
                let reply = try await gateway.request(.GET, "/media?q=item%201&page=\(page)&page_size=5", token: token)
                #expect(reply.json["total_count"] as? Int == matching, "page \(page)")
                #expect((reply.json["items"] as? [Any])?.count == [1: 5, 2: 5, 9: 0][page])
            }
        }
    }
}
