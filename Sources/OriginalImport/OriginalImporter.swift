import Foundation
import Logging
import MediaVaultCore
import ObjectStorage
import PostgresNIO

public struct ImportOptions: Sendable {
    /// Counts what an import would do and writes nothing.
    public var dryRun: Bool
    /// HEADs every object the original's media name and reports missing or differently sized ones.
    public var verify: Bool
    /// Rows per transaction.
    public var batchSize: Int
    /// HEAD requests in flight while verifying.
    public var verifyConcurrency: Int
    /// How long each of the original's databases has to answer a first query.
    public var connectTimeout: Duration

    public init(
        dryRun: Bool = false, verify: Bool = false, batchSize: Int = 500, verifyConcurrency: Int = 16,
        connectTimeout: Duration = .seconds(15)
    ) {
        self.dryRun = dryRun
        self.verify = verify
        self.batchSize = batchSize
        self.verifyConcurrency = verifyConcurrency
        self.connectTimeout = connectTimeout
    }
}

/// What MediaVault's modules do with the original's records, wired by the gateway.
public struct ImportTargets: Sendable {
    public let database: Database
    public let users: any UserImporting
    public let media: any MediaImporting
    public let collections: any CollectionImporting
    /// Needed to verify objects only.
    public let store: (any ObjectStore)?

    public init(
        database: Database, users: any UserImporting, media: any MediaImporting,
        collections: any CollectionImporting, store: (any ObjectStore)?
    ) {
        self.database = database
        self.users = users
        self.media = media
        self.collections = collections
        self.store = store
    }
}

/// Brings a deployment of the original backend over: users, media (ids and object keys unchanged, nothing copied in
/// storage), tags, collections (ids and share tokens unchanged) and their items, in batches of one transaction each.
/// Safe to interrupt and to run again: the ledger makes every record land once.
public struct OriginalImporter: Sendable {
    let sources: OriginalSources
    let targets: ImportTargets
    let options: ImportOptions
    let logger: Logger

    public init(sources: OriginalSources, targets: ImportTargets, options: ImportOptions, logger: Logger) {
        self.sources = sources
        self.targets = targets
        self.options = options
        self.logger = logger
    }

    public func run(progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }) async throws -> ImportSummary {
        let started = ContinuousClock.now
        let summary = try await OriginalSource.withSource(sources, logger: logger, timeout: options.connectTimeout) { source in
            try await source.validateSchema()
            let run = ImportRun(
                source: source, targets: targets, options: options, ledger: ImportLedger(logger: logger),
                progress: progress, logger: logger)
            try await run.execute()
            return run.summary
        }
        var finished = summary
        let elapsed = ContinuousClock.now - started
        finished.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return finished
    }
}

/// One import's state as it goes through the phases (one task owns it from start to end).
private final class ImportRun {
    let source: OriginalSource
    let targets: ImportTargets
    let options: ImportOptions
    let ledger: ImportLedger
    let progress: @Sendable (ImportProgress) -> Void
    let logger: Logger
    let now = Date()

    var summary = ImportSummary()
    /// The original's user id → the MediaVault account (existing or, in a dry run, to be created: a fresh id).
    var accounts: [Int64: UUID] = [:]
    /// Owners whose storage use changes.
    var touchedOwners: Set<UUID> = []
    /// Dry run only: what would exist after the media and collection phases, for the phases depending on them.
    var plannedMedia: Set<UUID> = []
    var plannedCollections: Set<UUID> = []
    var targetIsMigrated = true

    var batchSize: Int { max(1, options.batchSize) }

    init(
        source: OriginalSource, targets: ImportTargets, options: ImportOptions, ledger: ImportLedger,
        progress: @escaping @Sendable (ImportProgress) -> Void, logger: Logger
    ) {
        self.source = source
        self.targets = targets
        self.options = options
        self.ledger = ledger
        self.progress = progress
        self.logger = logger
    }

    /// Walks one of the original's tables in keyset order, a batch at a time, with progress after each batch.
    func eachBatch<Row, Cursor>(
        _ phase: ImportPhase, of table: OriginalTable, fetch: (Cursor?, Int) async throws -> [Row],
        cursor: (Row) -> Cursor, _ body: ([Row]) async throws -> Void
    ) async throws {
        let total = try await source.count(table)
        progress(ImportProgress(phase: phase, done: 0, total: total))
        var position: Cursor?
        var done = 0
        while true {
            let rows = try await fetch(position, batchSize)
            guard let last = rows.last else { return }
            position = cursor(last)
            try await body(rows)
            done += rows.count
            progress(ImportProgress(phase: phase, done: done, total: total))
        }
    }

