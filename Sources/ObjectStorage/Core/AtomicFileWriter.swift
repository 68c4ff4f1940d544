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
/// Used by one task at a time (not `Sendable`). Call ``commit()`` or ``discard()`` exactly once; a writer that
/// fails midway must be discarded so the temporary file does not linger.
final class AtomicFileWriter {
    let destinationPath: String
    let temporaryPath: String
    private let directoryPath: String
    private let file: LocalFile
    private let maximumSize: Int64
    private var md5: Insecure.MD5?
    private var pending = ByteBuffer()
    private let flushThreshold: Int
    private(set) var bytesWritten: Int64 = 0

    private init(
        destinationPath: String, temporaryPath: String, directoryPath: String, file: LocalFile,
        maximumSize: Int64, computesMD5: Bool, flushThreshold: Int
    ) {
        self.destinationPath = destinationPath
        self.temporaryPath = temporaryPath
        self.directoryPath = directoryPath
        self.file = file
        self.maximumSize = maximumSize
        self.md5 = computesMD5 ? Insecure.MD5() : nil
        self.flushThreshold = flushThreshold
    }

    /// Creates the temporary file next to `destinationPath` (creating missing parent folders).
    ///
    /// - Parameters:
    ///   - maximumSize: writing more throws ``ObjectStorageError/entityTooLarge``.
    ///   - computesMD5: whether ``commit()`` returns the hex MD5 of the content (S3-style ETag).
    ///   - flushThreshold: small incoming chunks are gathered up to this size before each write call.
    static func begin(
        destinationPath: String, maximumSize: Int64 = .max, computesMD5: Bool = false, flushThreshold: Int = 256 * 1024
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
            maximumSize: maximumSize, computesMD5: computesMD5, flushThreshold: max(1, flushThreshold))
    }

    /// Appends `chunk`, enforcing the size cap before anything beyond it reaches the disk.
    func write(_ chunk: ByteBuffer) async throws {
        bytesWritten += Int64(chunk.readableBytes)
        guard bytesWritten <= maximumSize else {
            throw ObjectStorageError(.entityTooLarge, "upload exceeds the allowed \(maximumSize) bytes")
        }
        if md5 != nil {
            chunk.withUnsafeReadableBytes { md5?.update(bufferPointer: $0) }
        }
        pending.writeImmutableBuffer(chunk)
        if pending.readableBytes >= flushThreshold {
            try await flush()
        }
    }

    private func flush() async throws {
        guard pending.readableBytes > 0 else { return }
        let (file, bytes) = (self.file, pending)
        try await BlockingIO.run { try file.write(bytes) }
        pending.clear()
    }

    /// Flushes, fsyncs, renames into place and fsyncs the folder; returns the content's hex MD5 when computed.
    @discardableResult
    func commit() async throws -> String? {
        do {
            try await flush()
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
        return md5.map { Hex.encode($0.finalize()) }
    }

    /// Closes and deletes the temporary file; never throws, because it runs on failure paths.
    func discard() async {
        let (file, temporaryPath) = (self.file, self.temporaryPath)
        file.close()
        _ = try? await BlockingIO.run { try FileOperations.removeFileIfPresent(temporaryPath) }
    }
}
