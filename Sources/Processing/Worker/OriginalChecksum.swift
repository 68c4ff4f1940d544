import Crypto
import Foundation
import MediaVaultCore
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

/// The stored original is not the file whose SHA-256 its uploader declared: permanent, another attempt reads the
/// same bytes.
struct OriginalChecksumMismatch: Error, CustomStringConvertible {
    let expected: [UInt8]
    let actual: [UInt8]

    var reason: String {
        "checksum mismatch: the stored file's SHA-256 is \(Hex.encode(actual)), not the \(Hex.encode(expected)) declared "
            + "at upload; the file changed on its way to storage, so upload it again"
    }

    var description: String { reason }
}
