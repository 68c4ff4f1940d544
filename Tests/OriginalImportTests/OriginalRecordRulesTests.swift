import Foundation
import MediaVaultCore
import Testing

@testable import OriginalImport

@Suite("What the original's rows become")
struct OriginalRecordRulesTests {
    static let owner = UUID()
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func mediaRow(
        status: String?, processedKey: String? = nil, title: String? = "Beach", filename: String? = "beach.mp4",
        key: String? = "original/7/0f6b2a52-3f0e-4c1e-9d38-2f7d1c0b5a11/beach.mp4", owner: Int64? = 7,
        mime: String? = "video/mp4", size: Int64? = 1234, duration: Double? = 12
    ) -> OriginalMediaRow {
        OriginalMediaRow(
            id: UUID(uuidString: "0f6b2a52-3f0e-4c1e-9d38-2f7d1c0b5a11")!, ownerID: owner, title: title,
            originalFilename: filename, originalKey: key, processedKey: processedKey, mimeType: mime, sizeBytes: size,
            durationSeconds: duration, status: status, createdAt: Date(timeIntervalSince1970: 1_600_000_000))
    }

    @Test("unfinished, failed and unprocessed ready items are queued; uploads stay uploads")
    func statuses() {
        #expect(OriginalRecordRules.status(original: "uploading", hasProcessedKey: false) == .uploading)
        for status in ["queued", "processing", "failed"] {
            #expect(OriginalRecordRules.status(original: status, hasProcessedKey: false) == .queued)
            #expect(OriginalRecordRules.status(original: status, hasProcessedKey: true) == .queued)
        }
        #expect(OriginalRecordRules.status(original: "ready", hasProcessedKey: true) == .ready)
        #expect(OriginalRecordRules.status(original: "ready", hasProcessedKey: false) == .queued)
        #expect(OriginalRecordRules.status(original: "READY", hasProcessedKey: true) == .ready)
        #expect(OriginalRecordRules.status(original: "archived", hasProcessedKey: true) == nil)
    }

    @Test("a media row keeps its id, keys, size and dates; the owner is the MediaVault account")
    func mediaKeepsIdentity() throws {
        let row = Self.mediaRow(status: "ready", processedKey: "processed/0f6b2a52.mp4")
        let item = try OriginalRecordRules.media(row, owner: Self.owner, now: Self.now).get()
        #expect(item.id == row.id)
        #expect(item.ownerID == Self.owner)
        #expect(item.objectKey == row.originalKey)
        #expect(item.processedKey == "processed/0f6b2a52.mp4")
        #expect(item.status == .ready)
        #expect(item.sizeBytes == 1234)
        #expect(item.durationSeconds == 12)
        #expect(item.createdAt == row.createdAt)
        #expect(item.title == "Beach")
    }

    @Test("a queued item does not keep an old processed key: processing writes its own")
    func queuedDropsProcessedKey() throws {
        let item = try OriginalRecordRules.media(
            Self.mediaRow(status: "failed", processedKey: "processed/x.mp4"), owner: Self.owner, now: Self.now
        ).get()
        #expect(item.status == .queued)
        #expect(item.processedKey == nil)
    }

    @Test("missing optional columns get MediaVault's defaults")
    func defaults() throws {
        let row = Self.mediaRow(status: "queued", title: "  ", filename: nil, mime: nil, size: nil, duration: 0)
        let item = try OriginalRecordRules.media(row, owner: Self.owner, now: Self.now).get()
        #expect(item.originalFilename == "beach.mp4", "the key's last component")
        #expect(item.title == "beach.mp4")
        #expect(item.mimeType == "application/octet-stream")
        #expect(item.sizeBytes == 0)
        #expect(item.durationSeconds == nil)
    }

