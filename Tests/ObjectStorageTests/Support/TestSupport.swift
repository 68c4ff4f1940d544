import Crypto
import Foundation
import NIOCore
import Testing

@testable import ObjectStorage

#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder under the system temp dir, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let url: URL

    init(_ label: String = "objectstorage-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Every file below the folder, as paths relative to it.
    func allFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(path).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(path)
            }
        }
        return files.sorted()
    }
}

/// Deterministic test bytes, fast even in debug builds: a 64 KiB pseudo-random block per seed, with each copy's
/// first eight bytes replaced by its block number, so reordered or repeated blocks change the content.
enum TestBytes {
    static let blockSize = 64 * 1024

    private static func baseBlock(seed: UInt8) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: blockSize) { buffer, count in
            var state = UInt32(seed) &* 2_654_435_761 | 1
            for index in 0..<blockSize {
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                buffer[index] = UInt8(truncatingIfNeeded: state)
            }
            count = blockSize
        }
    }

    /// `count` bytes of the stream for `seed`, starting at block `firstBlock`.
    static func make(count: Int, seed: UInt8 = 7, firstBlock: Int = 0) -> [UInt8] {
        let base = baseBlock(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var block = firstBlock
        while bytes.count < count {
            var copy = base
            withUnsafeBytes(of: UInt64(block).littleEndian) { copy.replaceSubrange(0..<8, with: $0) }
            bytes += copy.prefix(count - bytes.count)
            block += 1
        }
        return bytes
    }

    /// Writes `count` stream bytes to `url` one MiB at a time and returns their SHA-256 (hex).
    static func writeFile(_ url: URL, count: Int, seed: UInt8 = 7) throws -> String {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var written = 0
        while written < count {
            let size = Swift.min(1 << 20, count - written)
            let chunk = make(count: size, seed: seed, firstBlock: written / blockSize)
            hasher.update(data: chunk)
            try handle.write(contentsOf: chunk)
            written += size
        }
        return Hex.encode(hasher.finalize())
    }

    /// SHA-256 (hex) of a file, read one MiB at a time.
    static func sha256(ofFile url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return Hex.encode(hasher.finalize())
    }

    static func sha256(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }
}

/// A clock tests can move.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(by seconds: TimeInterval) {
        lock.lock()
        current += seconds
        lock.unlock()
    }

    var function: @Sendable () -> Date { { [self] in self.now } }
}

/// Resident memory of this process right now (Linux `/proc/self/statm`), or nil where that file does not exist.
///
/// Resident size only grows when memory is touched, so a transfer that buffered a whole file would show up as a
/// jump of at least the file's size; a streaming one stays within a few buffers.
enum HeapUsage {
    static func currentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Runs `body` while sampling heap use every few milliseconds; returns its result and the peak growth.
    static func measurePeakGrowth<T: Sendable>(_ body: () async throws -> T) async throws -> (T, Int?) {
        guard let baseline = currentBytes() else { return (try await body(), nil) }
        let peak = PeakTracker(baseline)
        let sampler = Task.detached {
            while !Task.isCancelled {
                if let now = currentBytes() { peak.record(now) }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        defer { sampler.cancel() }
        let result = try await body()
        if let now = currentBytes() { peak.record(now) }
        return (result, peak.value - baseline)
    }

    private final class PeakTracker: @unchecked Sendable {
        private let lock = NSLock()
        private var peak: Int

        init(_ start: Int) { peak = start }

        func record(_ value: Int) {
            lock.lock()
            peak = Swift.max(peak, value)
            lock.unlock()
        }

        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return peak
        }
    }
}

/// An AsyncSequence of ByteBuffers from arrays, for feeding uploads.
struct ChunkSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: [[UInt8]]

    init(_ chunks: [[UInt8]]) { self.chunks = chunks }

    /// `bytes` cut into chunks of `size`.
    init(_ bytes: [UInt8], chunkSize size: Int) {
        chunks = stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<Swift.min($0 + size, bytes.count)]) }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<[UInt8]>

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = remaining.popFirst() else { return nil }
            return ByteBuffer(bytes: chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: chunks[...]) }
}

extension AsyncSequence where Element == ByteBuffer {
    /// All bytes of the sequence (tests only; the point of the real API is not doing this).
    func collectBytes() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self { bytes += chunk.readableBytesView }
        return bytes
    }
}

extension TestBytes {
    /// Hex MD5, the ETag S3 gives a single-part object.
    static func md5Hex(_ bytes: [UInt8]) -> String { Hex.encode(Insecure.MD5.hash(data: bytes)) }
}
