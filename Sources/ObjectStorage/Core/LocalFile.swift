import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking file-system calls on NIO's shared thread pool, so they never stall Swift's cooperative threads
/// or an event loop.
enum BlockingIO {
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}

/// An open POSIX file descriptor that closes itself when the last reference goes away.
///
/// Reads and writes are positional or sequential blocking calls; callers run them through ``BlockingIO``.
/// The descriptor is only used by one task at a time (a read sequence's iterator or a writer), which is why
/// `@unchecked Sendable` is sound here: the lock only guards closing.
final class LocalFile: @unchecked Sendable {
    private let lock = NSLock()
    private var descriptor: Int32?
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if let descriptor { _ = systemClose(descriptor) }
    }

    /// Opens an existing file for reading.
    static func openForReading(_ path: String) throws -> LocalFile {
        try open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
    }

    /// Creates a new file that must not exist yet (temporary files use unique names).
    static func createExclusively(_ path: String, mode: mode_t = 0o644) throws -> LocalFile {
        try open(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: mode)
    }

    private static func open(_ path: String, flags: Int32, mode: mode_t) throws -> LocalFile {
        while true {
            let descriptor = systemOpen(path, flags, mode)
            if descriptor >= 0 { return LocalFile(descriptor: descriptor, path: path) }
            if errno == EINTR { continue }
            throw LocalFileError(operation: "open", path: path, errno: errno)
        }
    }

    private func currentDescriptor() throws -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        guard let descriptor else { throw LocalFileError(operation: "use closed file", path: path, errno: EBADF) }
        return descriptor
    }

    /// Size from `fstat`, i.e. of the file this descriptor refers to even if the path was replaced since.
    func size() throws -> Int64 {
        var info = stat()
        guard fstat(try currentDescriptor(), &info) == 0 else {
            throw LocalFileError(operation: "fstat", path: path, errno: errno)
        }
        return Int64(info.st_size)
    }

    /// Modification time from `fstat`.
    func modificationDate() throws -> Date {
        var info = stat()
        guard fstat(try currentDescriptor(), &info) == 0 else {
            throw LocalFileError(operation: "fstat", path: path, errno: errno)
        }
        return Self.date(of: info)
    }

    static func date(of info: stat) -> Date {
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return Date(timeIntervalSince1970: TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, at offset: Int64, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let descriptor = try currentDescriptor()
        var buffer = allocator.buffer(capacity: count)
        var filled = 0
        while filled < count {
            let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - filled) { pointer in
                pread(descriptor, pointer.baseAddress, count - filled, off_t(offset + Int64(filled)))
            }
            if result == 0 { break }
            if result < 0 {
                if errno == EINTR { continue }
                throw LocalFileError(operation: "read", path: path, errno: errno)
            }
            filled += result
        }
        return buffer
    }

    /// Vectors one `writev` accepts (POSIX guarantees at least 16; Linux takes 1024).
    private static let maximumVectors = max(16, sysconf(Int32(_SC_IOV_MAX)))

    /// Appends the readable bytes of every buffer, in order, with as few `writev` calls as the system allows
    /// (loops over short writes). The buffers are written where they are, not copied together first.
    func write(gathering buffers: [ByteBuffer]) throws {
        let descriptor = try currentDescriptor()
        var vectors: [iovec] = []
        var storages: [Unmanaged<AnyObject>] = []
        vectors.reserveCapacity(buffers.count)
        storages.reserveCapacity(buffers.count)
        // Each buffer's storage is retained while its address is in a vector: the pointer outlives the closure that
        // handed it out, which NIO allows only with the storage held.
        for buffer in buffers where buffer.readableBytes > 0 {
            buffer.withUnsafeReadableBytesWithStorageManagement { bytes, storage in
                storages.append(storage.retain())
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
            }
        }
        defer { for storage in storages { storage.release() } }
        var index = 0
        while index < vectors.count {
            let count = min(vectors.count - index, Self.maximumVectors)
            let result = vectors.withUnsafeMutableBufferPointer { all in
                systemWritev(descriptor, all.baseAddress! + index, Int32(count))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw LocalFileError(operation: "write", path: path, errno: errno)
            }
            // Nothing written with bytes left would loop for ever; a regular file only does that when it cannot grow.
            if result == 0 { throw LocalFileError(operation: "write", path: path, errno: ENOSPC) }
            // Skip the vectors written in full; a partly written one keeps its rest.
            var remaining = result
            while remaining > 0 {
                let length = vectors[index].iov_len
                if remaining >= length {
                    remaining -= length
                    index += 1
                } else {
                    vectors[index].iov_base += remaining
                    vectors[index].iov_len -= remaining
                    remaining = 0
                }
            }
        }
    }

    /// Asks the kernel to start writing `length` bytes at `offset` to the disk now, without waiting: the closing
    /// `fsync` then has little left to do. Durability still comes from ``sync()``; elsewhere than Linux, a no-op.
    func startWriteback(offset: Int64, length: Int) {
        guard let syncFileRange = Self.syncFileRange, let descriptor = try? currentDescriptor() else { return }
        _ = syncFileRange(descriptor, offset, Int64(length), Self.syncFileRangeWrite)
    }

    /// glibc's `sync_file_range`, which Swift's Glibc module leaves out (it is declared only under `_GNU_SOURCE`).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
        #else
        return nil
        #endif
    }()
    /// `SYNC_FILE_RANGE_WRITE`: start writeback of the range's dirty pages, do not wait for it.
    private static let syncFileRangeWrite: UInt32 = 2

    /// Flushes the file's data to stable storage before it is renamed into place.
    func sync() throws {
        guard fsync(try currentDescriptor()) == 0 else {
            throw LocalFileError(operation: "fsync", path: path, errno: errno)
        }
    }

    /// Closes now (later calls are no-ops); the deinitializer would otherwise do it.
    func close() {
        lock.lock()
        let descriptor = self.descriptor
        self.descriptor = nil
        lock.unlock()
        if let descriptor { _ = systemClose(descriptor) }
    }
}

