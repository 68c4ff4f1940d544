import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of its own for tests that stop and start the server, so other tests are undisturbed.
///
/// Uses the Debian packages' `initdb`/`pg_ctl`; as root they run as the `postgres` user.
public final class TemporaryPostgresCluster: Sendable {
    public let port: Int
    public let directory: String

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
    }

    /// Creates (initdb) a cluster in a new temporary folder; `start()` runs it on 127.0.0.1:`port`.
    public static func create(port: Int) async throws -> TemporaryPostgresCluster {
        let directory = NSTemporaryDirectory() + "mv-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cluster = TemporaryPostgresCluster(port: port, directory: directory)
        if getuid() == 0 { try await runOffPool(["chown", "postgres:postgres", directory]) }
        try await cluster.runAsPostgres([
            binary("initdb"), "-D", directory + "/data", "-A", "trust", "-U", "postgres", "--no-sync",
        ])
        return cluster
    }

    /// Whether PostgreSQL server binaries are installed here.
    public static var isAvailable: Bool {
        (try? binary("pg_ctl")) != nil
    }

    public func start() async throws {
        try await runAsPostgres([
            Self.binary("pg_ctl"), "-D", directory + "/data", "-l", directory + "/log", "-w", "-o",
            "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        ])
    }

    public func stop() async throws {
        try await runAsPostgres([Self.binary("pg_ctl"), "-D", directory + "/data", "-m", "fast", "-w", "stop"])
    }

    public func destroy() async {
        try? await stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func runAsPostgres(_ arguments: [String]) async throws {
        try await Self.runOffPool(getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + arguments : arguments)
    }

    /// Blocking process waits run on their own thread, never on the (small) cooperative pool.
    static func runOffPool(_ arguments: [String]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try run(arguments)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func binary(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for version in versions.sorted(by: >) where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/\(name)") {
            return "\(root)/\(version)/bin/\(name)"
        }
        throw CommandFailed(command: name, status: -1)
    }

    /// Runs a command to completion with posix_spawn and waitpid. Foundation's `Process` is avoided on purpose:
    /// `pg_ctl start` leaves a daemon behind, and `Process.waitUntilExit` then never returns on Linux.
    static func run(_ arguments: [String]) throws {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, arguments[0], &fileActions, nil, &argv, environ)
        guard spawned == 0 else { throw CommandFailed(command: arguments.joined(separator: " "), status: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED/WEXITSTATUS are macros; decode the wait status by hand.
        let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -1
        guard exitCode == 0 else { throw CommandFailed(command: arguments.joined(separator: " "), status: exitCode) }
    }

    public struct CommandFailed: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public var description: String { "\(command) exited with \(status)" }
    }
}
