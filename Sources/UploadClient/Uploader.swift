import AsyncHTTPClient
import Foundation
import MediaVaultCore
import NIOConcurrencyHelpers

/// What `mediavault upload` was asked to do.
public struct UploadOptions: Sendable {
    public var server: String
    public var apiKey: String
    public var paths: [String]
    /// Only files with these extensions (lowercase, no dot); nil takes every photo and video type.
    public var extensions: Set<String>?
    /// Only files of these MIME types (as the extension names them); nil takes every photo and video type.
    public var mimeTypes: MimeFilter?
    /// Files sent at once (and parts at once within one large file).
    public var concurrency = 4
    /// Title of the collection the files go into, created when missing.
    public var collection: String?
    public var dryRun = false
    /// No SHA-256: nothing is checked against the server, so a re-run uploads everything again.
    public var skipHash = false
    /// Files from this size on go up in parts, which a later run can resume.
    public var multipartThreshold: Int64 = 64 << 20
    /// Part size of new multipart uploads; nil lets the server choose (16 MiB, more for files that would need over
    /// 10 000 parts). A resumed upload keeps the size it was started with, whatever this says.
    public var partSize: Int64?
    /// Attempts per request for transient failures (network, 5xx, 429).
    public var attempts = 5
    /// Progress and the summary go here; bars when it is a terminal, plain lines otherwise.
    public var output: FileHandle = .standardError
    public var isTerminal: Bool?

    public init(server: String, apiKey: String, paths: [String]) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.apiKey = apiKey
        self.paths = paths
    }
}

/// How a run ended.
public struct UploadSummary: Sendable, Equatable {
    public var uploaded: [String] = []
    public var uploadedBytes: Int64 = 0
    /// Multipart uploads continued from an earlier run.
    public var resumed: [String] = []
    /// Already on the server (same SHA-256).
    public var alreadyThere: [String] = []
    /// Same content as another file of this run: sent once.
    public var duplicatesInRun: [String] = []
    public var failed: [Failure] = []
    /// In a dry run: what would be sent.
    public var wouldUpload: [String] = []
    public var collectionID: String?

    public struct Failure: Sendable, Equatable {
        public let path: String
        public let reason: String
    }

    public var succeeded: Bool { failed.isEmpty }
}

/// Scan → hash → check with the server → upload → confirm (→ collection), each phase with its progress.
public struct Uploader: Sendable {
    let options: UploadOptions

    public init(options: UploadOptions) {
        self.options = options
    }