    func execute() async throws {
        summary.dryRun = options.dryRun
        if options.dryRun {
            targetIsMigrated = try await targets.database.client.withConnection { connection in
                try await ImportLedger.targetIsMigrated(on: connection, logger: logger)
            }
        }
        summary.originalJobs = try await source.jobCounts()
        try await importUsers()
        try await importMedia()
        try await importTags()
        try await importCollections()
        try await importCollectionItems()
        if !options.dryRun { try await recomputeUsage() }
        if options.verify { summary.verification = try await verifyObjects() }
    }

    /// A read-only look at the target, or nothing when a dry run finds MediaVault's schema not created yet.
    func peek<Result: Sendable>(
        empty: Result, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard targetIsMigrated else { return empty }
        return try await targets.database.client.withConnection { connection in try await body(connection) }
    }

    // MARK: Phases

    func importUsers() async throws {
        try await eachBatch(.users, of: .users, fetch: source.users(after:limit:), cursor: \.id) { rows in
            var batch: [OriginalUser] = []
            for row in rows {
                switch OriginalRecordRules.user(row) {
                case .success(let user): batch.append(user)
                case .failure(let refusal): refuse(refusal, in: \.users)
                }
            }
            let adoption: UserAdoption
            if options.dryRun {
                let existing = try await peek(empty: [:]) { connection in
                    try await targets.users.existingAccounts(discordIDs: batch.map(\.discordID), on: connection)
                }
                var known = existing
                for user in batch where known[user.discordID] == nil { known[user.discordID] = UUID() }
                adoption = UserAdoption(
                    accounts: known, created: Set(batch.map(\.discordID)).subtracting(existing.keys))
            } else {
                adoption = try await targets.database.transaction { connection in
                    try await targets.users.adoptUsers(batch, on: connection)
                }
            }
            for user in batch {
                accounts[user.originalID] = adoption.accounts[user.discordID]
                if adoption.created.contains(user.discordID) { summary.users.imported += 1 } else { summary.users.skipped += 1 }
            }
        }
    }

    func importMedia() async throws {
        try await eachBatch(.media, of: .media, fetch: source.media(after:limit:), cursor: \.id) { rows in
            var candidates: [OriginalMediaItem] = []
            for row in rows {
                switch OriginalRecordRules.media(row, owner: row.ownerID.flatMap { accounts[$0] }, now: now) {
                case .success(let item): candidates.append(item)
                case .failure(let refusal): refuse(refusal, in: \.media)
                }
            }
            let ids = candidates.map(\.id.lowercasedString)
            let inserted: [OriginalMediaItem]
            let alreadyImported: Int
            var idTaken: [OriginalMediaItem] = []
            if options.dryRun {
                let (earlier, taken) = try await peek(empty: (Set<String>(), [UUID: UUID]())) { connection in
                    (
                        try await ledger.imported(.media, ids, on: connection),
                        try await targets.media.owners(of: candidates.map(\.id), on: connection)
                    )
                }
                let new = candidates.filter { !earlier.contains($0.id.lowercasedString) }
                idTaken = new.filter { taken[$0.id] != nil }
                inserted = new.filter { taken[$0.id] == nil }
                alreadyImported = candidates.count - new.count
                plannedMedia.formUnion(candidates.filter { earlier.contains($0.id.lowercasedString) }.map(\.id))
                plannedMedia.formUnion(inserted.map(\.id))
            } else {
                let advancedItems: [OriginalMediaItem]
                (inserted, idTaken, alreadyImported, advancedItems) = try await targets.database.transaction {
                    connection in
                    let claimed = try await ledger.claim(.media, ids, on: connection)
                    let new = candidates.filter { claimed.contains($0.id.lowercasedString) }
                    let earlier = candidates.filter { !claimed.contains($0.id.lowercasedString) }
                    // Existing rows first: their row locks come before the owners' counter locks that inserting
                    // takes, the order a user's confirm takes them in, so the two never deadlock.
                    let advanced = try await targets.media.advanceUploads(earlier, on: connection)
                    let insertedIDs = try await targets.media.importMedia(new, on: connection)
                    return (
                        new.filter { insertedIDs.contains($0.id) }, new.filter { !insertedIDs.contains($0.id) },
                        candidates.count - new.count, earlier.filter { advanced.contains($0.id) }
                    )
                }
                summary.uploadsFinished += advancedItems.count
                for item in advancedItems {
                    touchedOwners.insert(item.ownerID)
                    if item.status == .queued { summary.queuedForProcessing += 1 }
                }
            }
            for item in idTaken {
                refuse(.init(reason: "media \(item.id.lowercasedString): the id is already used here"), in: \.media)
            }
            summary.media.imported += inserted.count
            summary.media.skipped += alreadyImported
            for item in inserted {
                touchedOwners.insert(item.ownerID)
                switch item.status {
                case .queued: summary.queuedForProcessing += 1
                case .uploading: summary.uploadsInProgress += 1
                case .ready: summary.readyFromOriginal += 1
                case .processing, .failed: break
                }
            }
        }
    }

