import Crypto
import Foundation
import MediaVaultCore
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import UploadClient

/// `mediavault upload` against a real gateway (filesystem store): a folder tree, re-runs, repeats, resume, progress.
@Suite("mediavault upload: scan, hash, check, upload, resume, progress")
struct UploadCommandTests {
    static let mib = 1 << 20

    /// A folder of photos and a video (large enough for parts), a repeat, a hidden file and a text file.
    static func library() throws -> URL {
        let root = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-library-" + UUID().uuidString)
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("b"), withIntermediateDirectories: true)
        func write(_ path: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: root.appendingPathComponent(path))
        }
        try write("1.png", MediaFlowTests.bytes(20_000, seed: 1))
        try write("b/2.jpg", MediaFlowTests.bytes(30_000, seed: 2))
        try write("b/3.mp4", MediaFlowTests.bytes(12 * mib, seed: 3))
        try write("copy.png", MediaFlowTests.bytes(20_000, seed: 1))
        try write(".hidden.png", MediaFlowTests.bytes(100, seed: 4))
        try write("notes.txt", Array("not media".utf8))
        return root
    }

    /// A gateway whose presigned URLs an outside client can reach: its API base is its real address.
    static func withGateway(
        _ extra: [String: String] = [:], _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        let socket = try ServerSocketPort.free()
        let address = ["HTTP_PORT": String(socket), "API_BASE_URL": "http://127.0.0.1:\(socket)"]
        try await GatewayHarness.with(extraEnvironment: address.merging(extra) { $1 }, body)
    }

    static var executable: URL? {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("mediavault")
        let inBuild = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/mediavault")
        return [besideTests, inBuild].first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func key(_ gateway: GatewayHarness, user: String) async throws -> String {
        let session = try await gateway.token(for: user)
        return try APIKeyTests.key(
            try await APIKeyTests.createKey(
                gateway, session: session, name: "uploader",
                scopes: ["media:read", "media:write", "collections:read", "collections:write"]))
    }

    static func options(_ gateway: GatewayHarness, key: String, _ paths: [String]) -> UploadOptions {
        var options = UploadOptions(server: gateway.baseURL, apiKey: key, paths: paths)
        options.multipartThreshold = Int64(5 * mib)
        options.partSize = Int64(5 * mib)
        options.output = FileHandle(forWritingAtPath: "/dev/null")!
        return options
    }

    /// Runs the binary with `arguments`, sends it `signal` once the store has answered `afterPUTs` PUTs, and waits for
    /// it to end; answers the process and what it wrote to standard error.
    static func signal(
        _ signal: Int32, afterPUTs puts: Int, _ gateway: GatewayHarness, executable: URL, arguments: [String],
        environment: [String: String]
    ) async throws -> (process: Process, errors: String) {
        let errors = Pipe()
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        for _ in 0..<3000 where process.isRunning {
            if try await storagePUTs(gateway) >= puts {
                kill(process.processIdentifier, signal)
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        // Read to the end before waiting: a full pipe would otherwise keep the process from exiting.
        let written = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process, written)
    }

    /// PUTs the filesystem store answered so far (`status` only those, or all).
    static func storagePUTs(_ gateway: GatewayHarness, status: String? = "200") async throws -> Int {
        let metrics = try await gateway.request(.GET, "/metrics").text
        return metrics.split(separator: "\n").filter { line in
            line.hasPrefix("http_requests_total{") && line.contains(#"method="PUT""#)
                && line.contains(#"route="/storage/**""#)
                && (status.map { line.contains(#"status="\#($0)""#) } ?? true)
        }.compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    @Test("a folder uploads completely to the filesystem store, repeats once, in order into a collection; a re-run sends nothing")
    func folderAndRerunOnTheFileSystem() async throws { try await Self.folderAndRerun(storage: "filesystem") }

    @Test("a folder uploads completely to S3, repeats once, in order into a collection; a re-run sends nothing",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func folderAndRerunOnS3() async throws { try await Self.folderAndRerun(storage: "s3") }

    static func folderAndRerun(storage: String) async throws {
        let root = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        try await Self.withGateway(storage == "s3" ? S3TestServer.environment() : [:]) { gateway in
            let key = try await Self.key(gateway, user: "6100")
            var dry = Self.options(gateway, key: key, [root.path])
            dry.dryRun = true
            let preview = try await Uploader(options: dry).run()
            #expect(preview.wouldUpload == ["1.png", "b/2.jpg", "b/3.mp4"])
            #expect(preview.duplicatesInRun == ["copy.png"])
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 0, "a dry run sends nothing")

            var options = Self.options(gateway, key: key, [root.path])
            options.collection = "Trip"
            let first = try await Uploader(options: options).run()
            #expect(first.failed.isEmpty, "\(first.failed)")
            #expect(first.uploaded == ["1.png", "b/2.jpg", "b/3.mp4"])
            #expect(first.duplicatesInRun == ["copy.png"])
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items WHERE status = 'queued'") == 3)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items WHERE sha256 IS NOT NULL") == 3)
            let collectionID = try #require(first.collectionID)
            let collection = try await gateway.request(.GET, "/collection/\(collectionID)", headers: [("X-API-Key", key)])
            // Added in the order the files were found (the collection lists the newest addition first).
            let items = (collection.json["items"] as? [[String: Any]] ?? [])
                .sorted { ($0["added_at"] as? String ?? "") < ($1["added_at"] as? String ?? "") }
            #expect(items.map { $0["title"] as? String } == ["1.png", "2.jpg", "3.mp4"], "\(collection.text)")
            // 1 + 1 single PUTs and 3 parts of 5 MiB for the 12 MiB video (S3 takes them itself, uncounted here).
            let puts = try await Self.storagePUTs(gateway)
            #expect(puts == (storage == "s3" ? 0 : 5))

            let second = try await Uploader(options: options).run()
            #expect(second.uploaded.isEmpty && second.failed.isEmpty)
            #expect(second.alreadyThere.count == 4, "\(second)")
            #expect(try await Self.storagePUTs(gateway) == puts, "nothing is sent twice")
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 3)
            #expect(try await gateway.scalar("SELECT count(*) FROM collection.items") == 3)
        }
    }

    @Test("the scan keeps photos and videos in name order, filtered by extension or MIME pattern")
    func scanFilters() throws {
        let root = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        let all = try FileScan.files(in: [root.path])
        #expect(all.map(\.displayPath) == ["1.png", "b/2.jpg", "b/3.mp4", "copy.png"], "no hidden or text files")
        #expect(all.map(\.mimeType) == ["image/png", "image/jpeg", "video/mp4", "image/png"])
        let videos = try FileScan.files(in: [root.path], mimeTypes: MimeFilter("Video/*"))
        #expect(videos.map(\.displayPath) == ["b/3.mp4"])
        let some = try FileScan.files(in: [root.path], mimeTypes: MimeFilter("image/jpeg, video/*"))
        #expect(some.map(\.displayPath) == ["b/2.jpg", "b/3.mp4"])
        let both = try FileScan.files(in: [root.path], extensions: ["png", "mp4"], mimeTypes: MimeFilter("image/*"))
        #expect(both.map(\.displayPath) == ["1.png", "copy.png"], "both filters apply")
        for bad in ["image", "*/*", "image/", "", ",", "image/jp eg"] {
            #expect(throws: UploadError.self, "\(bad)") { try MimeFilter(bad) }
        }
    }

    @Test("a half-sent large file continues from the parts the server has, sending only the rest")
    func resume() async throws {
        let root = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        let video = root.appendingPathComponent("b/3.mp4")
        let bytes = Array(try Data(contentsOf: video))
        let sha = SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
        try await Self.withGateway { gateway in
            let key = try await Self.key(gateway, user: "6200")
            let asKey = [("X-API-Key", key)]
            // What an interrupted run leaves: the upload started and its first part sent.
            let started = try await gateway.request(
                .POST, "/media/upload/multipart", headers: asKey,
                body: #"{"filename": "3.mp4", "mime_type": "video/mp4", "size_bytes": \#(bytes.count), "part_size": \#(5 * Self.mib), "sha256": "\#(sha)"}"#)
            let mediaID = try #require(started.json["media_id"] as? String, "\(started.text)")
            let urls = try await gateway.request(
                .POST, "/media/upload/multipart/\(mediaID)/urls", headers: asKey, body: #"{"part_numbers": [1]}"#)
            let url = try #require((urls.json["parts"] as? [[String: Any]])?.first?["upload_url"] as? String)
            #expect(try await gateway.request(.PUT, url, bytes: Array(bytes[0..<(5 * Self.mib)])).status == 200)
            let before = try await Self.storagePUTs(gateway)

            // Asked for another part size, the resuming run still cuts the file the way the upload was started.
            var options = Self.options(gateway, key: key, [video.path])
            options.partSize = Int64(8 * Self.mib)
            let summary = try await Uploader(options: options).run()
            #expect(summary.failed.isEmpty, "\(summary.failed)")
            #expect(summary.resumed == ["3.mp4"])
            #expect(try await Self.storagePUTs(gateway) - before == 2, "parts 2 and 3 only")
            let item = try await gateway.request(.GET, "/media/\(mediaID)", headers: asKey)
            #expect(item.json["status"] as? String == "queued" && item.json["size_bytes"] as? Int == bytes.count)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 1)
        }
    }

    @Test("a refused PUT takes back the bytes it counted, and an S3 server's XML refusal reads as its code and message")
    func refusedPut() async throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-refused-\(UUID().uuidString).png")
        try Data(MediaFlowTests.bytes(3 << 20, seed: 41)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await Self.withGateway { gateway in
            let key = try await Self.key(gateway, user: "6700")
            let api = MediaVaultAPI(server: gateway.baseURL, apiKey: key, http: .shared)
            // Signed for other bytes: the store reads the whole body, then refuses it (BadDigest).
            let other = SHA256.hash(data: Data([1, 2, 3])).map { String(format: "%02x", $0) }.joined()
            let refusing = try await api.sign(filename: "a.png", mimeType: "image/png", size: 3 << 20, sha256: other)
            let counted = NIOLockedValueBox(Int64(0))
            await #expect(throws: UploadError.self) {
                try await api.put(
                    file: file, offset: 0, length: 3 << 20, to: refusing.uploadURL, headers: refusing.headers,
                    sent: { count in counted.withLockedValue { $0 += count } })
            }
            #expect(counted.withLockedValue { $0 } == 0, "nothing counts as sent after a failed attempt")
            let signed = try await api.sign(filename: "a.png", mimeType: "image/png", size: 3 << 20, sha256: nil)
            _ = try await api.put(
                file: file, offset: 0, length: 3 << 20, to: signed.uploadURL, headers: signed.headers,
                sent: { count in counted.withLockedValue { $0 += count } })
            #expect(counted.withLockedValue { $0 } == 3 << 20)
        }
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code><Message>The Content-Md5 you specified did not match what we received.</Message></Error>"#
        let error = MediaVaultAPI.error(status: 400, body: ByteBuffer(string: xml), during: "storage PUT")
        #expect(error.code == "BadDigest" && !error.isTransient)
        #expect(error.message == "storage PUT: The Content-Md5 you specified did not match what we received. (BadDigest)")
        #expect(MediaVaultAPI.error(status: 503, body: ByteBuffer(string: "busy"), during: "x").message == "x: HTTP 503")
    }

    @Test("a run killed in the middle of a large file resumes on the next run without sending finished parts again")
    func killedRun() async throws {
        let executable = try #require(Self.executable, "build the mediavault binary")
        let folder = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-big-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // 256 MiB: 16 parts of 16 MiB, each block different so no two parts are alike.
        let video = folder.appendingPathComponent("long.mov")
        FileManager.default.createFile(atPath: video.path, contents: nil)
        let handle = try FileHandle(forWritingTo: video)
        var block = [UInt8](repeating: 0, count: Self.mib)
        for index in 0..<256 {
            for offset in stride(from: 0, to: block.count, by: 4096) { block[offset] = UInt8(truncatingIfNeeded: index) }
            block[1] = UInt8(truncatingIfNeeded: index >> 8)
            try handle.write(contentsOf: block)
        }
        try handle.close()
        try await Self.withGateway { gateway in
            let key = try await Self.key(gateway, user: "6500")
            let arguments = ["upload", folder.path, "--concurrency", "1", "--multipart-threshold-mb", "5"]
            let environment = ["MEDIAVAULT_SERVER": gateway.baseURL, "MEDIAVAULT_API_KEY": key]
            let (process, _) = try await Self.signal(
                SIGKILL, afterPUTs: 3, gateway, executable: executable, arguments: arguments, environment: environment)
            #expect(process.terminationReason == .uncaughtSignal, "the run was killed before it could finish")
            // The PUT cut off by the kill ends on the server a moment later (refused, or stored if its body was all
            // there): wait for the count to settle before asking what the server has.
            var settled = try await Self.storagePUTs(gateway, status: nil)
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(200))
                let now = try await Self.storagePUTs(gateway, status: nil)
                if now == settled { break }
                settled = now
            }
            let mediaID = try await gateway.text("SELECT id::text FROM media.items")
            let parts = try await gateway.request(
                .GET, "/media/upload/multipart/\(mediaID)/parts", headers: [("X-API-Key", key)])
            let finished = (parts.json["parts"] as? [Any])?.count ?? 0
            #expect(finished >= 3 && finished < 16, "\(parts.text)")

            let before = try await Self.storagePUTs(gateway)
            let rerun = try await Shell.capture([executable.path] + arguments, environment: environment)
            #expect(rerun.status == 0, "\(rerun.output)")
            #expect(rerun.output.contains("1 resumed"), "\(rerun.output)")
            #expect(try await Self.storagePUTs(gateway) - before == 16 - finished, "finished parts are not sent again")
            #expect(try await gateway.text("SELECT status FROM media.items") == "queued")
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 1)
        }
    }

    @Test("Ctrl-C ends a run by SIGINT and says how to continue; the same command then resumes")
    func interruptedRun() async throws {
        let executable = try #require(Self.executable, "build the mediavault binary")
        let folder = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-int-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // 100 MiB in 20 parts of 5 MiB, sent one at a time: long enough to interrupt in the middle.
        try Data(MediaFlowTests.bytes(100 * Self.mib, seed: 51)).write(to: folder.appendingPathComponent("clip.mov"))
        try await Self.withGateway { gateway in
            let key = try await Self.key(gateway, user: "6800")
            let arguments = [
                "upload", folder.path, "--concurrency", "1", "--multipart-threshold-mb", "5", "--part-size-mb", "5",
            ]
            let environment = ["MEDIAVAULT_SERVER": gateway.baseURL, "MEDIAVAULT_API_KEY": key]
            let (process, said) = try await Self.signal(
                SIGINT, afterPUTs: 2, gateway, executable: executable, arguments: arguments, environment: environment)
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT, "\(said)")
            #expect(said.contains("interrupted: files and parts already sent stay on the server"), "\(said)")

            let rerun = try await Shell.capture([executable.path] + arguments, environment: environment)
            #expect(rerun.status == 0, "\(rerun.output)")
            #expect(rerun.output.contains("1 resumed"), "\(rerun.output)")
            #expect(try await gateway.text("SELECT status FROM media.items") == "queued")
        }
    }

    @Test("bad input and refusals end that file with the server's message, and the run exits non-zero")
    func failures() async throws {
        let root = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        try await Self.withGateway { gateway in
            let session = try await gateway.token(for: "6300")
            let readOnly = try APIKeyTests.key(
                try await APIKeyTests.createKey(gateway, session: session, scopes: ["media:read"]))
            let summary = try await Uploader(
                options: Self.options(gateway, key: readOnly, [root.appendingPathComponent("1.png").path])
            ).run()
            #expect(summary.uploaded.isEmpty && summary.failed.count == 1)
            #expect(summary.failed.first?.reason.contains("media:write") == true, "\(summary.failed)")
            await #expect(throws: UploadError.self) {
                _ = try await Uploader(options: Self.options(gateway, key: readOnly, ["/no/such/folder"])).run()
            }
        }
    }

    @Test("progress: bars redrawn in place on a terminal, plain lines otherwise; the exit status tells failure")
    func progressOutput() async throws {
        let executable = try #require(Self.executable, "build the mediavault binary")
        let root = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        try await Self.withGateway { gateway in
            let key = try await Self.key(gateway, user: "6400")
            let environment = ["MEDIAVAULT_SERVER": gateway.baseURL, "MEDIAVAULT_API_KEY": key]
            let command = [executable.path, "upload", root.path, "--multipart-threshold-mb", "5"]

            // Under a pseudo-terminal (`script` gives the command one): bars drawn with carriage returns.
            let quoted = command.map { "'\($0)'" }.joined(separator: " ")
            let onTerminal = try await Shell.capture(["script", "-qefc", quoted, "/dev/null"], environment: environment)
            #expect(onTerminal.status == 0, "\(onTerminal.output)")
            #expect(onTerminal.output.contains("\r\u{1B}[2K") && onTerminal.output.contains("[###"))
            #expect(onTerminal.output.contains("done: 3 uploaded"))

            // Into a pipe: plain lines, no control characters; everything is there already now.
            let piped = try await Shell.capture(command, environment: environment)
            #expect(piped.status == 0, "\(piped.output)")
            #expect(!piped.output.contains("\r") && !piped.output.contains("\u{1B}"))
            #expect(piped.output.contains("hash 4/4 100%"))
            #expect(piped.output.contains("done: 0 uploaded") && piped.output.contains("4 already there"))

            let refused = try await Shell.capture(
                command + ["--api-key", "mvk_" + String(repeating: "A", count: 43)], environment: environment)
            #expect(refused.status == 1)
            #expect(refused.output.contains("authentication required"), "\(refused.output)")
        }
    }
}

extension Shell {
    /// Runs a command with extra environment; answers its exit status and its output and errors together.
    static func capture(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let pipe = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read until the command closes its end, off the cooperative pool, then collect its status.
        let data = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
            Thread.detachNewThread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A TCP port nothing listens on right now (the kernel's pick, released at once).
enum ServerSocketPort {
    static func free() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError(message: "socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        guard bound == 0 else { throw HarnessError(message: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