/// A failed POSIX call on a local file.
struct LocalFileError: Error, CustomStringConvertible {
    var operation: String
    var path: String
    var errno: Int32

    var description: String { "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))" }

    var isNotFound: Bool { errno == ENOENT || errno == ENOTDIR }
}

/// Plain file-system operations used by both stores, each a blocking call meant for ``BlockingIO``.
enum FileOperations {
    /// `rename(2)`: atomic replacement within one file system.
    static func rename(_ source: String, to destination: String) throws {
        guard systemRename(source, destination) == 0 else {
            throw LocalFileError(operation: "rename to \(destination)", path: source, errno: errno)
        }
    }

    /// Removes a file; a missing file is fine.
    static func removeFileIfPresent(_ path: String) throws {
        if unlink(path) != 0, errno != ENOENT {
            throw LocalFileError(operation: "unlink", path: path, errno: errno)
        }
    }

    /// `stat(2)`, or nil when nothing exists at `path`.
    static func status(_ path: String) throws -> stat? {
        var info = stat()
        if stat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw LocalFileError(operation: "stat", path: path, errno: errno)
    }

    static func isRegularFile(_ info: stat) -> Bool {
        (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Makes sure the directory at `path` exists, creating parents as needed.
    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LocalFileError(operation: "mkdir", path: path, errno: EIO)
        }
    }

    /// fsyncs a directory so a rename inside it survives a crash.
    static func syncDirectory(_ path: String) throws {
        let descriptor = systemOpen(path, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { throw LocalFileError(operation: "open directory", path: path, errno: errno) }
        defer { _ = systemClose(descriptor) }
        // Some file systems refuse fsync on directories (EINVAL); the rename itself has still happened.
        if fsync(descriptor) != 0, errno != EINVAL {
            throw LocalFileError(operation: "fsync directory", path: path, errno: errno)
        }
    }

    /// Removes the empty folders from `path` up to (not including) `root`; stops at the first non-empty one.
    static func removeEmptyParents(of path: String, below root: String) {
        var directory = (path as NSString).deletingLastPathComponent
        while directory.hasPrefix(root + "/"), rmdir(directory) == 0 {
            directory = (directory as NSString).deletingLastPathComponent
        }
    }

    /// Removes a directory tree; a missing one is fine.
    static func removeTreeIfPresent(_ path: String) throws {
        guard try status(path) != nil else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            if try status(path) != nil {
                throw LocalFileError(operation: "remove tree", path: path, errno: EIO)
            }
        }
    }

