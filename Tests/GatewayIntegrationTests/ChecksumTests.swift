import Crypto
import Foundation
import Testing

/// Declared SHA-256s: duplicates refused at sign time, found in bulk, and checked against what was stored: by the
/// store on a single PUT, at completion when the store knows the whole object's SHA-256, by the worker otherwise.
@Suite("Content checksums: duplicates, lookups, verification")
struct ChecksumTests {
    static func hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
    }

    /// Gateway settings for `storage` ("filesystem" or "s3").
    static func environment(_ storage: String) -> [String: String] {
        storage == "s3" ? S3TestServer.environment() : [:]
    }

    /// Signs with `sha256`; answers the media id, the URL and the headers to send.
    static func sign(
        _ gateway: GatewayHarness, token: String, declaring sha256: String, name: String, type: String
    ) async throws -> (mediaID: String, url: String, headers: [(String, String)]) {
        let sign = try await gateway.request(
            .POST, "/media/upload/sign", token: token,
            body: #"{"filename": "\#(name)", "mime_type": "\#(type)", "sha256": "\#(sha256)"}"#)
        #expect(sign.status == 200, "\(sign.text)")
        let headers = (sign.json["headers"] as? [String: String] ?? [:]).map { ($0.key, $0.value) }
        return (
            try #require(sign.json["media_id"] as? String), try #require(sign.json["upload_url"] as? String), headers
        )
    }

    /// Signs with `sha256`, PUTs `bytes` with the headers sign asked for, and confirms; returns the media id.
    static func upload(
        _ gateway: GatewayHarness, token: String, bytes: [UInt8], declaring sha256: String, name: String = "a.png",
        type: String = "image/png"
    ) async throws -> String {
        let (mediaID, url, headers) = try await sign(gateway, token: token, declaring: sha256, name: name, type: type)
        let put = try await gateway.request(.PUT, url, headers: headers, bytes: bytes)
        #expect(put.status == 200, "\(put.text)")
        let confirm = try await gateway.request(
            .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
        #expect(confirm.status == 200, "\(confirm.text)")
        return mediaID
    }

    @Test("a file you already have is refused at sign time unless you keep both, and lookups find your copies only")
    func duplicatesAndLookups() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "5100")
            let bytes = MediaFlowTests.bytes(3000, seed: 11)
            let sha = Self.hex(bytes)
            let first = try await Self.upload(gateway, token: token, bytes: bytes, declaring: sha.uppercased())

            let again = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "b.png", "mime_type": "image/png", "sha256": "\#(sha)"}"#)
            #expect(again.status == 409 && again.json["code"] as? String == "already_exists", "\(again.text)")
            #expect((again.json["details"] as? [String: Any])?["media_id"] as? String == first)
            let multipart = try await gateway.request(
                .POST, "/media/upload/multipart", token: token,
                body: #"{"filename": "b.mp4", "mime_type": "video/mp4", "size_bytes": 12582912, "sha256": "\#(sha)"}"#)
            #expect(multipart.status == 409, "\(multipart.text)")
            let kept = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "b.png", "mime_type": "image/png", "sha256": "\#(sha)", "allow_duplicate": true}"#)
            #expect(kept.status == 200, "\(kept.text)")
            let second = try #require(kept.json["media_id"] as? String)

            let unknown = Self.hex([1, 2, 3])
            let lookup = try await gateway.request(
                .POST, "/media/checksums", token: token, body: #"{"checksums": ["\#(unknown)", "\#(sha)"]}"#)
            #expect(lookup.status == 200, "\(lookup.text)")
            let matches = try #require(lookup.json["matches"] as? [[String: Any]])
            #expect(matches.map { $0["media_id"] as? String } == [first, second])
            #expect(matches.allSatisfy { $0["sha256"] as? String == sha && $0["multipart"] as? Bool == false })
            #expect(matches.map { $0["status"] as? String } == ["queued", "uploading"])

            let stranger = try await gateway.token(for: "5101")
            let theirs = try await gateway.request(
                .POST, "/media/checksums", token: stranger, body: #"{"checksums": ["\#(sha)"]}"#)
            #expect((theirs.json["matches"] as? [Any])?.isEmpty == true, "only your own items are found")
            let strangerSign = try await gateway.request(
                .POST, "/media/upload/sign", token: stranger,
                body: #"{"filename": "b.png", "mime_type": "image/png", "sha256": "\#(sha)"}"#)
            #expect(strangerSign.status == 200, "another user's copy is no duplicate of yours")

            // A failed item is given another chance rather than counted as there.
            try await gateway.sql("UPDATE media.items SET status = 'failed' WHERE id = '\(first)'")
            let retry = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "c.png", "mime_type": "image/png", "sha256": "\#(sha)"}"#)
            #expect(retry.status == 200, "\(retry.text)")
        }
    }

    @Test("bad checksums and lookups are refused with the field named, and change nothing",
        arguments: [
            ("/media/upload/sign", #"{"filename": "a.png", "mime_type": "image/png", "sha256": "abc"}"#, "sha256"),
            ("/media/upload/sign",
                #"{"filename": "a.png", "mime_type": "image/png", "sha256": "\#(String(repeating: "g", count: 64))"}"#,
                "sha256"),
            ("/media/checksums", #"{"checksums": []}"#, "checksums"),
            ("/media/checksums", #"{"checksums": ["\#(String(repeating: "a", count: 64))", "xyz"]}"#, "checksums[1]"),
            ("/media/checksums",
                #"{"checksums": [\#(Array(repeating: "\"\(String(repeating: "a", count: 64))\"", count: 1001).joined(separator: ","))]}"#,
                "checksums"),
        ])
    func refused(path: String, body: String, field: String) async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "5200")
            let reply = try await gateway.request(.POST, path, token: token, body: body)
            #expect(reply.status == 400 && reply.json["code"] as? String == "invalid_argument", "\(reply.text)")
            #expect((reply.json["details"] as? [String: Any])?["field"] as? String == field, "\(reply.text)")
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 0)
        }
    }

    @Test("bytes changed after hashing never reach the filesystem store: the signed PUT is refused, the intact file taken")
    func refusedByTheFileSystemStore() async throws { try await Self.refusedByTheStore(storage: "filesystem") }

    @Test("bytes changed after hashing never reach S3: the signed PUT gets BadDigest, the intact file is taken",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func refusedByS3() async throws { try await Self.refusedByTheStore(storage: "s3") }

    static func refusedByTheStore(storage: String) async throws {
        let bytes = MediaFlowTests.bytes(200_000, seed: 21)
        var changed = bytes
        changed[changed.count / 2] ^= 0xFF
        try await GatewayHarness.with(extraEnvironment: Self.environment(storage)) { gateway in
            let token = try await gateway.token(for: "5400")
            let (mediaID, url, headers) = try await Self.sign(
                gateway, token: token, declaring: Self.hex(bytes), name: "a.png", type: "image/png")
            if storage == "s3" {
                #expect(headers.contains { $0.0 == "x-amz-checksum-sha256" }, "the checksum is a signed header")
            }
            let refused = try await gateway.request(.PUT, url, headers: headers, bytes: changed)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.text.contains("BadDigest"), "\(refused.text)")
            let early = try await gateway.request(
                .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(early.json["code"] as? String == "failed_precondition", "nothing was stored: \(early.text)")

            // The same URL takes the intact file.
            #expect(try await gateway.request(.PUT, url, headers: headers, bytes: bytes).status == 200)
            let confirm = try await gateway.request(
                .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(confirm.status == 200 && confirm.json["status"] as? String == "queued", "\(confirm.text)")
        }
    }

    @Test("filesystem store: a multipart upload whose joined bytes differ fails at completion with the checksum reason")
    func multipartMismatchOnTheFileSystem() async throws { try await Self.multipartMismatch(storage: "filesystem") }

    @Test("S3: a multipart upload whose joined bytes differ fails in the worker with the checksum reason, again on reprocess",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func multipartMismatchOnS3() async throws { try await Self.multipartMismatch(storage: "s3") }

    static func multipartMismatch(storage: String) async throws {
        let partSize = 5 << 20
        let bytes = MediaFlowTests.bytes(partSize + 300_000, seed: 22)
        var changed = bytes
        changed[partSize + 10] ^= 0x01
        try await GatewayHarness.with(extraEnvironment: Self.environment(storage)) { gateway in
            let token = try await gateway.token(for: "5500")
            let declared = Self.hex(bytes)
            try await ProcessingTests.withWorker(gateway) {
                let start = try await gateway.request(
                    .POST, "/media/upload/multipart", token: token,
                    body: #"{"filename": "clip.mp4", "mime_type": "video/mp4", "size_bytes": \#(bytes.count), "part_size": \#(partSize), "sha256": "\#(declared)"}"#)
                #expect(start.status == 200, "\(start.text)")
                let mediaID = try #require(start.json["media_id"] as? String)
                let urls = try await gateway.request(
                    .POST, "/media/upload/multipart/\(mediaID)/urls", token: token, body: #"{"part_numbers": [1, 2]}"#)
                var parts: [String] = []
                for part in try #require(urls.json["parts"] as? [[String: Any]]) {
                    let number = try #require(part["part_number"] as? Int)
                    let range = ((number - 1) * partSize)..<min(changed.count, number * partSize)
                    let put = try await gateway.request(
                        .PUT, try #require(part["upload_url"] as? String), bytes: Array(changed[range]))
                    #expect(put.status == 200, "\(put.text)")
                    parts.append(#"{"part_number": \#(number), "etag": \#(put.header("ETag") ?? "")}"#)
                }
                let complete = try await gateway.request(
                    .POST, "/media/upload/multipart/\(mediaID)/complete", token: token,
                    body: #"{"parts": [\#(parts.joined(separator: ","))]}"#)
                let reason: String
                if storage == "filesystem" {
                    // The filesystem store hashes the object as it joins the parts: the mismatch is known at once.
                    #expect(complete.status == 400, "\(complete.text)")
                    let details = complete.json["details"] as? [String: Any] ?? [:]
                    #expect(details["reason"] as? String == "checksum_mismatch", "\(complete.text)")
                    #expect(details["declared_sha256"] as? String == declared)
                    #expect(details["sha256"] as? String == Self.hex(changed))
                    let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
                    #expect(item["status"] as? String == "failed")
                    reason = item["error_message"] as? String ?? ""
                    #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs") == 0, "nothing to process")
                    #expect(try await gateway.scalar("SELECT used_bytes::int FROM media.user_storage") == 0)
                    #expect(
                        try await gateway.scalar(
                            "SELECT count(*) FROM media.items WHERE multipart_upload_id IS NOT NULL") == 0)
                    // Never stored, so never processed again; and deleting it gives back nothing it did not take.
                    let reprocess = try await gateway.request(.POST, "/media/\(mediaID)/reprocess", token: token)
                    #expect(reprocess.json["code"] as? String == "failed_precondition", "\(reprocess.text)")
                    #expect((reprocess.json["message"] as? String)?.contains("never stored") == true)
                } else {
                    // S3 knows only a checksum of the parts' checksums: the worker hashes the original it downloads.
                    #expect(complete.status == 200, "\(complete.text)")
                    let status = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID)
                    #expect(status["status"] as? String == "failed")
                    #expect(status["attempts"] as? Int == 1, "a mismatch is not retried")
                    reason = status["error_message"] as? String ?? ""
                    // Reprocessing checks the original again: the wrong bytes fail again instead of being processed.
                    let reprocess = try await gateway.request(.POST, "/media/\(mediaID)/reprocess", token: token)
                    #expect(reprocess.status == 200, "\(reprocess.text)")
                    let again = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID)
                    #expect(again["status"] as? String == "failed", "\(again)")
                    #expect((again["error_message"] as? String)?.hasPrefix("checksum mismatch") == true, "\(again)")
                }
                #expect(reason.hasPrefix("checksum mismatch") && reason.contains(declared), "\(reason)")
                let retry = try await gateway.request(
                    .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
                #expect(retry.json["status"] as? String == "failed", "the item stays failed: \(retry.text)")
                // A failed item is no duplicate: the intact file may be sent again.
                let again = try await gateway.request(
                    .POST, "/media/upload/multipart", token: token,
                    body: #"{"filename": "clip.mp4", "mime_type": "video/mp4", "size_bytes": \#(bytes.count), "sha256": "\#(declared)"}"#)
                #expect(again.status == 200, "\(again.text)")
                let delete = try await gateway.request(.DELETE, "/media/\(mediaID)", token: token)
                #expect(delete.status == 200, "\(delete.text)")
                #expect(try await gateway.scalar("SELECT used_bytes::int FROM media.user_storage") == 0, "no quota drift")
            }
        }
    }

    @Test("the worker checks the stored original: an intact upload to the filesystem store verifies and becomes ready")
    func verifiedOnTheFileSystem() async throws { try await Self.verifiedByTheWorker(storage: "filesystem") }

    @Test("the worker checks the stored original: an intact upload to S3 verifies and becomes ready",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func verifiedOnS3() async throws { try await Self.verifiedByTheWorker(storage: "s3") }

    static func verifiedByTheWorker(storage: String) async throws {
        let photo = try await PhotoTests.rotatedJPEG()
        defer { try? FileManager.default.removeItem(at: photo) }
        let bytes = Array(try Data(contentsOf: photo))
        try await GatewayHarness.with(extraEnvironment: Self.environment(storage)) { gateway in
            let token = try await gateway.token(for: "5300")
            try await ProcessingTests.withWorker(gateway) {
                let good = try await Self.upload(
                    gateway, token: token, bytes: bytes, declaring: Self.hex(bytes), name: "good.jpg", type: "image/jpeg")
                let goodStatus = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: good)
                #expect(goodStatus["status"] as? String == "ready", "\(goodStatus)")
            }
        }
    }
}
