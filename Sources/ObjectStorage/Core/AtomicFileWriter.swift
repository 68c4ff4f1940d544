import Crypto
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling that is fsynced and renamed over the destination on ``commit()``,
/// so readers see either the old file or the complete new one, never a partial write.
///
/// Incoming chunks are kept as they arrived (no copy) until a batch of `batchSize` bytes is ready; the batch is then
/// written with one gathering `writev` on the blocking-I/O pool, and hashed there on other threads at the same time,
/// while the next batch is received: disk, hashes and network work at once. At most one batch is in flight, which
/// bounds memory to two batches.
///
/// Used by one task at a time (not `Sendable`). Call ``commit()`` or ``discard()`` exactly once; a writer that
/// fails midway must be discarded so the temporary file does not linger.
final class AtomicFileWriter {
    let destinationPath: String
    let temporaryPath: String
    private let directoryPath: String
    private let file: LocalFile
    private let maximumSize: Int64
    private let md5: RunningDigest<Insecure.MD5>?
    private let sha256: RunningDigest<SHA256>?
    /// The same digests, as every batch feeds them.
    private let batchDigests: [any BatchDigest]
    private var pending: [ByteBuffer] = []
    private var pendingBytes = 0
    /// Bytes handed to batches so far: where the next batch starts in the file.
    private var batchedBytes: Int64 = 0
    private var inFlight: Task<Void, any Error>?
    private let batchSize: Int
    private(set) var bytesWritten: Int64 = 0

    private init(
        destinationPath: String, temporaryPath: String, directoryPath: String, file: LocalFile,
        maximumSize: Int64, digests: FileDigests.Kinds, batchSize: Int
    ) {
        self.destinationPath = destinationPath
        self.temporaryPath = temporaryPath
        self.directoryPath = directoryPath
        self.file = file
        self.maximumSize = maximumSize
        self.md5 = digests.contains(.md5) ? RunningDigest() : nil
        self.sha256 = digests.contains(.sha256) ? RunningDigest() : nil
        var batchDigests: [any BatchDigest] = []
        if let md5 { batchDigests.append(md5) }
        if let sha256 { batchDigests.append(sha256) }
        self.batchDigests = batchDigests
        self.batchSize = batchSize
    }

    /// Creates the temporary file next to `destinationPath` (creating missing parent folders).
    ///
    /// - Parameters:
    ///   - maximumSize: writing more throws ``ObjectStorageError/entityTooLarge``.
    ///   - digests: which digests of the content ``commit(expectingSHA256:)`` returns (MD5 for S3-style ETags,
    ///     SHA-256 to check and record what was stored).
    ///   - batchSize: bytes gathered before each write call (at least 1 MiB: fewer, larger system calls).
    static func begin(
        destinationPath: String, maximumSize: Int64 = .max, digests: FileDigests.Kinds = [], batchSize: Int = 4 << 20
    ) async throws -> AtomicFileWriter {
        let directoryPath = (destinationPath as NSString).deletingLastPathComponent
        let name = (destinationPath as NSString).lastPathComponent
        // The leading dot hides it from casual listings; the UUID makes concurrent writers independent.
        let temporaryPath = "\(directoryPath)/.\(name).\(UUID().uuidString).partial"
        let file = try await BlockingIO.run {
            // A concurrent delete may prune the just-created (still empty) folder; creating it again is enough.
            var attempt = 1
            while true {
                try FileOperations.createDirectory(directoryPath)
                do {
                    return try LocalFile.createExclusively(temporaryPath)
                } catch let error as LocalFileError where error.errno == ENOENT && attempt < 3 {
                    attempt += 1
                }
            }
        }
        return AtomicFileWriter(
            destinationPath: destinationPath, temporaryPath: temporaryPath, directoryPath: directoryPath, file: file,
            maximumSize: maximumSize, digests: digests, batchSize: max(1 << 20, batchSize))
    }

    /// Appends `chunk`, enforcing the size cap before anything beyond it reaches the disk.
    func write(_ chunk: ByteBuffer) async throws {
        bytesWritten += Int64(chunk.readableBytes)
        guard bytesWritten <= maximumSize else {
            throw ObjectStorageError(.entityTooLarge, "upload exceeds the allowed \(maximumSize) bytes")
        }
        guard chunk.readableBytes > 0 else { return }
        pending.append(chunk)
        pendingBytes += chunk.readableBytes
        if pendingBytes >= batchSize {
            try await startBatch()
        }
    }

