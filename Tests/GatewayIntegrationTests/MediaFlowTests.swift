import AsyncHTTPClient
import Crypto
import Foundation
import GatewayApp
import Logging
import MediaVaultCore
import NIOHTTP1
import ObjectStorage
import StorageService
import Testing

/// Upload → confirm → read → delete against real storage: SeaweedFS (S3, signatures checked) and the filesystem store.
@Suite("Media: uploads, verification, multipart, tags, listing, deletion")
struct MediaFlowTests {
    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    /// Signs, PUTs the bytes to the returned URL and confirms; returns the media id.
    static func upload(
        _ gateway: GatewayHarness, token: String, name: String = "clip.mp4", type: String = "video/mp4",
        bytes: [UInt8], declare: Bool = true
    ) async throws -> String {
        let sizeField = declare ? #", "size_bytes": \#(bytes.count)"# : ""
        let sign = try await gateway.request(
            .POST, "/media/upload/sign", token: token,
            body: #"{"filename": "\#(name)", "mime_type": "\#(type)"\#(sizeField)}"#)
        #expect(sign.status == 200, "\(sign.text)")
        let mediaID = try #require(sign.json["media_id"] as? String)
        let url = try #require(sign.json["upload_url"] as? String)
        let put = try await gateway.request(.PUT, url, headers: [("Content-Type", type)], bytes: bytes)
        #expect(put.status == 200, "PUT answered \(put.status): \(put.text)")
        let confirm = try await gateway.request(
            .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
        #expect(confirm.status == 200, "\(confirm.text)")
        #expect(confirm.json["status"] as? String == "queued")
        return mediaID
    }

    @Test("the original's .env values (no STORAGE_BACKEND) upload through S3",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func originalEnvironmentUsesS3() async throws {
        // The original's .env.example, pointed at the test S3 server. It knows no STORAGE_BACKEND and creates no
        // bucket (MinIO's init did), so the bucket is made beforehand.
        let bucket = "mv-orig-" + UUID().uuidString.prefix(8).lowercased()
        let original = [
            "S3_ENDPOINT": S3TestServer.endpoint, "S3_ACCESS_KEY": S3TestServer.accessKey,
            "S3_SECRET_KEY": S3TestServer.secretKey, "S3_BUCKET": bucket, "S3_USE_SSL": "false",
            "MINIO_ROOT_USER": S3TestServer.accessKey, "MINIO_ROOT_PASSWORD": S3TestServer.secretKey,
        ]
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let storage = StorageConfiguration(reading: ConfigReader(ConfigSource(environment: original)))
        try await Storage.make(
            storage, httpClient: http, publicBaseURL: URL(string: GatewayHarness.apiBaseURL)!,
            signingKey: GatewayHarness.sessionSecret, logger: Logger(label: "bucket-setup")
        ).store.ensureBucket()
        try await http.shutdown()
        try await GatewayHarness.with(extraEnvironment: original) { gateway in
            let token = try await gateway.token(for: "7500")
            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "clip.mp4", "mime_type": "video/mp4", "size_bytes": 10}"#)
            #expect(sign.status == 200)
            let url = try #require(sign.json["upload_url"] as? String)
            #expect(url.contains(S3TestServer.endpoint), "presigned for S3, not the gateway's filesystem store: \(url)")
            let mediaID = try #require(sign.json["media_id"] as? String)
            let put = try await gateway.request(.PUT, url, headers: [("Content-Type", "video/mp4")], bytes: Self.bytes(10))
            #expect(put.status == 200)
            let confirm = try await gateway.request(
                .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(confirm.status == 200)
            // The bytes went to the bucket the original named, not to the filesystem store.
            let configuration = try GatewayConfiguration(source: ConfigSource(environment: gateway.environment))
            let store = try Storage.make(
                configuration.storage, httpClient: gateway.http, publicBaseURL: configuration.apiBaseURL,
                signingKey: configuration.auth.sessionSecret, logger: Logger(label: "check")
            ).store
            let key = try #require(sign.json["s3_key"] as? String)
            #expect(try await store.head(ObjectKey(key))?.size == 10)
        }
    }

    /// What the worker will do once it exists: mark the media ready.
    static func markReady(_ gateway: GatewayHarness, _ mediaID: String) async throws {
        try await gateway.sql("UPDATE media.items SET status = 'ready' WHERE id = '\(mediaID)'")
    }

    @Test("sign → PUT → confirm → get → stream URL returns the same bytes (S3, signatures checked)",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func s3RoundTrip() async throws {
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            let token = try await gateway.token(for: "100")
            let content = Self.bytes(300_000)
            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "Holiday clip ü?.mp4", "mime_type": "video/mp4", "size_bytes": 300000}"#)
            #expect(sign.status == 200)
            let key = try #require(sign.json["s3_key"] as? String)
            #expect(key.hasPrefix("original/") && key.hasSuffix("/Holiday_clip_.mp4"))
            #expect(sign.json["expires_at"] is String)
            let url = try #require(sign.json["upload_url"] as? String)
            #expect(url.contains("X-Amz-Signature="))

            // SeaweedFS verifies the signature: a tampered URL and a different content type are refused.
            let tampered = url.replacingOccurrences(of: "X-Amz-Signature=", with: "X-Amz-Signature=0")
            #expect(try await gateway.request(.PUT, tampered, headers: [("Content-Type", "video/mp4")], bytes: content).status == 403)
            #expect(try await gateway.request(.PUT, url, headers: [("Content-Type", "image/png")], bytes: content).status == 403)

            let mediaID = try #require(sign.json["media_id"] as? String)
            let early = try await gateway.request(.POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(early.status == 400)
            #expect(early.json["code"] as? String == "failed_precondition")

            #expect(try await gateway.request(.PUT, url, headers: [("Content-Type", "video/mp4")], bytes: content).status == 200)
            let confirm = try await gateway.request(
                .POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)", "title": "Summer"}"#)
            #expect(confirm.json["status"] as? String == "queued")
            let again = try await gateway.request(.POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(again.json["status"] as? String == "queued", "confirm is idempotent")
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE media_id = '\(mediaID)'") == 1)
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.outbox WHERE payload->>'media_id' = '\(mediaID)' AND topic = 'media-uploaded'") == 1)

            let queued = try await gateway.request(.GET, "/media/\(mediaID)", token: token)
            #expect(queued.json["title"] as? String == "Summer")
            #expect(queued.json["original_filename"] as? String == "Holiday clip ü?.mp4")
            #expect(queued.json["size_bytes"] as? Int == 300_000)
            #expect(queued.json["stream_url"] == nil, "no stream before processing")

            try await Self.markReady(gateway, mediaID)
            let ready = try await gateway.request(.GET, "/media/\(mediaID)", token: token)
            let stream = try #require(ready.json["stream_url"] as? String)
            let streamed = try await gateway.request(.GET, stream)
            #expect(streamed.status == 200)
            #expect(Array(streamed.body.readableBytesView) == content)

            let download = try await gateway.request(.GET, "/media/\(mediaID)/download", token: token)
            #expect(download.status == 307)
            let file = try await gateway.request(.GET, download.header("Location")!)
            #expect(file.header("Content-Disposition")?.contains("attachment") == true)
            #expect(Array(file.body.readableBytesView) == content)

            let me = try await gateway.request(.GET, "/auth/me", token: token)
            #expect(me.json["storage_used_bytes"] as? Int == 300_000)

            #expect(try await gateway.request(.DELETE, "/media/\(mediaID)", token: token).json["success"] as? Bool == true)
            #expect(try await gateway.request(.GET, stream).status == 404, "the object is gone from the bucket")
            #expect(try await gateway.scalar("SELECT count(*) FROM media.pending_deletions") == 0)
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs") == 0)
            #expect(try await gateway.request(.GET, "/media/\(mediaID)", token: token).status == 404)
            #expect(try await gateway.request(.GET, "/auth/me", token: token).json["storage_used_bytes"] as? Int == 0)
        }
    }

    @Test("a 12 MiB multipart upload with one part retried after listing parts (S3)",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func s3Multipart() async throws {
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            try await Self.multipartFlow(gateway)
        }
    }

    @Test("multipart upload against the filesystem store")
    func fileSystemMultipart() async throws {
        try await GatewayHarness.with { gateway in try await Self.multipartFlow(gateway) }
    }

    static func multipartFlow(_ gateway: GatewayHarness) async throws {
        let token = try await gateway.token(for: "200")
        let content = bytes(12 << 20, seed: 3)
        let start = try await gateway.request(
            .POST, "/media/upload/multipart", token: token,
            body: #"{"filename": "big.mov", "mime_type": "video/quicktime", "size_bytes": \#(content.count), "part_size": \#(5 << 20)}"#)
        #expect(start.status == 200, "\(start.text)")
        #expect(start.json["part_count"] as? Int == 3)
        let mediaID = try #require(start.json["media_id"] as? String)
        let urls = try await gateway.request(
            .POST, "/media/upload/multipart/\(mediaID)/urls", token: token, body: #"{"part_numbers": [1, 2, 3]}"#)
        let parts = try #require(urls.json["parts"] as? [[String: Any]])
        #expect(parts.count == 3)
        func chunk(_ number: Int) -> [UInt8] {
            Array(content[((number - 1) * (5 << 20))..<min(content.count, number * (5 << 20))])
        }
        for part in parts {
            let number = part["part_number"] as! Int
            let reply = try await gateway.request(.PUT, part["upload_url"] as! String, bytes: chunk(number))
            #expect(reply.status == 200)
            #expect(reply.header("ETag") != nil)
        }
        // The connection "dropped": list what arrived, then send part 2 again.
        let listed = try await gateway.request(.GET, "/media/upload/multipart/\(mediaID)/parts", token: token)
        #expect((listed.json["parts"] as? [[String: Any]])?.count == 3)
        #expect(listed.json["part_size"] as? Int == 5 << 20, "a resuming client needs the size the parts were cut at")
        let retryURL = try await gateway.request(
            .POST, "/media/upload/multipart/\(mediaID)/urls", token: token, body: #"{"part_numbers": [2]}"#)
        let retry = ((retryURL.json["parts"] as? [[String: Any]])?.first?["upload_url"] as? String) ?? ""
        #expect(try await gateway.request(.PUT, retry, bytes: chunk(2)).status == 200)
        let final = try await gateway.request(.GET, "/media/upload/multipart/\(mediaID)/parts", token: token)
        let etags = try #require(final.json["parts"] as? [[String: Any]]).map {
            #"{"part_number": \#($0["part_number"] as! Int), "etag": "\#($0["etag"] as! String)"}"#
        }
        let complete = try await gateway.request(
            .POST, "/media/upload/multipart/\(mediaID)/complete", token: token,
            body: #"{"parts": [\#(etags.joined(separator: ","))]}"#)
        #expect(complete.status == 200, "\(complete.text)")
        #expect(complete.json["status"] as? String == "queued")
        try await markReady(gateway, mediaID)
        let stream = try #require(try await gateway.request(.GET, "/media/\(mediaID)", token: token).json["stream_url"] as? String)
        let downloaded = try await gateway.request(.GET, stream)
        #expect(SHA256.hash(data: Data(downloaded.body.readableBytesView)) == SHA256.hash(data: Data(content)))

        // An aborted multipart upload leaves no row behind.
        let other = try await gateway.request(
            .POST, "/media/upload/multipart", token: token,
            body: #"{"filename": "gone.mp4", "mime_type": "video/mp4", "size_bytes": \#(6 << 20)}"#)
        let otherID = try #require(other.json["media_id"] as? String)
        #expect(try await gateway.request(.DELETE, "/media/upload/multipart/\(otherID)", token: token).status == 200)
        #expect(try await gateway.request(.GET, "/media/\(otherID)", token: token).status == 404)
    }

    @Test("filesystem store: upload, confirm, stream with Range, signed URLs checked")
    func fileSystemRoundTrip() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "300")
            let content = Self.bytes(100_000, seed: 9)
            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "song.mp3", "mime_type": "audio/mpeg", "size_bytes": 100000}"#)
            let url = try #require(sign.json["upload_url"] as? String)
            #expect(url.hasPrefix(GatewayHarness.apiBaseURL + "/storage/original/"))
            #expect(try await gateway.request(.PUT, url, headers: [("Content-Type", "audio/wav")], bytes: content).status == 403)
            let tampered = url.replacingOccurrences(of: "expires=", with: "expires=9")
            #expect(try await gateway.request(.PUT, tampered, headers: [("Content-Type", "audio/mpeg")], bytes: content).status == 403)
            #expect(try await gateway.request(.PUT, url, headers: [("Content-Type", "audio/mpeg")], bytes: content).status == 200)
            let mediaID = try #require(sign.json["media_id"] as? String)
            let confirm = try await gateway.request(.POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(confirm.json["status"] as? String == "queued")
            try await Self.markReady(gateway, mediaID)
            let stream = try #require(try await gateway.request(.GET, "/media/\(mediaID)", token: token).json["stream_url"] as? String)
            let whole = try await gateway.request(.GET, stream)
            #expect(Array(whole.body.readableBytesView) == content)
            let range = try await gateway.request(.GET, stream, headers: [("Range", "bytes=1000-1999")])
            #expect(range.status == 206)
            #expect(range.header("Content-Range") == "bytes 1000-1999/100000")
            #expect(Array(range.body.readableBytesView) == Array(content[1000...1999]))
            let unsatisfiable = try await gateway.request(.GET, stream, headers: [("Range", "bytes=200000-")])
            #expect(unsatisfiable.status == 416)
            #expect(try await gateway.request(.GET, stream.replacingOccurrences(of: "expires=", with: "expires=9")).status == 403)
            #expect(try await gateway.request(.DELETE, "/media/\(mediaID)", token: token).status == 200)
            #expect(try await gateway.request(.GET, stream).status == 404)
        }
    }

    @Test("confirm refuses an oversized object and deletes it")
    func oversizedUpload() async throws {
        try await GatewayHarness.with(extraEnvironment: ["MAX_UPLOAD_BYTES": "1KiB"]) { gateway in
            let token = try await gateway.token(for: "400")
            let declared = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "a.jpg", "mime_type": "image/jpeg", "size_bytes": 4096}"#)
            #expect(declared.status == 413)
            #expect(declared.json["code"] as? String == "resource_exhausted")

            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token, body: #"{"filename": "a.jpg", "mime_type": "image/jpeg"}"#)
            let mediaID = try #require(sign.json["media_id"] as? String)
            let url = try #require(sign.json["upload_url"] as? String)
            // The filesystem store's own cap is the instance-wide default; the gateway checks the limit at confirm.
            _ = try await gateway.request(.PUT, url, headers: [("Content-Type", "image/jpeg")], bytes: Self.bytes(4096))
            let confirm = try await gateway.request(.POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(confirm.status == 413)
            #expect(confirm.json["code"] as? String == "resource_exhausted")
            let again = try await gateway.request(.POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(again.json["code"] as? String == "failed_precondition", "the oversized object was deleted")
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs") == 0)
        }
    }

    @Test("quotas: checked at sign and confirm, shown in /auth/me")
    func quotas() async throws {
        try await GatewayHarness.with(extraEnvironment: ["DEFAULT_QUOTA_BYTES": "150000"]) { gateway in
            let token = try await gateway.token(for: "500")
            _ = try await Self.upload(gateway, token: token, bytes: Self.bytes(100_000))
            let me = try await gateway.request(.GET, "/auth/me", token: token)
            #expect(me.json["storage_used_bytes"] as? Int == 100_000)
            #expect(me.json["storage_quota_bytes"] as? Int == 150_000)
            let refused = try await gateway.request(
                .POST, "/media/upload/sign", token: token,
                body: #"{"filename": "b.mp4", "mime_type": "video/mp4", "size_bytes": 60000}"#)
            #expect(refused.status == 413)
            #expect(refused.json["code"] as? String == "resource_exhausted")
            let details = refused.json["details"] as? [String: Any]
            #expect(details?["available_bytes"] as? Int == 50_000)
            // Undeclared size: the real size is checked at confirm, and the object removed when it does not fit.
            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token, body: #"{"filename": "c.mp4", "mime_type": "video/mp4"}"#)
            let mediaID = try #require(sign.json["media_id"] as? String)
            _ = try await gateway.request(
                .PUT, sign.json["upload_url"] as! String, headers: [("Content-Type", "video/mp4")], bytes: Self.bytes(60_000))
            let confirm = try await gateway.request(.POST, "/media/upload/confirm", token: token, body: #"{"media_id": "\#(mediaID)"}"#)
            #expect(confirm.status == 413)
            // An admin raises this user's quota in the database.
            try await gateway.sql("UPDATE media.user_storage SET quota_bytes = 1000000")
            #expect(try await gateway.request(.GET, "/auth/me", token: token).json["storage_quota_bytes"] as? Int == 1_000_000)
        }
    }

    @Test("tags: normalised add and remove, filtering, validation")
    func tags() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "600")
            let mediaID = try await Self.upload(gateway, token: token, bytes: Self.bytes(1000))
            let added = try await gateway.request(
                .PATCH, "/media/\(mediaID)/tags", token: token,
                body: #"{"add_tags": ["  Beach ", "summer  2024", "beach"], "remove_tags": []}"#)
            #expect(added.status == 200)
            #expect(added.json["tags"] as? [String] == ["beach", "summer 2024"])
            let removed = try await gateway.request(
                .PATCH, "/media/\(mediaID)/tags", token: token, body: #"{"remove_tags": ["BEACH"], "add_tags": ["family"]}"#)
            #expect(removed.json["tags"] as? [String] == ["family", "summer 2024"])
            let invalid = try await gateway.request(
                .PATCH, "/media/\(mediaID)/tags", token: token, body: #"{"add_tags": ["<script>"]}"#)
            #expect(invalid.status == 400)
            let tooLong = try await gateway.request(
                .PATCH, "/media/\(mediaID)/tags", token: token, body: #"{"add_tags": ["\#(String(repeating: "x", count: 51))"]}"#)
            #expect(tooLong.status == 400)
            #expect(try await gateway.request(.GET, "/media/\(mediaID)", token: token).json["tags"] as? [String]
                == ["family", "summer 2024"], "refused requests change nothing")
        }
    }

    @Test("listing: pagination, status, tags, search and sort; totals match")
    func listing() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "700")
            var ids: [String] = []
            for index in 0..<5 {
                let id = try await Self.upload(gateway, token: token, name: "file\(index).mp4", bytes: Self.bytes(100 + index))
                ids.append(id)
            }
            _ = try await gateway.request(.PATCH, "/media/\(ids[1])/tags", token: token, body: #"{"add_tags": ["cat", "pet"]}"#)
            _ = try await gateway.request(.PATCH, "/media/\(ids[3])/tags", token: token, body: #"{"add_tags": ["cat"]}"#)
            try await Self.markReady(gateway, ids[4])
            _ = try await gateway.request(
                .POST, "/media/upload/sign", token: token, body: #"{"filename": "pending.mp4", "mime_type": "video/mp4"}"#)

            let page1 = try await gateway.request(.GET, "/media?page=1&page_size=2", token: token)
            #expect(page1.json["total_count"] as? Int == 6)
            #expect(page1.json["page"] as? Int == 1)
            #expect(page1.json["page_size"] as? Int == 2)
            let items = try #require(page1.json["items"] as? [[String: Any]])
            #expect(items.count == 2)
            #expect(items[0]["original_filename"] as? String == "pending.mp4", "newest first")
            for key in ["id", "title", "original_filename", "mime_type", "size_bytes", "duration_seconds", "status", "tags", "created_at"] {
                #expect(items[0].keys.contains(key), "item lacks \(key)")
            }
            let page3 = try await gateway.request(.GET, "/media?page=3&page_size=2", token: token)
            #expect((page3.json["items"] as? [[String: Any]])?.count == 2)

            let cats = try await gateway.request(.GET, "/media?tags=cat", token: token)
            #expect(cats.json["total_count"] as? Int == 2)
            let catPets = try await gateway.request(.GET, "/media?tags=cat,pet", token: token)
            #expect(catPets.json["total_count"] as? Int == 1)
            #expect((catPets.json["items"] as? [[String: Any]])?.first?["tags"] as? [String] == ["cat", "pet"])
            #expect(try await gateway.request(.GET, "/media?status=ready", token: token).json["total_count"] as? Int == 1)
            #expect(try await gateway.request(.GET, "/media?status=uploading", token: token).json["total_count"] as? Int == 1)
            #expect(try await gateway.request(.GET, "/media?q=FILE3", token: token).json["total_count"] as? Int == 1)
            #expect(try await gateway.request(.GET, "/media?q=%25", token: token).json["total_count"] as? Int == 0, "LIKE wildcards are literal")
            let bySize = try await gateway.request(.GET, "/media?sort=size_desc&status=queued", token: token)
            #expect((bySize.json["items"] as? [[String: Any]])?.first?["size_bytes"] as? Int == 103)

            // The original's leniency, which its frontend relies on: out-of-range paging falls back to the defaults.
            for (query, page, size) in [("page=0", 1, 20), ("page=-3&page_size=0", 1, 20), ("page_size=101", 1, 20),
                ("page=2&page_size=abc", 2, 20)] {
                let reply = try await gateway.request(.GET, "/media?\(query)", token: token)
                #expect(reply.status == 200, "\(query) answered \(reply.status)")
                #expect(reply.json["page"] as? Int == page && reply.json["page_size"] as? Int == size, "\(query)")
            }
            let empty = try await gateway.request(
                .POST, "/media/upload/confirm", token: token, body: #"{"media_id": ""}"#)
            #expect(empty.status == 400 && empty.json["message"] as? String == "media_id is required")
            for bad in ["status=done", "sort=random", "tags=%3Cx%3E"] {
                let reply = try await gateway.request(.GET, "/media?\(bad)", token: token)
                #expect(reply.status == 400, "\(bad) answered \(reply.status)")
                #expect(reply.json["code"] as? String == "invalid_argument")
            }
        }
    }

    @Test("another user's media is invisible: get, tag, confirm, download, delete all answer not_found")
    func ownership() async throws {
        try await GatewayHarness.with { gateway in
            let alice = try await gateway.token(for: "801")
            let bob = try await gateway.token(for: "802")
            let mediaID = try await Self.upload(gateway, token: alice, bytes: Self.bytes(500))
            let attempts: [(HTTPMethodName, String, String?)] = [
                (.get, "/media/\(mediaID)", nil), (.get, "/media/\(mediaID)/download", nil),
                (.patch, "/media/\(mediaID)/tags", #"{"add_tags": ["mine"]}"#),
                (.post, "/media/upload/confirm", #"{"media_id": "\#(mediaID)"}"#),
                (.delete, "/media/\(mediaID)", nil), (.get, "/processing/\(mediaID)/status", nil),
            ]
            for (method, path, body) in attempts {
                let reply = try await gateway.request(method.http, path, token: bob, body: body)
                #expect(reply.status == 404, "\(method) \(path) answered \(reply.status)")
                #expect(reply.json["code"] as? String == "not_found")
            }
            #expect(try await gateway.request(.GET, "/media", token: bob).json["total_count"] as? Int == 0)
            let own = try await gateway.request(.GET, "/media/\(mediaID)", token: alice)
            #expect(own.status == 200)
            #expect(own.json["tags"] as? [String] == [])
            #expect(try await gateway.request(.GET, "/processing/\(mediaID)/status", token: alice).json["status"] as? String == "queued")
            #expect(try await gateway.request(.GET, "/media/\(mediaID)").status == 401)
        }
    }

    @Test("uploads never confirmed are removed by the janitor, object and row")
    func abandonedUploads() async throws {
        try await GatewayHarness.with(extraEnvironment: ["JANITOR_INTERVAL_SECONDS": "1", "ABANDONED_UPLOAD_HOURS": "1"]) { gateway in
            let token = try await gateway.token(for: "900")
            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token, body: #"{"filename": "x.png", "mime_type": "image/png"}"#)
            let mediaID = try #require(sign.json["media_id"] as? String)
            _ = try await gateway.request(
                .PUT, sign.json["upload_url"] as! String, headers: [("Content-Type", "image/png")], bytes: Self.bytes(10))
            try await gateway.sql("UPDATE media.items SET created_at = now() - interval '2 hours' WHERE id = '\(mediaID)'")
            var gone = false
            for _ in 0..<40 where !gone {
                try await Task.sleep(for: .milliseconds(250))
                gone = try await gateway.scalar("SELECT count(*) FROM media.items") == 0
            }
            #expect(gone)
            let storage = try #require(gateway.environment["STORAGE_DIR"])
            let leftovers = FileManager.default.enumerator(atPath: storage + "/objects")?.allObjects
                .compactMap { $0 as? String }.filter { $0.hasSuffix("x.png") } ?? []
            #expect(leftovers.isEmpty, "object file removed: \(leftovers)")
            #expect(try await gateway.scalar("SELECT item_count FROM media.user_storage") == 0)
        }
    }
}

enum HTTPMethodName: String, CustomStringConvertible {
    case get = "GET", post = "POST", patch = "PATCH", delete = "DELETE"
    var description: String { rawValue }
    var http: NIOHTTP1.HTTPMethod {
        switch self {
        case .get: return .GET
        case .post: return .POST
        case .patch: return .PATCH
        case .delete: return .DELETE
        }
    }
}