    func importTags() async throws {
        try await eachBatch(.tags, of: .mediaTags, fetch: source.taggings(after:limit:), cursor: { ($0.mediaID, $0.tagID) }) { rows in
            var candidates: [(id: String, tagging: OriginalTagging)] = []
            for row in rows {
                switch OriginalRecordRules.tagging(row) {
                case .success(let tagging):
                    candidates.append(("\(row.mediaID.lowercasedString)/\(row.tagID)", tagging))
                case .failure(let refusal): refuse(refusal, in: \.tags)
                }
            }
            let mediaIDs = Array(Set(candidates.map(\.tagging.mediaID)))
            if options.dryRun {
                let earlier = try await peek(empty: Set<String>()) { connection in
                    try await ledger.imported(.tagging, candidates.map(\.id), on: connection)
                }
                let new = candidates.filter { !earlier.contains($0.id) && plannedMedia.contains($0.tagging.mediaID) }
                summary.tags.imported += new.count
                summary.tags.skipped += candidates.filter { earlier.contains($0.id) }.count
            } else {
                let (outcome, alreadyImported) = try await targets.database.transaction { connection in
                    // Tags of media that are not here (refused above, or deleted since) are not claimed: should
                    // the media arrive later, its tags come with it.
                    let present = try await targets.media.owners(of: mediaIDs, on: connection)
                    let applicable = candidates.filter { present[$0.tagging.mediaID] != nil }
                    let claimed = try await ledger.claim(.tagging, applicable.map(\.id), on: connection)
                    let outcome = try await targets.media.importTags(
                        applicable.filter { claimed.contains($0.id) }.map(\.tagging), on: connection)
                    return (outcome, applicable.count - claimed.count)
                }
                summary.tags.imported += outcome.added
                summary.tags.skipped += alreadyImported
                for (tag, reason) in outcome.refused {
                    refuse(.init(reason: "tag \(String(reflecting: tag)): \(reason)"), in: \.tags)
                }
            }
        }
    }

    func importCollections() async throws {
        try await eachBatch(.collections, of: .collections, fetch: source.collections(after:limit:), cursor: \.id) { rows in
            var candidates: [OriginalCollection] = []
            for row in rows {
                switch OriginalRecordRules.collection(row, owner: row.ownerID.flatMap { accounts[$0] }, now: now) {
                case .success(let collection): candidates.append(collection)
                case .failure(let refusal): refuse(refusal, in: \.collections)
                }
            }
            let ids = candidates.map(\.id.lowercasedString)
            var taken: [OriginalCollection] = []
            if options.dryRun {
                let (earlier, existing) = try await peek(empty: (Set<String>(), Set<UUID>())) { connection in
                    (
                        try await ledger.imported(.collection, ids, on: connection),
                        try await targets.collections.existingCollections(among: candidates.map(\.id), on: connection)
                    )
                }
                let new = candidates.filter { !earlier.contains($0.id.lowercasedString) }
                taken = new.filter { existing.contains($0.id) }
                summary.collections.imported += new.count - taken.count
                summary.collections.skipped += candidates.count - new.count
                plannedCollections.formUnion(candidates.filter { !taken.contains($0) }.map(\.id))
            } else {
                let (inserted, skipped, notInserted) = try await targets.database.transaction { connection in
                    let claimed = try await ledger.claim(.collection, ids, on: connection)
                    let new = candidates.filter { claimed.contains($0.id.lowercasedString) }
                    let inserted = try await targets.collections.importCollections(new, on: connection)
                    return (inserted.count, candidates.count - new.count, new.filter { !inserted.contains($0.id) })
                }
                taken = notInserted
                summary.collections.imported += inserted
                summary.collections.skipped += skipped
            }
            for collection in taken {
                refuse(
                    .init(reason: "collection \(collection.id.lowercasedString): the id or share token is already used here"),
                    in: \.collections)
            }
        }
    }