    /// Names inside a directory, or nil when it does not exist.
    static func contentsOfDirectory(_ path: String) throws -> [String]? {
        guard try status(path) != nil else { return nil }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw LocalFileError(operation: "list directory", path: path, errno: EIO)
        }
    }
}

/// The bytes `range` of a file as an `AsyncSequence` of `ByteBuffer` chunks, read on demand.
///
/// Memory stays at one chunk per iteration, whatever the file size. The sequence keeps the file open (the
/// descriptor, not the path, so a concurrent replace does not mix two versions) until it and its iterators
/// are gone. It can be iterated more than once; each iteration starts at the range's beginning.
public struct FileChunkSequence: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let file: LocalFile
    /// The first byte to deliver.
    public let offset: Int64
    /// How many bytes the sequence delivers in total.
    public let length: Int64
    private let chunkSize: Int

    init(file: LocalFile, offset: Int64, length: Int64, chunkSize: Int) {
        self.file = file
        self.offset = offset
        self.length = length
        self.chunkSize = Swift.max(1, chunkSize)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(file: file, position: offset, remaining: length, chunkSize: chunkSize)
    }

    /// Reads the next chunk on NIO's thread pool; nil after the last byte of the range.
    public struct Iterator: AsyncIteratorProtocol {
        private let file: LocalFile
        private var position: Int64
        private var remaining: Int64
        private let chunkSize: Int
        private let allocator = ByteBufferAllocator()

        init(file: LocalFile, position: Int64, remaining: Int64, chunkSize: Int) {
            self.file = file
            self.position = position
            self.remaining = remaining
            self.chunkSize = chunkSize
        }

        public mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0 else { return nil }
            try Task.checkCancellation()
            let count = Int(Swift.min(Int64(chunkSize), remaining))
            let (file, position, allocator) = (self.file, self.position, self.allocator)
            let chunk: ByteBuffer
            do {
                chunk = try await BlockingIO.run { try file.read(count: count, at: position, allocator: allocator) }
            } catch let error as LocalFileError {
                throw ObjectStorageError(.fileSystem, error.description)
            }
            guard chunk.readableBytes > 0 else {
                // The file shrank under us; ending early would silently truncate, so fail loudly instead.
                throw ObjectStorageError(.fileSystem, "\(file.path) ended \(remaining) bytes early")
            }
            self.position += Int64(chunk.readableBytes)
            self.remaining -= Int64(chunk.readableBytes)
            return chunk
        }
    }
}

// Thin wrappers so the POSIX names do not clash with Swift's own `open`, `write`, `close`, `rename`.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Darwin)
    Darwin.open(path, flags, mode)
    #elseif canImport(Musl)
    Musl.open(path, flags, mode)
    #else
    Glibc.open(path, flags, mode)
    #endif
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    #if canImport(Darwin)
    Darwin.close(descriptor)
    #elseif canImport(Musl)
    Musl.close(descriptor)
    #else
    Glibc.close(descriptor)
    #endif
}

private func systemRename(_ source: String, _ destination: String) -> Int32 {
    #if canImport(Darwin)
    Darwin.rename(source, destination)
    #elseif canImport(Musl)
    Musl.rename(source, destination)
    #else
    Glibc.rename(source, destination)
    #endif
}

private func systemWritev(_ descriptor: Int32, _ vectors: UnsafePointer<iovec>, _ count: Int32) -> Int {
    #if canImport(Darwin)
    Darwin.writev(descriptor, vectors, count)
    #elseif canImport(Musl)
    Musl.writev(descriptor, vectors, count)
    #else
    Glibc.writev(descriptor, vectors, count)
    #endif
}