    public func run() async throws -> UploadSummary {
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10))))
        do {
            let summary = try await run(api: MediaVaultAPI(server: options.server, apiKey: options.apiKey, http: http))
            try await http.shutdown()
            return summary
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// What the run does with one file, once the server has been asked.
    enum Plan: Sendable, Equatable {
        case send
        /// A multipart upload of this content that an earlier run left half-sent.
        case resume(mediaID: String)
        /// The server has it (queued, processing or ready).
        case alreadyThere(mediaID: String)
        /// The same content as an earlier file of this run, which is sent instead.
        case repeatOf(index: Int)
        /// It could not be read; the rest of the run goes on.
        case unreadable(reason: String)
    }

    /// One file on its way: what is known about it so far.
    struct Entry: Sendable {
        let file: LocalFile
        var sha256: String?
        var plan = Plan.send
        /// Known once it is on the server.
        var mediaID: String?
    }

    func run(api: MediaVaultAPI) async throws -> UploadSummary {
        var summary = UploadSummary()
        let files = try FileScan.files(in: options.paths, extensions: options.extensions, mimeTypes: options.mimeTypes)
        let totalBytes = files.reduce(0) { $0 + $1.size }
        say("scan: \(files.count) files, \(Self.mebibytes(totalBytes)) MiB")
        var entries = files.map { Entry(file: $0) }

        if !options.skipHash {
            let hashing = progress("hash")
            let done = NIOLockedValueBox(0)
            let count = files.count
            let hashes = try await forEach(Array(files.enumerated()), concurrency: options.concurrency) {
                index, file -> (Int, Result<String, any Error>) in
                let sha: Result<String, any Error>
                do { sha = .success(try await FileScan.sha256(of: file.url)) } catch { sha = .failure(error) }
                hashing.update(done: done.withLockedValue { $0 += 1; return $0 }, total: count)
                return (index, sha)
            }
            hashing.finish()
            for (index, sha) in hashes {
                switch sha {
                case .success(let sha): entries[index].sha256 = sha
                case .failure(let error):
                    let reason = "could not read the file: \(error)"
                    entries[index].plan = .unreadable(reason: reason)
                    summary.failed.append(.init(path: entries[index].file.displayPath, reason: reason))
                }
            }

            // What the server has: skipped, or resumed when it is a multipart upload left half-sent.
            let distinct = Array(Set(entries.compactMap(\.sha256))).sorted()
            var matches: [String: [MediaVaultAPI.Match]] = [:]
            for start in stride(from: 0, to: distinct.count, by: 1000) {
                let batch = Array(distinct[start..<min(start + 1000, distinct.count)])
                for match in try await retrying { try await api.checksums(batch) } {
                    matches[match.sha256, default: []].append(match)
                }
            }
            var firstOfContent: [String: Int] = [:]
            for index in entries.indices {
                guard let sha = entries[index].sha256 else { continue }
                let found = matches[sha] ?? []
                if let there = found.first(where: { ["queued", "processing", "ready"].contains($0.status) }) {
                    entries[index].plan = .alreadyThere(mediaID: there.mediaID)
                    entries[index].mediaID = there.mediaID
                    summary.alreadyThere.append(entries[index].file.displayPath)
                } else if let first = firstOfContent[sha] {
                    entries[index].plan = .repeatOf(index: first)
                    summary.duplicatesInRun.append(entries[index].file.displayPath)
                } else {
                    firstOfContent[sha] = index
                    if let halfSent = found.last(where: { $0.status == "uploading" && $0.multipart }) {
                        entries[index].plan = .resume(mediaID: halfSent.mediaID)
                    }
                }
            }
            say("check: \(summary.alreadyThere.count) already there, \(summary.duplicatesInRun.count) repeated in this run")
        }

        let pending = entries.indices.filter {
            switch entries[$0].plan {
            case .send, .resume: true
            case .alreadyThere, .repeatOf, .unreadable: false
            }
        }
        let pendingBytes = pending.reduce(Int64(0)) { $0 + entries[$1].file.size }
        if options.dryRun {
            summary.wouldUpload = pending.map { entries[$0].file.displayPath }
            say("dry run: would upload \(pending.count) files, \(Self.mebibytes(pendingBytes)) MiB")
            return summary
        }

        let uploading = progress("upload MiB")
        let sentBytes = NIOLockedValueBox(Int64(0))
        let totalMiB = Int(Self.mebibytes(pendingBytes).rounded(.up))
        let sent: @Sendable (Int64) -> Void = { count in
            let now = sentBytes.withLockedValue { $0 += count; return $0 }
            uploading.update(done: min(totalMiB, Int(Self.mebibytes(now))), total: totalMiB)
        }
        let snapshot = entries
        let outcomes = try await forEach(pending, concurrency: options.concurrency) {
            index -> (Int, Result<(String, Bool), UploadError>) in
            do {
                return (index, .success(try await upload(snapshot[index], api: api, sent: sent)))
            } catch let error as UploadError {
                return (index, .failure(error))
            }
        }
        uploading.finish()
        for (index, outcome) in outcomes.sorted(by: { $0.0 < $1.0 }) {
            switch outcome {
            case .success(let (mediaID, resumed)):
                entries[index].mediaID = mediaID
                summary.uploaded.append(entries[index].file.displayPath)
                summary.uploadedBytes += entries[index].file.size
                if resumed { summary.resumed.append(entries[index].file.displayPath) }
            case .failure(let error):
                summary.failed.append(.init(path: entries[index].file.displayPath, reason: error.message))
            }
        }
        // Repeats of a file in this run point at its one upload.
        for index in entries.indices {
            if case .repeatOf(let first) = entries[index].plan { entries[index].mediaID = entries[first].mediaID }
        }

        if let title = options.collection {
            do {
                let existing = try await retrying { try await api.collections() }.first { $0.title == title }
                let collection: MediaVaultAPI.Collection
                if let existing {
                    collection = existing
                } else {
                    collection = try await retrying { try await api.createCollection(title: title) }
                }
                summary.collectionID = collection.id
                var added = Set<String>()
                for entry in entries {
                    guard let mediaID = entry.mediaID, added.insert(mediaID).inserted else { continue }
                    try await retrying { try await api.add(mediaID: mediaID, to: collection.id) }
                }
                say("collection \"\(title)\": \(added.count) items")
            } catch let error as UploadError {
                summary.failed.append(.init(path: "collection \"\(title)\"", reason: error.message))
            }
        }
        report(summary)
        return summary
    }

    /// Sends one file; answers its media id and whether an earlier run's upload was continued.
    func upload(
        _ entry: Entry, api: MediaVaultAPI, sent: @escaping @Sendable (Int64) -> Void
    ) async throws -> (String, Bool) {
        let file = entry.file
        let name = file.url.lastPathComponent
        var resumeMediaID: String?
        if case .resume(let mediaID) = entry.plan { resumeMediaID = mediaID }
        if file.size < options.multipartThreshold && resumeMediaID == nil {
            let signed = try await retrying {
                try await api.sign(filename: name, mimeType: file.mimeType, size: file.size, sha256: entry.sha256)
            }
            _ = try await retrying {
                try await api.put(
                    file: file.url, offset: 0, length: file.size, to: signed.uploadURL, headers: signed.headers,
                    sent: sent)
            }
            try await retrying { try await api.confirm(mediaID: signed.mediaID) }
            return (signed.mediaID, false)
        }
        let mediaID: String
        // The server's record of the part size, so a resumed upload's parts line up with the ones already sent.
        let partSize: Int64
        var done: [Int: String] = [:]
        if let resume = resumeMediaID {
            mediaID = resume
            let uploaded = try await retrying { try await api.uploadedParts(mediaID: resume) }
            partSize = uploaded.partSize
            for part in uploaded.parts { done[part.partNumber] = part.etag }
            // What an earlier run sent counts as sent.
            sent(uploaded.parts.reduce(0) { $0 + $1.sizeBytes })
        } else {
            let started = try await retrying {
                try await api.startMultipart(
                    filename: name, mimeType: file.mimeType, size: file.size, partSize: options.partSize,
                    sha256: entry.sha256)
            }
            mediaID = started.mediaID
            partSize = started.partSize
        }
        guard partSize > 0 else {
            throw UploadError(message: "the server answered a part size of \(partSize)", isTransient: false, code: nil)
        }
        let partCount = Int((file.size + partSize - 1) / partSize)
        let missing = (1...partCount).filter { done[$0] == nil }
        for start in stride(from: 0, to: missing.count, by: 100) {
            let batch = Array(missing[start..<min(start + 100, missing.count)])
            let urls = try await retrying { try await api.partURLs(mediaID: mediaID, parts: batch) }
            let etags = try await forEach(urls, concurrency: options.concurrency) { part -> (Int, String) in
                let offset = Int64(part.partNumber - 1) * partSize
                let length = min(partSize, file.size - offset)
                let etag = try await retrying {
                    try await api.put(
                        file: file.url, offset: offset, length: length, to: part.uploadURL, headers: [:], sent: sent)
                }
                return (part.partNumber, etag)
            }
            for (number, etag) in etags { done[number] = etag }
        }
        let parts = (1...partCount).map { MediaVaultAPI.CompletedPart(partNumber: $0, etag: done[$0] ?? "") }
        try await retrying { try await api.complete(mediaID: mediaID, parts: parts) }
        return (mediaID, resumeMediaID != nil)
    }

    /// Transient failures are tried again with exponential backoff (0.5 s, 1 s, 2 s, …); others end at once.
    func retrying<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as UploadError where error.isTransient && attempt < options.attempts {
                try await Task.sleep(for: .milliseconds(500 << (attempt - 1)))
                attempt += 1
            }
        }
    }

    /// `body` over `items`, at most `concurrency` at once; results in completion order.
    func forEach<Item: Sendable, Output: Sendable>(
        _ items: [Item], concurrency: Int, _ body: @escaping @Sendable (Item) async throws -> Output
    ) async throws -> [Output] {
        try await withThrowingTaskGroup(of: Output.self) { group in
            var results: [Output] = []
            var iterator = items.makeIterator()
            for _ in 0..<max(1, concurrency) {
                guard let item = iterator.next() else { break }
                group.addTask { try await body(item) }
            }
            while let result = try await group.next() {
                results.append(result)
                if let item = iterator.next() { group.addTask { try await body(item) } }
            }
            return results
        }
    }

    func progress(_ label: String) -> ProgressLine {
        ProgressLine(label: label, output: options.output, isTerminal: options.isTerminal, interval: 2)
    }

    func say(_ line: String) { options.output.write(Data((line + "\n").utf8)) }

    func report(_ summary: UploadSummary) {
        say(
            "done: \(summary.uploaded.count) uploaded (\(Self.mebibytes(summary.uploadedBytes)) MiB"
                + (summary.resumed.isEmpty ? "" : ", \(summary.resumed.count) resumed") + "), "
                + "\(summary.alreadyThere.count) already there, \(summary.duplicatesInRun.count) repeated in this run, "
                + "\(summary.failed.count) failed")
        for failure in summary.failed { say("failed: \(failure.path): \(failure.reason)") }
    }

    static func mebibytes(_ bytes: Int64) -> Double { (Double(bytes) / 1_048_576 * 10).rounded() / 10 }
}
