import Crypto
import Foundation
import Testing

/// Declared SHA-256s: duplicates refused at sign time, found in bulk, and checked against the stored original.
@Suite("Content checksums: duplicates, lookups, verification by the worker")
struct ChecksumTests {
    static func hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
    }

    /// Signs with `sha256`, PUTs `bytes` (which may differ from what was hashed) and confirms; returns the media id.
    static func upload(
        _ gateway: GatewayHarness, token: String, bytes: [UInt8], declaring sha256: String, name: String = "a.png",
        type: String = "image/png"
    ) async throws -> String {
        let sign = try await gateway.request(
            .POST, "/media/upload/sign", token: token,
            body: #"{"filename": "\#(name)", "mime_type": "\#(type)", "sha256": "\#(sha256)"}"#)
        #expect(sign.status == 200, "\(sign.text)")
        let mediaID = try #require(sign.json["media_id"] as? String)
        let put = try await gateway.request(
            .PUT, try #require(sign.json["upload_url"] as? String), headers: [("Content-Type", type)], bytes: bytes)
        #expect(put.status == 200)
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

    @Test("the worker checks the stored original: a match becomes ready, bytes changed after hashing fail the item")
    func verification() async throws {
        let photo = try await PhotoTests.rotatedJPEG()
        defer { try? FileManager.default.removeItem(at: photo) }
        let bytes = Array(try Data(contentsOf: photo))
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "5300")
            try await ProcessingTests.withWorker(gateway) {
                // Hashed, then one byte changed before (or on) the way to storage.
                var changed = bytes
                changed[changed.count / 2] ^= 0xFF
                let bad = try await Self.upload(
                    gateway, token: token, bytes: changed, declaring: Self.hex(bytes), name: "bad.jpg",
                    type: "image/jpeg")
                let badStatus = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: bad)
                #expect(badStatus["status"] as? String == "failed")
                #expect(badStatus["attempts"] as? Int == 1, "a mismatch is not retried")
                let reason = badStatus["error_message"] as? String ?? ""
                #expect(reason.hasPrefix("checksum mismatch") && reason.contains(Self.hex(bytes)), "\(badStatus)")

                // The same file sent intact afterwards is no duplicate of the failed item, and becomes ready.
                let good = try await Self.upload(
                    gateway, token: token, bytes: bytes, declaring: Self.hex(bytes), name: "good.jpg", type: "image/jpeg")
                let goodStatus = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: good)
                #expect(goodStatus["status"] as? String == "ready", "\(goodStatus)")
                let item = try await gateway.request(.GET, "/media/\(bad)", token: token).json
                #expect(item["status"] as? String == "failed")
            }
        }
    }
}
