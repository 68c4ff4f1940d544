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
/// written with one gathering `writev` on the blocking-I/O pool, and hashed there on another thread at the same time,
/// while the next batch is received: disk, hash and network work at once. At most one batch is in flight, which
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
    private let digest: RunningMD5?
    private var pending: [ByteBuffer] = []
    private var pendingBytes = 0
    /// Bytes handed to batches so far: where the next batch starts in the file.
    private var batchedBytes: Int64 = 0
    private var inFlight: Task<Void, any Error>?
    private let batchSize: Int
    private(set) var bytesWritten: Int64 = 0

    private init(
        destinationPath: String, temporaryPath: String, directoryPath: String, file: LocalFile,
        maximumSize: Int64, computesMD5: Bool, batchSize: Int
    ) {
        self.destinationPath = destinationPath
        self.temporaryPath = temporaryPath
        self.directoryPath = directoryPath
        self.file = file
        self.maximumSize = maximumSize
        self.digest = computesMD5 ? RunningMD5() : nil
        self.batchSize = batchSize
    }

    /// Creates the temporary file next to `destinationPath` (creating missing parent folders).
    ///
    /// - Parameters:
    ///   - maximumSize: writing more throws ``ObjectStorageError/entityTooLarge``.
    ///   - computesMD5: whether ``commit()`` returns the hex MD5 of the content (S3-style ETag).
    ///   - batchSize: bytes gathered before each write call (at least 1 MiB: fewer, larger system calls).
    static func begin(
        destinationPath: String, maximumSize: Int64 = .max, computesMD5: Bool = false, batchSize: Int = 4 << 20
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
            maximumSize: maximumSize, computesMD5: computesMD5, batchSize: max(1 << 20, batchSize))
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
        let (file, batch, digest, offset, length) = (self.file, pending, self.digest, batchedBytes, pendingBytes)
        batchedBytes += Int64(pendingBytes)
        pending = []
        pendingBytes = 0
        inFlight = Task { try await writeBatch(batch, at: offset, length: length, to: file, hashingInto: digest) }
    }

    /// Writes what is left, fsyncs, renames into place and fsyncs the folder; returns the content's hex MD5 when
    /// computed.
    @discardableResult
    func commit() async throws -> String? {
        do {
            try await startBatch()
            try await inFlight?.value
            inFlight = nil
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
        return digest?.hexDigest()
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
/// by side on two pool threads; the next batch waits for this one, which keeps the digest in order.
/// Writeback of the batch starts as soon as it is written (it may block while the device is busy, so it stays on the
/// pool too).
private func writeBatch(
    _ batch: [ByteBuffer], at offset: Int64, length: Int, to file: LocalFile, hashingInto digest: RunningMD5?
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        if let digest {
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

/// An MD5 fed batch by batch on the blocking-I/O pool. Batches are strictly sequential (each waits for the one before
/// it), which is what makes the unchecked `Sendable` sound; the lock makes that ordering visible across threads.
private final class RunningMD5: @unchecked Sendable {
    private let lock = NSLock()
    private var md5 = Insecure.MD5()

    func update(_ buffers: [ByteBuffer]) {
        lock.lock()
        defer { lock.unlock() }
        for buffer in buffers {
            buffer.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
        }
    }

    func hexDigest() -> String {
        lock.lock()
        defer { lock.unlock() }
        return Hex.encode(md5.finalize())
    }
}