    /// Waits for the batch in flight, then sends the pending chunks off as the next one.
    private func startBatch() async throws {
        try await inFlight?.value
        inFlight = nil
        guard !pending.isEmpty else { return }
        let (file, batch, digests, offset, length) = (self.file, pending, batchDigests, batchedBytes, pendingBytes)
        batchedBytes += Int64(pendingBytes)
        pending = []
        pendingBytes = 0
        inFlight = Task { try await writeBatch(batch, at: offset, length: length, to: file, hashingInto: digests) }
    }

    /// Writes what is left, fsyncs, renames into place and fsyncs the folder; returns the digests asked for.
    ///
    /// With `expectingSHA256`, content whose SHA-256 differs is discarded before it replaces anything, and
    /// ``ObjectStorageError/badDigest`` is thrown (the writer must have been begun with `.sha256`).
    @discardableResult
    func commit(expectingSHA256 expected: [UInt8]? = nil) async throws -> FileDigests {
        let digests: FileDigests
        do {
            try await startBatch()
            try await inFlight?.value
            inFlight = nil
            digests = FileDigests(md5: md5.map { Hex.encode($0.finalize()) }, sha256: sha256?.finalize())
            if let expected, digests.sha256 != expected {
                throw ObjectStorageError(
                    .badDigest,
                    "the content's SHA-256 is \(digests.sha256.map { Hex.encode($0) } ?? "unknown"), not the expected "
                        + Hex.encode(expected))
            }
            let (file, temporaryPath, destinationPath, directoryPath) =
                (self.file, self.temporaryPath, self.destinationPath, self.directoryPath)
            try await BlockingIO.run {
                try file.sync()
                file.close()
                try FileOperations.rename(temporaryPath, to: destinationPath)
                try FileOperations.syncDirectory(directoryPath)
            }
        } catch {
            await discard()
            throw error
        }
        return digests
    }

    /// Closes and deletes the temporary file; never throws, because it runs on failure paths.
    func discard() async {
        // A batch still being written would write into a closed (or reused) descriptor.
        _ = try? await inFlight?.value
        inFlight = nil
        let (file, temporaryPath) = (self.file, self.temporaryPath)
        file.close()
        _ = try? await BlockingIO.run { try FileOperations.removeFileIfPresent(temporaryPath) }
    }
}

/// Writes one batch on the blocking-I/O pool. Hashing and writing read the same immutable chunks, so they run side
/// by side on pool threads (one per digest); the next batch waits for this one, which keeps each digest in order.
/// Writeback of the batch starts as soon as it is written (it may block while the device is busy, so it stays on the
/// pool too).
private func writeBatch(
    _ batch: [ByteBuffer], at offset: Int64, length: Int, to file: LocalFile,
    hashingInto digests: [any BatchDigest]
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for digest in digests {
            group.addTask { try await BlockingIO.run { digest.update(batch) } }
        }
        group.addTask {
            try await BlockingIO.run {
                try file.write(gathering: batch)
                file.startWriteback(offset: offset, length: length)
            }
        }
        try await group.waitForAll()
    }
}

/// The digests a write produced, as ``AtomicFileWriter/commit(expectingSHA256:)`` returns them.
struct FileDigests: Sendable, Hashable {
    /// Which digests to compute.
    struct Kinds: OptionSet, Sendable {
        let rawValue: Int
        static let md5 = Kinds(rawValue: 1)
        static let sha256 = Kinds(rawValue: 2)
    }

    /// Hex MD5, when asked for.
    var md5: String?
    /// Raw SHA-256, when asked for.
    var sha256: [UInt8]?
}

/// A digest ``writeBatch(_:at:length:to:hashingInto:)`` feeds; existential so one batch can feed several kinds.
private protocol BatchDigest: Sendable {
    func update(_ buffers: [ByteBuffer])
}

/// A hash fed batch by batch on the blocking-I/O pool. Batches are strictly sequential (each waits for the one before
/// it), which is what makes the unchecked `Sendable` sound; the lock makes that ordering visible across threads.
private final class RunningDigest<Function: HashFunction>: BatchDigest, @unchecked Sendable {
    private let lock = NSLock()
    private var function = Function()

    func update(_ buffers: [ByteBuffer]) {
        lock.lock()
        defer { lock.unlock() }
        for buffer in buffers {
            buffer.withUnsafeReadableBytes { function.update(bufferPointer: $0) }
        }
    }

    func finalize() -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return Array(function.finalize())
    }
}
