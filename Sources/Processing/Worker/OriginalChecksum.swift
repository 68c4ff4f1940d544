import Crypto
import Foundation
import NIOPosix

/// The SHA-256 of a downloaded original, read in chunks off the cooperative pool.
enum OriginalChecksum {
    static let chunkSize = 4 << 20

    static func sha256(of file: URL) async throws -> [UInt8] {
        try await NIOThreadPool.singleton.runIfActive {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
            return Array(hasher.finalize())
        }
    }
}
