import Foundation
import Testing

/// Collections and sharing over the real gateway, PostgreSQL and storage: the original's flow, the access matrix,
/// share links (expiry, password, downloads, revocation), the public page and its escaping.
@Suite("Collections: the original's API, access rules, share links and the share page")
struct CollectionFlowTests {
    typealias Reply = GatewayHarness.Reply

    /// Uploads `count` small confirmed items for the user, marked ready with a processed file where given.
    static func media(
        _ gateway: GatewayHarness, token: String, count: Int, type: String = "video/mp4", ready: Bool = true
    ) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let name = type.hasPrefix("image/") ? "photo-\(index).png" : "clip-\(index).mp4"
            let id = try await MediaFlowTests.upload(
                gateway, token: token, name: name, type: type, bytes: MediaFlowTests.bytes(2000 + index, seed: UInt8(index)))
            if ready { try await MediaFlowTests.markReady(gateway, id) }
            ids.append(id)
        }
        return ids
    }

    static func create(_ gateway: GatewayHarness, token: String, title: String = "Trip", description: String? = nil)
        async throws -> [String: Any]
    {
        var fields = [#""title": \#(json(title))"#]
        if let description { fields.append(#""description": \#(json(description))"#) }
        let reply = try await gateway.request(.POST, "/collection", token: token, body: "{" + fields.joined(separator: ", ") + "}")
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json
    }

    static func json(_ text: String) -> String {
        String(data: try! JSONSerialization.data(withJSONObject: [text]), encoding: .utf8)!.dropFirst().dropLast().description
    }

    static func add(_ gateway: GatewayHarness, token: String, collection: String, media: String) async throws -> Reply {
        try await gateway.request(.POST, "/collection/\(collection)/add", token: token, body: #"{"media_id": "\#(media)"}"#)
    }

    static func link(_ gateway: GatewayHarness, token: String, collection: String, body: String = "{}") async throws
        -> [String: Any]
    {
        let reply = try await gateway.request(.POST, "/collection/\(collection)/links", token: token, body: body)
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json
    }

    /// The page path of a link URL (`http://api.test/s/<token>` → `/s/<token>`).
    static func path(_ url: Any?) -> String {
        (url as? String ?? "").replacingOccurrences(of: GatewayHarness.apiBaseURL, with: "")
    }

    @Test("the original's flow: create → add → share → get with token → regenerate → old token refused → delete (S3)",
        .enabled(if: S3TestServer.isReachable, "the S3 test server (SeaweedFS) is not running"))
    func compatibilityFlowS3() async throws {
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            try await Self.compatibilityFlow(gateway)
        }
    }

    @Test("the original's flow against the filesystem store")
    func compatibilityFlowFileSystem() async throws {
        try await GatewayHarness.with { gateway in try await Self.compatibilityFlow(gateway) }
    }

    static func compatibilityFlow(_ gateway: GatewayHarness) async throws {
        let owner = try await gateway.token(for: "500")
        let media = try await Self.media(gateway, token: owner, count: 2)

        let created = try await Self.create(gateway, token: owner, title: "  Summer 2026 ")
        let id = try #require(created["id"] as? String)
        #expect(created["title"] as? String == "Summer 2026")
        #expect(created["description"] as? String == "")
        #expect(created["is_public"] as? Bool == false)
        let firstToken = try #require(created["share_token"] as? String)
        #expect(firstToken.count >= 43, "at least 256 bits, base64url")
        #expect(created["created_at"] as? String != nil)

        for mediaID in media {
            let added = try await Self.add(gateway, token: owner, collection: id, media: mediaID)
            #expect(added.status == 200)
            #expect(added.json["success"] as? Bool == true)
        }
        #expect(try await Self.add(gateway, token: owner, collection: id, media: media[0]).status == 200, "adding twice is harmless")
        #expect(try await gateway.scalar("SELECT count(*) FROM collection.items") == 2)

        let list = try await gateway.request(.GET, "/collection", token: owner)
        let collections = try #require(list.json["collections"] as? [[String: Any]])
        #expect(collections.count == 1)
        #expect(collections.first?["item_count"] as? Int == 2)
        #expect(collections.first?["share_token"] as? String == firstToken)

        let share = try await gateway.request(.PUT, "/collection/\(id)/share", token: owner, body: #"{"is_public": false}"#)
        #expect(share.status == 200)
        #expect(share.json["is_public"] as? Bool == false)
        #expect(share.json["share_token"] as? String == firstToken)
        #expect(share.json["share_url"] as? String == "/collection/\(id)?token=\(firstToken)")
        #expect(share.json["page_url"] as? String == "\(GatewayHarness.apiBaseURL)/s/\(firstToken)")

        // Anonymous viewer with the token: items with stream URLs, newest added first, no owner fields.
        let viewed = try await gateway.request(.GET, "/collection/\(id)?token=\(firstToken)")
        #expect(viewed.status == 200, "\(viewed.text)")
        #expect(viewed.json["is_owner"] as? Bool == false)
        #expect(viewed.json["item_count"] as? Int == 2)
        #expect(viewed.json["share_token"] == nil)
        let items = try #require(viewed.json["items"] as? [[String: Any]])
        #expect(items.map { $0["id"] as? String } == [media[1], media[0]])
        #expect(items.allSatisfy { $0["stream_url"] is String && $0["added_at"] is String && $0["tags"] == nil })
        let streamed = try await gateway.request(.GET, items[0]["stream_url"] as! String)
        #expect(streamed.status == 200)
        #expect(streamed.body.readableBytes == 2001)

        let regenerated = try await gateway.request(
            .PUT, "/collection/\(id)/share", token: owner, body: #"{"regenerate_token": true}"#)
        let secondToken = try #require(regenerated.json["share_token"] as? String)
        #expect(secondToken != firstToken)
        let refused = try await gateway.request(.GET, "/collection/\(id)?token=\(firstToken)")
        #expect(refused.status == 404)
        #expect(refused.json["code"] as? String == "not_found")
        #expect(try await gateway.request(.GET, "/s/\(firstToken)").status == 404, "the old token is dead everywhere")
        #expect(try await gateway.request(.GET, "/collection/\(id)?token=\(secondToken)").status == 200)

        let renamed = try await gateway.request(
            .PATCH, "/collection/\(id)", token: owner, body: #"{"description": "Beach days"}"#)
        #expect(renamed.json["title"] as? String == "Summer 2026")
        #expect(renamed.json["description"] as? String == "Beach days")

        let removed = try await gateway.request(.DELETE, "/collection/\(id)/media/\(media[0])", token: owner)
        #expect(removed.json["success"] as? Bool == true)
        #expect(try await gateway.request(.DELETE, "/collection/\(id)/media/\(media[0])", token: owner).status == 404)

        #expect(try await gateway.request(.DELETE, "/collection/\(id)", token: owner).json["success"] as? Bool == true)
        #expect(try await gateway.request(.GET, "/collection/\(id)", token: owner).status == 404)
        #expect(try await gateway.scalar("SELECT count(*) FROM collection.items") == 0)
        #expect(try await gateway.scalar("SELECT count(*) FROM media.items") == 2, "media stays in the library")
    }

    @Test("who sees GET /collection/:id: owner, other user, anonymous × private, public, token, wrong token")
    func accessMatrix() async throws {
        try await GatewayHarness.with { gateway in
            let owner = try await gateway.token(for: "510")
            let other = try await gateway.token(for: "511")
            let media = try await Self.media(gateway, token: owner, count: 1)
            let collection = try await Self.create(gateway, token: owner)
            let id = collection["id"] as! String
            let token = collection["share_token"] as! String
            _ = try await Self.add(gateway, token: owner, collection: id, media: media[0])

            // An upload not yet confirmed is the owner's business only.
            let signed = try await gateway.request(
                .POST, "/media/upload/sign", token: owner, body: #"{"filename": "later.mp4", "mime_type": "video/mp4"}"#)
            let pending = try #require(signed.json["media_id"] as? String)
            #expect(try await Self.add(gateway, token: owner, collection: id, media: pending).status == 200)
            #expect(try await gateway.request(.GET, "/collection/\(id)", token: owner).json["item_count"] as? Int == 2)
            let viewed = try await gateway.request(.GET, "/collection/\(id)?token=\(token)")
            #expect((viewed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [media[0]])

            func status(_ viewer: String?, query: String = "") async throws -> Int {
                try await gateway.request(.GET, "/collection/\(id)\(query)", token: viewer).status
            }
            let wrong = "?token=" + String(token.reversed())
            // Private.
            #expect(try await status(owner) == 200)
            #expect(try await status(other) == 404)
            #expect(try await status(nil) == 404)
            #expect(try await status(other, query: "?token=\(token)") == 200)
            #expect(try await status(nil, query: "?token=\(token)") == 200)
            #expect(try await status(nil, query: wrong) == 404)
            #expect(try await status(nil, query: "?token=") == 404)
            // Public.
            _ = try await gateway.request(.PUT, "/collection/\(id)/share", token: owner, body: #"{"is_public": true}"#)
            #expect(try await status(other) == 200)
            #expect(try await status(nil) == 200)
            let asOther = try await gateway.request(.GET, "/collection/\(id)", token: other)
            #expect(asOther.json["is_owner"] as? Bool == false)
            #expect(asOther.json["is_public"] as? Bool == true)
            let asOwner = try await gateway.request(.GET, "/collection/\(id)", token: owner)
            #expect(asOwner.json["is_owner"] as? Bool == true)
            #expect(asOwner.json["share_token"] as? String == token)

            // Only the owner changes anything; for others the collection does not exist.
            let attempts: [(String, String, String?)] = [
                ("PATCH", "/collection/\(id)", #"{"title": "mine"}"#),
                ("DELETE", "/collection/\(id)", nil),
                ("POST", "/collection/\(id)/add", #"{"media_id": "\#(media[0])"}"#),
                ("DELETE", "/collection/\(id)/media/\(media[0])", nil),
                ("PUT", "/collection/\(id)/share", #"{"regenerate_token": true}"#),
                ("PUT", "/collection/\(id)/order", #"{"media_ids": []}"#),
                ("POST", "/collection/\(id)/links", "{}"),
                ("GET", "/collection/\(id)/links", nil),
            ]
            for (method, path, body) in attempts {
                let reply = try await gateway.request(.init(rawValue: method), path, token: other, body: body)
                #expect(reply.status == 404, "\(method) \(path) by another user answered \(reply.status)")
                let anonymous = try await gateway.request(.init(rawValue: method), path, body: body)
                #expect(anonymous.status == 401, "\(method) \(path) anonymously answered \(anonymous.status)")
            }
            #expect(try await gateway.scalar("SELECT count(*) FROM collection.share_links") == 0)
            #expect(try await gateway.text("SELECT share_token FROM collection.collections") == token)
            #expect((try await gateway.request(.GET, "/collection", token: other).json["collections"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("adding checks ownership and input; deleting media removes it from every collection and clears the cover")
    func itemsOrderCoverAndCascade() async throws {
        try await GatewayHarness.with { gateway in
            let owner = try await gateway.token(for: "520")
            let other = try await gateway.token(for: "521")
            let mine = try await Self.media(gateway, token: owner, count: 3)
            let theirs = try await Self.media(gateway, token: other, count: 1)
            let first = try await Self.create(gateway, token: owner, title: "First")["id"] as! String
            let second = try await Self.create(gateway, token: owner, title: "Second")["id"] as! String

            let foreign = try await Self.add(gateway, token: owner, collection: first, media: theirs[0])
            #expect(foreign.status == 404, "another user's media cannot be added")
            #expect(foreign.json["code"] as? String == "not_found")
            #expect(try await Self.add(gateway, token: owner, collection: first, media: "not-a-uuid").status == 404)
            let missing = try await gateway.request(.POST, "/collection/\(first)/add", token: owner, body: #"{"mediaid": "x"}"#)
            #expect(missing.status == 400)
            #expect(missing.json["message"] as? String == "field `media_id` is required")
            #expect(try await gateway.request(.POST, "/collection", token: owner, body: #"{"title": "   "}"#).status == 400)
            #expect(try await gateway.scalar("SELECT count(*) FROM collection.collections") == 2, "bad input changed nothing")

            for id in mine { _ = try await Self.add(gateway, token: owner, collection: first, media: id) }
            _ = try await Self.add(gateway, token: owner, collection: second, media: mine[0])

            // Manual order: listed items first; the rest follow newest-added first.
            let order = try await gateway.request(
                .PUT, "/collection/\(first)/order", token: owner, body: #"{"media_ids": ["\#(mine[0])", "\#(mine[1])"]}"#)
            #expect(order.status == 200, "\(order.text)")
            var items = try await gateway.request(.GET, "/collection/\(first)", token: owner).json["items"] as! [[String: Any]]
            #expect(items.map { $0["id"] as! String } == [mine[0], mine[1], mine[2]])
            #expect(items.map { $0["position"] as? Int } == [1, 2, nil])
            let badOrder = try await gateway.request(
                .PUT, "/collection/\(first)/order", token: owner, body: #"{"media_ids": ["\#(theirs[0])"]}"#)
            #expect(badOrder.status == 400)
            #expect((badOrder.json["details"] as? [String: Any])?["unknown_media_ids"] as? [String] == [theirs[0]])

            // The cover must be an item of the collection.
            let cover = try await gateway.request(
                .PATCH, "/collection/\(first)", token: owner, body: #"{"cover_media_id": "\#(mine[0])"}"#)
            #expect(cover.json["cover_media_id"] as? String == mine[0])
            let badCover = try await gateway.request(
                .PATCH, "/collection/\(second)", token: owner, body: #"{"cover_media_id": "\#(mine[2])"}"#)
            #expect(badCover.status == 400, "\(badCover.text)")

            // Deleting media takes it out of both collections and clears the cover.
            #expect(try await gateway.request(.DELETE, "/media/\(mine[0])", token: owner).status == 200)
            items = try await gateway.request(.GET, "/collection/\(first)", token: owner).json["items"] as! [[String: Any]]
            #expect(items.map { $0["id"] as! String } == [mine[1], mine[2]])
            let afterDelete = try await gateway.request(.GET, "/collection/\(first)", token: owner)
            #expect(afterDelete.json["cover_media_id"] is NSNull)
            #expect(try await gateway.request(.GET, "/collection/\(second)", token: owner).json["item_count"] as? Int == 0)

            let cleared = try await gateway.request(.PATCH, "/collection/\(first)", token: owner, body: #"{"cover_media_id": null}"#)
            #expect(cleared.status == 200)
        }
    }

    @Test("share links: default expiry, never, expired, revoked, downloads, view counter and the JSON API")
    func shareLinks() async throws {
        try await GatewayHarness.with(extraEnvironment: ["SHARE_LINK_DEFAULT_EXPIRY_DAYS": "7"]) { gateway in
            let owner = try await gateway.token(for: "530")
            let media = try await Self.media(gateway, token: owner, count: 2)
            let id = try await Self.create(gateway, token: owner)["id"] as! String
            for mediaID in media { _ = try await Self.add(gateway, token: owner, collection: id, media: mediaID) }

            let standard = try await Self.link(gateway, token: owner, collection: id, body: #"{"label": "family"}"#)
            let expires = try #require(standard["expires_at"] as? String)
            let expiry = try #require(ISO8601DateFormatter.withFraction.date(from: expires))
            #expect(abs(expiry.timeIntervalSinceNow - 7 * 86400) < 120, "new links default to the configured expiry")
            #expect(standard["state"] as? String == "active")
            #expect(standard["allow_download"] as? Bool == false)
            #expect(standard["has_password"] as? Bool == false)
            let never = try await Self.link(
                gateway, token: owner, collection: id, body: #"{"never_expires": true, "allow_download": true}"#)
            #expect(never["expires_at"] is NSNull)
            let both = try await gateway.request(
                .POST, "/collection/\(id)/links", token: owner, body: #"{"never_expires": true, "expires_in_days": 3}"#)
            #expect(both.status == 400)
            let past = try await gateway.request(
                .POST, "/collection/\(id)/links", token: owner, body: #"{"expires_at": "2020-01-01T00:00:00.000Z"}"#)
            #expect(past.status == 400)

            // The JSON API: viewer URLs minted per request; downloads only where allowed.
            let standardPath = "/api/share/" + (standard["token"] as! String)
            let shared = try await gateway.request(.GET, standardPath)
            #expect(shared.status == 200, "\(shared.text)")
            let items = try #require(shared.json["items"] as? [[String: Any]])
            #expect(items.count == 2)
            #expect(items.allSatisfy { $0["stream_url"] is String && $0["original_url"] is String && $0["download_url"] == nil })
            #expect(shared.json["allow_download"] as? Bool == false)
            let secondPage = try await gateway.request(.GET, standardPath + "?page=2&page_size=1")
            #expect(secondPage.json["item_count"] as? Int == 2)
            #expect(secondPage.json["page"] as? Int == 2)
            #expect((secondPage.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [items[1]["id"] as? String])
            #expect(try await gateway.request(.GET, standardPath + "?page_size=0").status == 400)
            let withDownloads = try await gateway.request(.GET, "/api/share/" + (never["token"] as! String))
            let downloadURL = try #require((withDownloads.json["items"] as? [[String: Any]])?.first?["download_url"] as? String)
            let file = try await gateway.request(.GET, downloadURL)
            #expect(file.status == 200)
            #expect(file.header("Content-Disposition")?.contains("attachment") == true)

            // Item routes behind the page check the link each time.
            let page = Self.path(standard["url"])
            let original = try await gateway.request(.GET, page + "/items/\(media[0])/original")
            #expect(original.status == 307)
            #expect(try await gateway.request(.GET, original.header("Location")!).status == 200)
            let refusedDownload = try await gateway.request(.GET, page + "/items/\(media[0])/download")
            #expect(refusedDownload.status == 403)
            #expect(try await gateway.request(.GET, Self.path(never["url"]) + "/items/\(media[0])/download").status == 307)
            let foreignItem = try await gateway.request(.GET, page + "/items/\(UUID().uuidString.lowercased())/original")
            #expect(foreignItem.status == 404)

            let formOnOpenLink = try await gateway.request(
                .POST, Self.path(never["url"]), headers: [("Content-Type", "application/x-www-form-urlencoded")],
                bytes: Array("password=x".utf8))
            #expect(formOnOpenLink.status == 303, "a link without a password just opens")

            // Views are counted on the page and the JSON (three so far: two JSON pages, one HTML page).
            #expect(try await gateway.request(.GET, page).status == 200)
            let listed = try await gateway.request(.GET, "/collection/\(id)/links", token: owner)
            let links = try #require(listed.json["links"] as? [[String: Any]])
            #expect(links.count == 2)
            #expect(links.first { $0["id"] as? String == standard["id"] as? String }?["view_count"] as? Int == 3)

            // Expired: a clear answer on the page, the JSON and the media routes.
            try await gateway.sql(
                "UPDATE collection.share_links SET expires_at = now() - interval '1 minute' WHERE id = '\(standard["id"] as! String)'")
            let expiredPage = try await gateway.request(.GET, page)
            #expect(expiredPage.status == 410)
            #expect(expiredPage.text.contains("Link expired"))
            let expiredJSON = try await gateway.request(.GET, standardPath)
            #expect(expiredJSON.status == 410)
            #expect((expiredJSON.json["details"] as? [String: Any])?["reason"] as? String == "expired")
            #expect(try await gateway.request(.GET, page + "/items/\(media[0])/original").status == 410)

            // The owner extends an expired link: the same URL opens again.
            let standardLinkPath = "/collection/\(id)/links/\(standard["id"] as! String)"
            let extended = try await gateway.request(.PATCH, standardLinkPath, token: owner, body: #"{"expires_in_days": 1}"#)
            #expect(extended.json["state"] as? String == "active")
            #expect(try await gateway.request(.GET, page).status == 200)
            try await gateway.sql(
                "UPDATE collection.share_links SET expires_at = now() - interval '1 minute' WHERE id = '\(standard["id"] as! String)'")

            // Revoked: at once, everywhere.
            let neverPath = Self.path(never["url"])
            let revoke = try await gateway.request(.DELETE, "/collection/\(id)/links/\(never["id"] as! String)", token: owner)
            #expect(revoke.json["success"] as? Bool == true)
            let revokedPage = try await gateway.request(.GET, neverPath)
            #expect(revokedPage.status == 410)
            #expect(revokedPage.text.contains("turned off"))
            #expect(try await gateway.request(.GET, neverPath + "/items/\(media[0])/download").status == 410)
            let revokedChange = try await gateway.request(
                .PATCH, "/collection/\(id)/links/\(never["id"] as! String)", token: owner, body: #"{"never_expires": true}"#)
            #expect(revokedChange.status == 400, "a revoked link stays revoked")
            #expect(revokedChange.json["code"] as? String == "failed_precondition")
            let relisted = try await gateway.request(.GET, "/collection/\(id)/links", token: owner).json["links"] as! [[String: Any]]
            #expect(Set(relisted.map { $0["state"] as! String }) == ["expired", "revoked"])
            #expect(try await gateway.request(.GET, "/s/unknown-token").status == 404)
            let formWithoutPassword = try await gateway.request(
                .POST, Self.path(links.first!["url"]), headers: [("Content-Type", "application/x-www-form-urlencoded")],
                bytes: Array("password=x".utf8))
            #expect(formWithoutPassword.status == 410, "the form of an expired link shows the expired page")
            #expect(try await gateway.request(.GET, "/api/share/unknown-token").json["code"] as? String == "not_found")
        }
    }

    @Test("a password protects the page, the JSON, every media route; unlock by form, JSON or header; attempts limited")
    func passwordProtection() async throws {
        let environment = ["SHARE_PASSWORD_ATTEMPTS_PER_CLIENT": "4", "SHARE_PASSWORD_ATTEMPTS_PER_LINK": "1000"]
        try await GatewayHarness.with(extraEnvironment: environment) { gateway in
            let owner = try await gateway.token(for: "540")
            let media = try await Self.media(gateway, token: owner, count: 1)
            let id = try await Self.create(gateway, token: owner)["id"] as! String
            _ = try await Self.add(gateway, token: owner, collection: id, media: media[0])
            let short = try await gateway.request(.POST, "/collection/\(id)/links", token: owner, body: #"{"password": "abc"}"#)
            #expect(short.status == 400)
            let link = try await Self.link(
                gateway, token: owner, collection: id, body: #"{"password": "correct horse", "allow_download": true}"#)
            #expect(link["has_password"] as? Bool == true)
            let stored = try await gateway.text("SELECT password_hash FROM collection.share_links")
            #expect(stored.hasPrefix("scrypt$") && !stored.contains("correct horse"))
            let page = Self.path(link["url"])
            let api = "/api/share/" + (link["token"] as! String)

            // Locked everywhere.
            let form = try await gateway.request(.GET, page)
            #expect(form.status == 401)
            #expect(form.text.contains("<form method=\"post\""))
            let lockedJSON = try await gateway.request(.GET, api)
            #expect(lockedJSON.status == 401)
            #expect((lockedJSON.json["details"] as? [String: Any])?["password_required"] as? Bool == true)
            for variant in ["stream", "original", "thumbnail", "download"] {
                #expect(try await gateway.request(.GET, page + "/items/\(media[0])/\(variant)").status == 401, "\(variant)")
            }

            // Wrong password: the form again; right password: a redirect with the unlock cookie.
            let wrong = try await gateway.request(
                .POST, page, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                bytes: Array("password=nope".utf8))
            #expect(wrong.status == 401)
            #expect(wrong.text.contains("not right"))
            let right = try await gateway.request(
                .POST, page, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                bytes: Array("password=correct+horse".utf8))
            #expect(right.status == 303)
            let cookie = try #require(GatewayHarness.cookies(right).first { $0.key.hasPrefix("mv_share_") })
            let cookieHeader = [("Cookie", "\(cookie.key)=\(cookie.value)")]
            #expect(try await gateway.request(.GET, page, headers: cookieHeader).status == 200)
            #expect(try await gateway.request(.GET, api, headers: cookieHeader).status == 200)
            #expect(try await gateway.request(.GET, page + "/items/\(media[0])/download", headers: cookieHeader).status == 307)
            let forged = [("Cookie", "\(cookie.key)=\(cookie.value.dropLast(2))xx")]
            #expect(try await gateway.request(.GET, page, headers: forged).status == 401)

            // JSON unlock for custom frontends: the token goes in X-Share-Unlock.
            let unlocked = try await gateway.request(.POST, api + "/unlock", body: #"{"password": "correct horse"}"#)
            #expect(unlocked.status == 200, "\(unlocked.text)")
            let pass = try #require(unlocked.json["unlock_token"] as? String)
            let viaHeader = try await gateway.request(.GET, api, headers: [("X-Share-Unlock", pass)])
            #expect(viaHeader.status == 200)
            #expect((viaHeader.json["items"] as? [[String: Any]])?.first?["download_url"] is String)

            // A pass is for one link only.
            let otherLink = try await Self.link(gateway, token: owner, collection: id, body: #"{"password": "another one"}"#)
            let otherAPI = "/api/share/" + (otherLink["token"] as! String)
            #expect(try await gateway.request(.GET, otherAPI, headers: [("X-Share-Unlock", pass)]).status == 401)

            // Changing a link's password ends unlocks of the old one; removing it opens the link to everyone.
            let otherUnlock = try await gateway.request(.POST, otherAPI + "/unlock", body: #"{"password": "another one"}"#)
            let otherPass = try #require(otherUnlock.json["unlock_token"] as? String)
            #expect(try await gateway.request(.GET, otherAPI, headers: [("X-Share-Unlock", otherPass)]).status == 200)
            let otherLinkPath = "/collection/\(id)/links/\(otherLink["id"] as! String)"
            let repassworded = try await gateway.request(.PATCH, otherLinkPath, token: owner, body: #"{"password": "changed secret"}"#)
            #expect(repassworded.status == 200, "\(repassworded.text)")
            #expect(try await gateway.request(.GET, otherAPI, headers: [("X-Share-Unlock", otherPass)]).status == 401)
            let opened = try await gateway.request(
                .PATCH, otherLinkPath, token: owner,
                body: #"{"password": null, "allow_download": true, "never_expires": true, "label": null}"#)
            #expect(opened.json["has_password"] as? Bool == false)
            #expect(opened.json["allow_download"] as? Bool == true)
            #expect(opened.json["expires_at"] is NSNull)
            #expect(try await gateway.request(.GET, otherAPI).status == 200)
            #expect(try await gateway.request(.PATCH, otherLinkPath, token: owner, body: #"{"password": "abc"}"#).status == 400)
            #expect(try await gateway.request(.PATCH, otherLinkPath, body: #"{"allow_download": false}"#).status == 401)

            // Per client: 4 attempts per window (2 counted so far were refunded or wrong: nope, then right twice).
            var statuses: [Int] = []
            for _ in 0..<5 {
                statuses.append(try await gateway.request(.POST, api + "/unlock", body: #"{"password": "guess-guess"}"#).status)
            }
            #expect(statuses.contains(429), "\(statuses)")
            let limited = try await gateway.request(.POST, api + "/unlock", body: #"{"password": "correct horse"}"#)
            #expect(limited.status == 429, "even the right password waits once the limit is reached")
            #expect(Int(limited.header("Retry-After") ?? "") ?? 0 > 0)
            #expect(limited.json["code"] as? String == "resource_exhausted")
            let limitedForm = try await gateway.request(
                .POST, page, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                bytes: Array("password=correct+horse".utf8))
            #expect(limitedForm.status == 429)

            // Revoking the link ends unlocked sessions at once.
            _ = try await gateway.request(.DELETE, "/collection/\(id)/links/\(link["id"] as! String)", token: owner)
            #expect(try await gateway.request(.GET, api, headers: [("X-Share-Unlock", pass)]).status == 410)
        }
    }

    @Test("attempt limits per link count every client; behind a trusted proxy each client is counted apart")
    func attemptLimitsPerLinkAndClient() async throws {
        let environment = [
            "SHARE_PASSWORD_ATTEMPTS_PER_CLIENT": "2", "SHARE_PASSWORD_ATTEMPTS_PER_LINK": "5", "TRUSTED_PROXY_COUNT": "1",
        ]
        try await GatewayHarness.with(extraEnvironment: environment) { gateway in
            let owner = try await gateway.token(for: "550")
            let id = try await Self.create(gateway, token: owner)["id"] as! String
            let link = try await Self.link(gateway, token: owner, collection: id, body: #"{"password": "s3cret-pass"}"#)
            let unlock = "/api/share/" + (link["token"] as! String) + "/unlock"
            func attempt(from client: String, password: String = "wrong-pass") async throws -> Int {
                try await gateway.request(
                    .POST, unlock, headers: [("X-Forwarded-For", "198.51.100.7, \(client)")],
                    body: #"{"password": "\#(password)"}"#
                ).status
            }
            #expect(try await attempt(from: "203.0.113.1") == 401)
            #expect(try await attempt(from: "203.0.113.1") == 401)
            #expect(try await attempt(from: "203.0.113.1") == 429, "third attempt from one client")
            #expect(try await attempt(from: "203.0.113.2") == 401, "another client still may try")
            #expect(try await attempt(from: "203.0.113.3") == 401)
            #expect(try await attempt(from: "203.0.113.4") == 401)
            #expect(try await attempt(from: "203.0.113.5", password: "s3cret-pass") == 429, "the link's own limit is reached")
        }
    }

    @Test("the page escapes hostile titles and sends its security headers; HEVC first, original as fallback")
    func pageEscapingAndHeaders() async throws {
        try await GatewayHarness.with { gateway in
            let owner = try await gateway.token(for: "560")
            let hostile = #"<script>alert("x")</script> & 'quotes'"#
            let media = try await Self.media(gateway, token: owner, count: 1)
            try await gateway.sql(
                "UPDATE media.items SET title = $t$\(hostile)$t$, processed_key = 'processed/\(media[0]).mp4' WHERE id = '\(media[0])'")
            let created = try await Self.create(gateway, token: owner, title: hostile, description: "</p><img src=x onerror=alert(1)>")
            let id = created["id"] as! String
            _ = try await Self.add(gateway, token: owner, collection: id, media: media[0])
            let page = try await gateway.request(.GET, "/s/" + (created["share_token"] as! String))
            #expect(page.status == 200)
            let html = page.text
            #expect(!html.contains("<script>"))
            #expect(!html.contains("<img src=x"))
            #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"))
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            let csp = try #require(page.header("Content-Security-Policy"))
            #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"))
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            #expect(page.header("X-Frame-Options") == "DENY")
            #expect(page.header("Referrer-Policy") == "no-referrer")
            #expect(page.header("Cache-Control") == "no-store")
            let stream = html.range(of: "/items/\(media[0])/stream\" type=\"video/mp4; codecs=&quot;hvc1&quot;\"")
            let fallback = html.range(of: "/items/\(media[0])/original\" type=\"video/mp4\"")
            #expect(stream != nil && fallback != nil && stream!.lowerBound < fallback!.lowerBound)
            #expect(!html.contains("/download"), "the collection's own token offers no downloads")
            // Links on the page are relative to /s/<token>, so a path prefix in front of the API keeps them working.
            let token = created["share_token"] as! String
            #expect(html.contains("src=\"\(token)/items/\(media[0])/original\""))
            let slash = try await gateway.request(.GET, "/s/\(token)/")
            #expect(slash.status == 308)
            #expect(slash.header("Location") == "../\(token)")
        }
    }
}

extension ISO8601DateFormatter {
    static var withFraction: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
