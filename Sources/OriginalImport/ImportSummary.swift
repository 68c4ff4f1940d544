import Foundation

/// Which step of an import is running (each has its own progress bar).
public enum ImportPhase: String, Sendable, CaseIterable {
    case users, media, tags, collections
    case collectionItems = "collection items"
    case usage = "storage usage"
    case verify = "verify objects"
}

public struct ImportProgress: Sendable, Equatable {
    public let phase: ImportPhase
    public let done: Int
    public let total: Int
}

/// What an import did (or, in a dry run, would do).
public struct ImportSummary: Sendable, Codable, Equatable {
    public struct Counts: Sendable, Codable, Equatable {
        /// New here (or, in a dry run, that would be).
        public var imported = 0
        /// Brought over by an earlier run, or already known here (an account that signed in before).
        public var skipped = 0
        /// Rows that could not be imported; each is listed in `problems`.
        public var problems = 0
    }

    public struct Verification: Sendable, Codable, Equatable {
        public var checked = 0
        /// Object keys the store does not have.
        public var missing: [String] = []
        /// `key: expected N bytes, found M`.
        public var sizeMismatches: [String] = []
    }

    public var dryRun = false
    public var users = Counts()
    public var media = Counts()
    public var tags = Counts()
    public var collections = Counts()
    public var collectionItems = Counts()
    /// Imported media given a processing job (queued, processing, failed, or ready without a processed file).
    public var queuedForProcessing = 0
    /// Imported uploads never confirmed: confirmable as before, or removed by the abandoned-upload sweep.
    public var uploadsInProgress = 0
    /// Uploads an earlier run brought over unfinished that the original has finished since: they took its state.
    public var uploadsFinished = 0
    /// Imported ready media with the original's HEVC file only (no H.264 fallback, thumbnail or metadata yet).
    public var readyFromOriginal = 0
    /// The original's processing jobs by state.
    public var originalJobs: [String: Int] = [:]
    /// The first problems, one line each; `problemCount` has them all.
    public var problems: [String] = []
    public var problemCount = 0
    public var verification: Verification?
    public var seconds = 0.0

    static let listedProblems = 200

    mutating func problem(_ message: String) {
        problemCount += 1
        if problems.count < Self.listedProblems { problems.append(message) }
    }

    /// Media rows per second over the whole run.
    public var mediaPerSecond: Double { seconds > 0 ? Double(media.imported + media.skipped) / seconds : 0 }

    /// The lines `mediavault import-original` prints.
    public var report: String {
        var lines: [String] = []
        lines.append(dryRun ? "dry run: nothing was written; an import would do this:" : "import finished:")
        func line(_ name: String, _ counts: Counts) {
            lines.append(
                "  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(counts.imported) "
                    + (dryRun ? "to import" : "imported") + ", \(counts.skipped) already here, \(counts.problems) problems")
        }
        line("users", users)
        line("media", media)
        line("tags", tags)
        line("collections", collections)
        line("collection items", collectionItems)
        if queuedForProcessing > 0 { lines.append("  \(queuedForProcessing) media queued for processing") }
        if uploadsInProgress > 0 {
            lines.append("  \(uploadsInProgress) uploads in progress: confirmable as before, else swept as abandoned")
        }
        if uploadsFinished > 0 {
            lines.append("  \(uploadsFinished) uploads imported unfinished have been finished in the original since")
        }
        if !originalJobs.isEmpty {
            let jobs = originalJobs.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append("  the original's processing jobs: \(jobs)")
        }
        if readyFromOriginal > 0 {
            lines.append(
                "  \(readyFromOriginal) ready media have only the original's HEVC file; to add the H.264 fallback,"
                    + " thumbnails and capture metadata run: mediavault reprocess --status ready")
        }
        if let verification {
            lines.append(
                "  verified \(verification.checked) objects: \(verification.missing.count) missing, "
                    + "\(verification.sizeMismatches.count) with another size")
            lines += verification.missing.prefix(50).map { "    missing: \($0)" }
            lines += verification.sizeMismatches.prefix(50).map { "    size: \($0)" }
        }
        if problemCount > 0 {
            lines.append("  problems (\(problemCount)):")
            lines += problems.map { "    " + $0 }
            if problemCount > problems.count { lines.append("    … and \(problemCount - problems.count) more") }
        }
        lines.append(String(format: "  %.1f s, %.0f media rows/s", seconds, mediaPerSecond))
        return lines.joined(separator: "\n")
    }
}