    @Test("rows that cannot be imported say why")
    func refusals() {
        func reason(_ result: Result<OriginalMediaItem, OriginalRecordRules.Refusal>) -> String? {
            if case .failure(let refusal) = result { return refusal.reason }
            return nil
        }
        #expect(reason(OriginalRecordRules.media(Self.mediaRow(status: "ready"), owner: nil, now: Self.now))?
            .contains("owner 7 is not one of the original's users") == true)
        #expect(reason(OriginalRecordRules.media(Self.mediaRow(status: "ready", owner: nil), owner: nil, now: Self.now))?
            .contains("no owner") == true)
        #expect(reason(OriginalRecordRules.media(Self.mediaRow(status: "ready", key: ""), owner: Self.owner, now: Self.now))?
            .contains("no s3_key_original") == true)
        #expect(reason(OriginalRecordRules.media(Self.mediaRow(status: "gone"), owner: Self.owner, now: Self.now))?
            .contains("unknown status \"gone\"") == true)
    }

    @Test("a user needs a Discord id; a blank name falls back to it")
    func users() throws {
        let user = try OriginalRecordRules.user(
            OriginalUserRow(id: 3, discordID: " 80351110224678912 ", username: "", avatarURL: nil, createdAt: nil)
        ).get()
        #expect(user.discordID == "80351110224678912")
        #expect(user.username == "80351110224678912")
        guard case .failure = OriginalRecordRules.user(
            OriginalUserRow(id: 4, discordID: nil, username: "x", avatarURL: nil, createdAt: nil))
        else {
            Issue.record("a user without a Discord id cannot sign in and must not be imported")
            return
        }
    }

    @Test("a collection keeps its share token; one without a token gets a fresh one")
    func collections() throws {
        let id = UUID()
        let token = "6c1d8a4e-9b0f-4f43-8d56-1a2b3c4d5e6f"
        let kept = try OriginalRecordRules.collection(
            OriginalCollectionRow(
                id: id, ownerID: 1, title: "Trip", description: nil, isPublic: nil, shareToken: token, createdAt: nil),
            owner: Self.owner, now: Self.now
        ).get()
        #expect(kept.shareToken == token)
        #expect(kept.description == "")
        #expect(!kept.isPublic)
        #expect(kept.createdAt == Self.now)
        let fresh = try OriginalRecordRules.collection(
            OriginalCollectionRow(
                id: id, ownerID: 1, title: nil, description: "d", isPublic: true, shareToken: nil, createdAt: nil),
            owner: Self.owner, now: Self.now
        ).get()
        #expect(fresh.shareToken.count >= 40)
        #expect(fresh.title == "Untitled")
    }

    @Test("database URLs: user, password, port, database and TLS mode")
    func urls() throws {
        let parsed = try OriginalSources.parse(url: "postgres://vault:p%40ss@db.internal:6543/mediavault_media?sslmode=require")
        #expect(parsed.host == "db.internal")
        #expect(parsed.port == 6543)
        #expect(parsed.username == "vault")
        #expect(parsed.password == "p@ss")
        #expect(parsed.database == "mediavault_media")
        #expect(parsed.tls == .require)
        #expect(throws: ImportError.self) { try OriginalSources.parse(url: "mysql://db/x") }
        #expect(throws: ImportError.self) { try OriginalSources.parse(url: "postgres://db:5432/") }
        do {
            _ = try OriginalSources.parse(url: "postgres://u:secret@db:5432/x?sslmode=sometimes")
            Issue.record("an unknown sslmode must be refused")
        } catch {
            #expect(!"\(error)".contains("secret"), "the password never appears in messages")
        }
    }

    @Test("the original's infra file with four databases maps each service to its own")
    func infraFile() throws {
        let json = """
            {"sql_servers": [{"host": "postgres:5432", "tls_config": {"disabled": true}}],
             "sql_databases": {
               "auth": {"server_id": 0, "name": "mediavault_auth", "username": "mv", "password": {"$env": "PW"}},
               "media": {"server_id": 0, "name": "mediavault_media", "username": "mv", "password": {"$env": "PW"}},
               "collection": {"server_id": 0, "name": "mediavault_collection", "username": "mv", "password": {"$env": "PW"}},
               "processing": {"server_id": 0, "name": "mediavault_processing", "username": "mv", "password": {"$env": "PW"}}
             }}
            """
        let sources = try OriginalSources(infraJSON: Data(json.utf8), environment: ["PW": "pw"], fileName: "prod.json")
        #expect(sources.databases[.auth]?.database == "mediavault_auth")
        #expect(sources.databases[.media]?.database == "mediavault_media")
        #expect(sources.databases[.collection]?.database == "mediavault_collection")
        #expect(sources.databases[.processing]?.database == "mediavault_processing")
        #expect(sources.databases[.media]?.host == "postgres")
        #expect(sources.databases[.media]?.password == "pw")
        #expect(sources.databases[.media]?.tls == .disable)
        // The current shape, databases keyed by their names: every name starts with "media".
        let nested = """
            {"sql_servers": [{"host": "db:5433", "databases": {
               "mediavault_auth": {"username": "mv"}, "mediavault_collection": {"username": "mv"},
               "mediavault_media": {"username": "mv"}, "mediavault_processing": {"username": "mv"}}}]}
            """
        let byName = try OriginalSources(infraJSON: Data(nested.utf8), environment: [:], fileName: "local.json")
        #expect(byName.databases[.auth]?.database == "mediavault_auth")
        #expect(byName.databases[.media]?.database == "mediavault_media")
        #expect(byName.databases[.collection]?.database == "mediavault_collection")
        #expect(byName.databases[.media]?.port == 5433)
        let missing = #"{"sql_servers": [{"host": "pg:5432"}], "sql_databases": {"a": {"name": "x", "username": "u"}, "b": {"name": "y", "username": "u"}}}"#
        #expect(throws: ImportError.self) {
            try OriginalSources(infraJSON: Data(missing.utf8), environment: [:], fileName: "odd.json")
        }
    }

    @Test("the summary lists problems and counts them all")
    func summary() {
        var summary = ImportSummary()
        for index in 0..<(ImportSummary.listedProblems + 5) { summary.problem("problem \(index)") }
        #expect(summary.problemCount == ImportSummary.listedProblems + 5)
        #expect(summary.problems.count == ImportSummary.listedProblems)
        #expect(summary.report.contains("… and 5 more"))
    }
}
