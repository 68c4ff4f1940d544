import _CryptoExtras
import Crypto
import Foundation
import MediaVaultCore
import NIOPosix

/// Share-link passwords, stored as salted scrypt hashes: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url).
/// Hashing is deliberately slow (tens of milliseconds, 32 MiB), so it runs on its own one-thread pool: never on
/// the event loops or the cooperative pool, and however many links are created or unlocked at once, hashing
/// takes at most one core and leaves the shared blocking pool (file I/O) alone.
public enum SharePassword {
    /// Process-wide on purpose: the point is one bound for every gateway in the process.
    private static let hashingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    static let logRounds = 15
    static let blockSize = 8
    static let parallelism = 1
    static let minimumLength = 6
    static let maximumLength = 256

    /// Rejects passwords a link should not be protected with.
    public static func validate(_ password: String) throws {
        guard password.count >= minimumLength, password.utf8.count <= maximumLength else {
            throw AppError.invalidArgument(
                "password must be \(minimumLength) to \(maximumLength) characters", details: ["field": "password"])
        }
    }

    public static func hash(_ password: String) async throws -> String {
        let salt = RandomToken.generate(byteCount: 16)
        let derived = try await derive(
            password, salt: salt, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        return ["scrypt", "\(logRounds)", "\(blockSize)", "\(parallelism)", salt, Base64URL.encode(derived)]
            .joined(separator: "$")
    }

    /// Whether `password` matches `stored`; the comparison is constant-time.
    public static func verify(_ password: String, against stored: String) async throws -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let logRounds = Int(parts[1]), (10...20).contains(logRounds),
            let blockSize = Int(parts[2]), (1...32).contains(blockSize), let parallelism = Int(parts[3]),
            (1...16).contains(parallelism), let expected = Base64URL.decode(parts[5])
        else { return false }
        guard password.utf8.count <= maximumLength else { return false }
        let derived = try await derive(
            password, salt: parts[4], logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        return ConstantTime.equal(derived, expected)
    }

    /// A short fingerprint of the stored hash, bound into unlock passes so a changed password ends old unlocks.
    static func fingerprint(_ stored: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(stored.utf8)).prefix(9))
    }

    private static func derive(
        _ password: String, salt: String, logRounds: Int, blockSize: Int, parallelism: Int
    ) async throws -> [UInt8] {
        try await hashingPool.runIfActive {
            let key = try KDF.Scrypt.deriveKey(
                from: Array(password.utf8), salt: Array(salt.utf8), outputByteCount: 32, rounds: 1 << logRounds,
                blockSize: blockSize, parallelism: parallelism)
            return key.withUnsafeBytes { Array($0) }
        }
    }
}