    func importCollectionItems() async throws {
        try await eachBatch(.collectionItems, of: .collectionItems, fetch: source.collectionItems(after:limit:), cursor: { ($0.collectionID, $0.mediaID) }) { rows in
            let candidates = rows.map { row in
                (id: "\(row.collectionID.lowercasedString)/\(row.mediaID.lowercasedString)",
                 item: OriginalRecordRules.item(row, now: now))
            }
            if options.dryRun {
                let earlier = try await peek(empty: Set<String>()) { connection in
                    try await ledger.imported(.collectionItem, candidates.map(\.id), on: connection)
                }
                let new = candidates.filter {
                    !earlier.contains($0.id) && plannedCollections.contains($0.item.collectionID)
                        && plannedMedia.contains($0.item.mediaID)
                }
                summary.collectionItems.imported += new.count
                summary.collectionItems.skipped += candidates.count - candidates.filter { !earlier.contains($0.id) }.count
            } else {
                let (added, alreadyImported) = try await targets.database.transaction { connection in
                    // Items whose collection or media is not here are not claimed, so they follow if those arrive.
                    let collections = try await targets.collections.existingCollections(
                        among: Array(Set(candidates.map(\.item.collectionID))), on: connection)
                    let media = try await targets.media.owners(
                        of: Array(Set(candidates.map(\.item.mediaID))), on: connection)
                    let applicable = candidates.filter {
                        collections.contains($0.item.collectionID) && media[$0.item.mediaID] != nil
                    }
                    let claimed = try await ledger.claim(.collectionItem, applicable.map(\.id), on: connection)
                    let added = try await targets.collections.importItems(
                        applicable.filter { claimed.contains($0.id) }.map(\.item), on: connection)
                    return (added, applicable.count - claimed.count)
                }
                summary.collectionItems.imported += added
                summary.collectionItems.skipped += alreadyImported
            }
        }
    }

    func recomputeUsage() async throws {
        let owners = Array(touchedOwners)
        var done = 0
        for start in stride(from: 0, to: owners.count, by: batchSize) {
            let chunk = Array(owners[start..<min(owners.count, start + batchSize)])
            try await targets.database.transaction { connection in
                try await targets.media.recomputeUsage(of: chunk, on: connection)
            }
            done += chunk.count
            progress(ImportProgress(phase: .usage, done: done, total: owners.count))
        }
    }

    /// HEADs the original file (and the processed one, when there is one) of every imported media item (in a dry
    /// run: of every item an import would bring over). Items refused, or deleted here since, have nothing to check.
    func verifyObjects() async throws -> ImportSummary.Verification {
        guard let store = targets.store else { return ImportSummary.Verification() }
        var verification = ImportSummary.Verification()
        try await eachBatch(.verify, of: .media, fetch: source.media(after:limit:), cursor: \.id) { rows in
            let present: Set<UUID>
            if options.dryRun {
                present = plannedMedia
            } else {
                present = Set(
                    try await targets.database.client.withConnection { connection in
                        try await targets.media.owners(of: rows.map(\.id), on: connection)
                    }.keys)
            }
            var expectations: [(key: String, size: Int64?)] = []
            for row in rows where present.contains(row.id) {
                if let key = row.originalKey, !key.isEmpty {
                    // An upload never finished has no object to expect.
                    if row.status?.lowercased() != "uploading" {
                        expectations.append((key, row.sizeBytes.flatMap { $0 > 0 ? $0 : nil }))
                    }
                }
                if let processed = row.processedKey, !processed.isEmpty { expectations.append((processed, nil)) }
            }
            let results = try await Self.head(expectations, in: store, concurrency: max(1, options.verifyConcurrency))
            for (key, expected, found) in results {
                verification.checked += 1
                guard let found else {
                    verification.missing.append(key)
                    continue
                }
                if let expected, expected != found {
                    verification.sizeMismatches.append("\(key): expected \(expected) bytes, found \(found)")
                }
            }
        }
        verification.missing.sort()
        verification.sizeMismatches.sort()
        return verification
    }

    /// Sizes of the objects (nil: missing, or a key the store cannot even name), with at most `concurrency` HEADs
    /// in flight.
    static func head(
        _ expectations: [(key: String, size: Int64?)], in store: any ObjectStore, concurrency: Int
    ) async throws -> [(String, Int64?, Int64?)] {
        try await withThrowingTaskGroup(of: (String, Int64?, Int64?).self) { group in
            var results: [(String, Int64?, Int64?)] = []
            var pending = expectations[...]
            func startNext() {
                guard let (key, size) = pending.popFirst() else { return }
                group.addTask {
                    guard let objectKey = try? ObjectKey(key) else { return (key, size, nil) }
                    return (key, size, try await store.head(objectKey)?.size)
                }
            }
            for _ in 0..<concurrency { startNext() }
            while let result = try await group.next() {
                results.append(result)
                startNext()
            }
            return results
        }
    }

    func refuse(_ refusal: OriginalRecordRules.Refusal, in counts: WritableKeyPath<ImportSummary, ImportSummary.Counts>) {
        summary[keyPath: counts].problems += 1
        summary.problem(refusal.reason)
        logger.debug("import refused a record", metadata: ["reason": "\(refusal.reason)"])
    }
}
