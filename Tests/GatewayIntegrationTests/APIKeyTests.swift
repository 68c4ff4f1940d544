import Crypto
import Foundation
import GatewayApp
import Logging
import MediaVaultCore
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

/// Personal API keys against a real gateway and PostgreSQL: their life cycle, what each scope opens, and what no
/// key can ever reach.
@Suite("API keys: scopes, key management, expiry, isolation, secrecy")
struct APIKeyTests {
    /// Creates a key through the session and returns the reply's JSON.
    static func createKey(
        _ gateway: GatewayHarness, session: String, name: String = "script", scopes: [String],
        expiresAt: String? = nil
    ) async throws -> [String: Any] {
        let scopeList = scopes.map { #""\#($0)""# }.joined(separator: ", ")
        let expiry = expiresAt.map { #", "expires_at": "\#($0)""# } ?? ""
        let reply = try await gateway.request(
            .POST, "/auth/api-keys", token: session, body: #"{"name": "\#(name)", "scopes": [\#(scopeList)]\#(expiry)}"#)
        #expect(reply.status == 201, "\(reply.text)")
        return reply.json
    }

    static func key(_ created: [String: Any]) throws -> String { try #require(created["key"] as? String) }

    /// A concrete request path for a route pattern; ids are random so nothing of a user's is touched.
    static func concretePath(_ pattern: String) -> String {
        pattern.split(separator: "/").map { component -> String in
            switch component {
            case "**": return "some/object"
            case "{variant}": return "thumbnail"
            case "{token}": return "no-such-token-0123456789"
            case let name where name.hasPrefix("{"): return UUID().uuidString.lowercased()
            default: return String(component)
            }
        }.reduce("") { $0 + "/" + $1 }
    }

    static func send(
        _ gateway: GatewayHarness, _ route: RouteDeclaration, headers: [(String, String)]
    ) async throws -> GatewayHarness.Reply {
        let method = HTTPMethod(rawValue: route.method.rawValue)
        let hasBody = [.POST, .PUT, .PATCH].contains(method)
        let reply = try await gateway.request(
            method, concretePath(route.path), headers: headers, body: hasBody ? "{}" : nil)
        // A declared route the router does not serve would pass every check below for the wrong reason.
        #expect(!reply.text.contains("no route for"), "\(route) is declared but not served")
        return reply
    }

    static func declaredRoutes(_ gateway: GatewayHarness) async throws -> [RouteDeclaration] {
        let configuration = try GatewayConfiguration(source: ConfigSource(environment: gateway.environment))
        return try await gatewayRoutes(configuration: configuration, logger: Logger(label: "routes")).declared
    }

    @Test("each scope grants exactly its routes; account routes refuse every key; sessions reach everything")
    func scopeMatrix() async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3100")
            var keys: [APIScope: String] = [:]
            for scope in APIScope.allCases {
                keys[scope] = try Self.key(
                    try await Self.createKey(gateway, session: session, name: scope.rawValue, scopes: [scope.rawValue]))
            }
            let everything = try Self.key(
                try await Self.createKey(
                    gateway, session: session, name: "all", scopes: APIScope.allCases.map(\.rawValue)))
            let routes = try await Self.declaredRoutes(gateway)
            #expect(routes.contains { $0.access == .account } && routes.contains { $0.access == .scope(.mediaDelete) })

            for route in routes where route.access != .open {
                let required: APIScope? =
                    switch route.access {
                    case .scope(let scope), .openOrScope(let scope): scope
                    case .open, .account: nil
                    }
                for scope in APIScope.allCases {
                    // Both ways of presenting a key, alternately.
                    let header =
                        scope.rawValue.count % 2 == 0
                        ? ("Authorization", "Bearer \(keys[scope]!)") : ("X-API-Key", keys[scope]!)
                    let reply = try await Self.send(gateway, route, headers: [header])
                    if required == scope {
                        #expect(![401, 403].contains(reply.status), "\(route) with \(scope): \(reply.status) \(reply.text)")
                    } else {
                        #expect(reply.status == 403, "\(route) with \(scope): \(reply.status) \(reply.text)")
                        #expect(reply.json["code"] as? String == "permission_denied", "\(route): \(reply.text)")
                    }
                }
                let all = try await Self.send(gateway, route, headers: [("Authorization", "Bearer \(everything)")])
                if route.access == .account {
                    #expect(all.status == 403, "\(route) with every scope: \(all.status)")
                } else {
                    #expect(![401, 403].contains(all.status), "\(route) with every scope: \(all.status) \(all.text)")
                }
                let anonymous = try await Self.send(gateway, route, headers: [])
                if case .openOrScope = route.access {
                    #expect(anonymous.status != 401, "\(route) without a credential: \(anonymous.status)")
                } else {
                    #expect(anonymous.status == 401, "\(route) without a credential: \(anonymous.status)")
                }
                // Logout would end the session the sweep goes on with; it is called once at the end.
                if route.path == "/auth/logout" { continue }
                let signedIn = try await Self.send(gateway, route, headers: [("Authorization", "Bearer \(session)")])
                #expect(![401, 403].contains(signedIn.status), "\(route) as a session: \(signedIn.status) \(signedIn.text)")
            }
            let logout = try await gateway.request(.POST, "/auth/logout", token: session)
            #expect(logout.status == 200)
        }
    }

    @Test("a key is shown once, listed without its secret, used by both headers, and dead once revoked")
    func lifeCycle() async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3200")
            let reply = try await gateway.request(
                .POST, "/auth/api-keys", token: session,
                body: #"{"name": "  photo frame  ", "scopes": ["media:read", "collections:read"]}"#)
            #expect(reply.status == 201, "\(reply.text)")
            #expect(reply.header("Cache-Control") == "no-store")
            let secret = try #require(reply.json["key"] as? String)
            let id = try #require(reply.json["id"] as? String)
            #expect(secret.range(of: #"^mvk_[A-Za-z0-9_-]{43}$"#, options: .regularExpression) != nil)
            #expect(reply.json["name"] as? String == "photo frame")
            #expect(reply.json["scopes"] as? [String] == ["media:read", "collections:read"])
            #expect((reply.json["prefix"] as? String).map(secret.hasPrefix) == true)
            #expect(reply.json["last_used_at"] is NSNull && reply.json["expires_at"] is NSNull)

            // Stored only as a hash.
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.api_keys WHERE name = 'photo frame'") == 1)
            let stored = try await gateway.text("SELECT encode(secret_hash, 'hex') FROM auth.api_keys")
            let digest = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(stored == digest)

            for headers in [[("Authorization", "Bearer \(secret)")], [("X-API-Key", secret)]] {
                let list = try await gateway.request(.GET, "/media", headers: headers)
                #expect(list.status == 200, "\(list.text)")
            }
            let listed = try await gateway.request(.GET, "/auth/api-keys", token: session)
            #expect(listed.status == 200)
            #expect(!listed.text.contains(secret))
            let entries = try #require(listed.json["api_keys"] as? [[String: Any]])
            #expect(entries.count == 1 && entries[0]["key"] == nil && entries[0]["id"] as? String == id)
            let firstUse = try #require(entries[0]["last_used_at"] as? String, "the use was recorded")

            // Within the granularity a further use writes nothing.
            _ = try await gateway.request(.GET, "/media", headers: [("X-API-Key", secret)])
            let again = try await gateway.request(.GET, "/auth/api-keys", token: session)
            let entriesAgain = try #require(again.json["api_keys"] as? [[String: Any]])
            #expect(entriesAgain[0]["last_used_at"] as? String == firstUse)

            // Someone else cannot revoke it; its owner can, once.
            let other = try await gateway.token(for: "3201")
            #expect(try await gateway.request(.DELETE, "/auth/api-keys/\(id)", token: other).status == 404)
            #expect(try await gateway.request(.GET, "/media", headers: [("X-API-Key", secret)]).status == 200)
            let revoke = try await gateway.request(.DELETE, "/auth/api-keys/\(id)", token: session)
            #expect(revoke.status == 200 && revoke.json["success"] as? Bool == true)
            #expect(try await gateway.request(.DELETE, "/auth/api-keys/\(id)", token: session).status == 404)
            let afterRevoke = try await gateway.request(.GET, "/media", headers: [("X-API-Key", secret)])
            #expect(afterRevoke.status == 401 && afterRevoke.json["code"] as? String == "unauthenticated")
            #expect(afterRevoke.header("WWW-Authenticate") == #"Bearer realm="mediavault""#)
            let emptied = try await gateway.request(.GET, "/auth/api-keys", token: session)
            #expect((emptied.json["api_keys"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("an expired key is refused, and a malformed or unknown one is just unauthenticated")
    func expiry() async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3300")
            let created = try await Self.createKey(
                gateway, session: session, scopes: ["media:read"], expiresAt: "2999-01-01T00:00:00Z")
            let secret = try Self.key(created)
            #expect(created["expires_at"] as? String == "2999-01-01T00:00:00.000Z")
            #expect(try await gateway.request(.GET, "/media", headers: [("X-API-Key", secret)]).status == 200)
            try await gateway.sql("UPDATE auth.api_keys SET expires_at = now() - interval '1 second'")
            let expired = try await gateway.request(.GET, "/media", headers: [("X-API-Key", secret)])
            #expect(expired.status == 401 && expired.json["code"] as? String == "unauthenticated")
            // Still listed, so its owner sees why a script stopped working.
            let listed = try await gateway.request(.GET, "/auth/api-keys", token: session)
            #expect((listed.json["api_keys"] as? [Any])?.count == 1)

            for bogus in ["mvk_short", "mvk_" + String(repeating: "A", count: 43), "mvk_" + String(repeating: "!", count: 43)] {
                let reply = try await gateway.request(.GET, "/media", headers: [("Authorization", "Bearer \(bogus)")])
                #expect(reply.status == 401, "\(bogus)")
            }
            // Open routes ignore a bad credential.
            #expect(try await gateway.request(.GET, "/healthz", headers: [("X-API-Key", "mvk_nope")]).status == 200)
        }
    }

    @Test(
        "bad key requests are refused with a clear error and create nothing",
        arguments: [
            (#"{"name": "", "scopes": ["media:read"]}"#, "name"),
            (#"{"name": "   ", "scopes": ["media:read"]}"#, "name"),
            (#"{"name": "\#(String(repeating: "n", count: 101))", "scopes": ["media:read"]}"#, "name"),
            (#"{"name": "a\u0007b", "scopes": ["media:read"]}"#, "name"),
            (#"{"name": "k", "scopes": []}"#, "scopes"),
            (#"{"name": "k", "scopes": ["media:read", "media:read"]}"#, "scopes"),
            (#"{"name": "k", "scopes": ["admin"]}"#, "scopes"),
            (#"{"name": "k", "scopes": ["media:read"], "expires_at": "2001-01-01T00:00:00Z"}"#, "expires_at"),
            (#"{"name": "k", "scopes": ["media:read"], "expires_at": "tomorrow"}"#, "expires_at"),
            (#"{"name": "k"}"#, "scopes"),
        ])
    func badRequests(body: String, field: String) async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3400")
            let reply = try await gateway.request(.POST, "/auth/api-keys", token: session, body: body)
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.json["code"] as? String == "invalid_argument")
            #expect((reply.json["details"] as? [String: Any])?["field"] as? String == field, "\(reply.text)")
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.api_keys") == 0)
        }
    }

    @Test("a user holds at most 50 active keys; revoking one makes room")
    func activeKeyLimit() async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3500")
            var last: [String: Any] = [:]
            for index in 0..<50 {
                last = try await Self.createKey(gateway, session: session, name: "k\(index)", scopes: ["media:read"])
            }
            let refused = try await gateway.request(
                .POST, "/auth/api-keys", token: session, body: #"{"name": "one more", "scopes": ["media:read"]}"#)
            #expect(refused.status == 429 && refused.json["code"] as? String == "resource_exhausted", "\(refused.text)")
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.api_keys") == 50)
            // Expired keys are still listed, so they still count: short-lived keys cannot pile up without bound.
            try await gateway.sql("UPDATE auth.api_keys SET expires_at = now() - interval '1 day'")
            let stillRefused = try await gateway.request(
                .POST, "/auth/api-keys", token: session, body: #"{"name": "one more", "scopes": ["media:read"]}"#)
            #expect(stillRefused.status == 429)
            // Concurrent creations cannot overshoot the limit either.
            try await gateway.sql("DELETE FROM auth.api_keys WHERE name IN ('k0', 'k1', 'k2')")
            let burst = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        try await gateway.request(
                            .POST, "/auth/api-keys", token: session,
                            body: #"{"name": "burst \#(index)", "scopes": ["media:read"]}"#
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(burst.filter { $0 == 201 }.count == 3 && burst.filter { $0 == 429 }.count == 7, "\(burst)")
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.api_keys") == 50)
            let id = try #require(last["id"] as? String)
            #expect(try await gateway.request(.DELETE, "/auth/api-keys/\(id)", token: session).status == 200)
            _ = try await Self.createKey(gateway, session: session, name: "room again", scopes: ["media:read"])
        }
    }

    @Test("a key of user A never reaches user B's media or collections")
    func isolation() async throws {
        try await GatewayHarness.with { gateway in
            let alice = try await gateway.token(for: "3600")
            let bob = try await gateway.token(for: "3601")
            let bobsMedia = try await MediaFlowTests.upload(
                gateway, token: bob, name: "bob.png", type: "image/png", bytes: MediaFlowTests.bytes(256))
            let collection = try await gateway.request(.POST, "/collection", token: bob, body: #"{"title": "Bob's"}"#)
            let bobsCollection = try #require(collection.json["id"] as? String, "\(collection.text)")
            let aliceKey = try Self.key(
                try await Self.createKey(gateway, session: alice, scopes: APIScope.allCases.map(\.rawValue)))
            let asAlice = [("X-API-Key", aliceKey)]

            let list = try await gateway.request(.GET, "/media", headers: asAlice)
            #expect(list.status == 200 && !list.text.contains(bobsMedia))
            for (method, path) in [
                (HTTPMethod.GET, "/media/\(bobsMedia)"), (.GET, "/media/\(bobsMedia)/download"),
                (.GET, "/processing/\(bobsMedia)/status"), (.DELETE, "/media/\(bobsMedia)"),
                (.GET, "/collection/\(bobsCollection)"), (.GET, "/collection/\(bobsCollection)/links"),
                (.DELETE, "/collection/\(bobsCollection)"),
            ] {
                let reply = try await gateway.request(method, path, headers: asAlice)
                #expect(reply.status == 404, "\(method) \(path): \(reply.status)")
            }
            let tags = try await gateway.request(
                .PATCH, "/media/\(bobsMedia)/tags", headers: asAlice, body: #"{"tags": ["mine"]}"#)
            #expect(tags.status == 404)
            let share = try await gateway.request(
                .POST, "/collection/\(bobsCollection)/links", headers: asAlice, body: "{}")
            #expect(share.status == 404)
            // Bob's things are as they were.
            let bobsView = try await gateway.request(.GET, "/media/\(bobsMedia)", token: bob)
            #expect(bobsView.status == 200 && (bobsView.json["tags"] as? [String])?.isEmpty == true)
            #expect(try await gateway.request(.GET, "/collection/\(bobsCollection)", token: bob).status == 200)
            #expect(try await gateway.scalar("SELECT count(*) FROM collection.share_links") == 0)
        }
    }

    @Test("the secret never appears in the logs, even at debug level")
    func secretStaysOutOfLogs() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        let gateway = try await GatewayHarness.start(
            extraEnvironment: ["LOG_LEVEL": "debug"],
            logHandler: { label in CapturingLogHandler(label: label, lines: lines) })
        do {
            let session = try await gateway.token(for: "3700")
            let created = try await Self.createKey(gateway, session: session, scopes: ["media:read"])
            let secret = try Self.key(created)
            _ = try await gateway.request(.GET, "/media", headers: [("Authorization", "Bearer \(secret)")])
            _ = try await gateway.request(.GET, "/auth/api-keys", headers: [("X-API-Key", secret)])
            _ = try await gateway.request(.DELETE, "/auth/api-keys/\(created["id"] as? String ?? "")", token: session)
            _ = try await gateway.request(.GET, "/media", headers: [("X-API-Key", secret)])
            let logged = lines.withLockedValue { $0 }
            #expect(logged.contains { $0.contains("API key created") }, "the log was captured")
            #expect(!logged.contains { $0.contains(secret) || $0.contains(String(secret.dropFirst(10))) })
        } catch {
            try? await gateway.stop()
            throw error
        }
        try await gateway.stop()
    }
}

/// Keeps every log line, message and metadata, for tests that check what is (not) logged.
struct CapturingLogHandler: LogHandler {
    let label: String
    let lines: NIOLockedValueBox<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.withLockedValue { $0.append("\(event.level) \(event.message) \(merged)") }
    }
}

extension APIKeyTests {
    @Test("a key sees a collection as far as its scopes go: no share token without shares:read")
    func collectionsThroughKeys() async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3800")
            let created = try await gateway.request(.POST, "/collection", token: session, body: #"{"title": "Frame"}"#)
            let id = try #require(created.json["id"] as? String)
            let token = try #require(created.json["share_token"] as? String, "a session sees the token")
            let reader = try Self.key(try await Self.createKey(gateway, session: session, scopes: ["collections:read"]))
            let sharer = try Self.key(
                try await Self.createKey(gateway, session: session, scopes: ["collections:read", "shares:read"]))
            let mediaOnly = try Self.key(try await Self.createKey(gateway, session: session, scopes: ["media:read"]))

            let asReader = try await gateway.request(.GET, "/collection/\(id)", headers: [("X-API-Key", reader)])
            #expect(asReader.status == 200 && asReader.json["is_owner"] as? Bool == true)
            #expect(asReader.json["share_token"] is NSNull, "\(asReader.text)")
            let listed = try await gateway.request(.GET, "/collection", headers: [("X-API-Key", reader)])
            let collections = try #require(listed.json["collections"] as? [[String: Any]])
            #expect(collections.count == 1 && collections[0]["share_token"] is NSNull)
            #expect(!listed.text.contains(token) && !asReader.text.contains(token))
            let asSharer = try await gateway.request(.GET, "/collection/\(id)", headers: [("X-API-Key", sharer)])
            #expect(asSharer.json["share_token"] as? String == token)

            // Open to anyone by token, but a key presented there must still hold the scope.
            let byToken = try await gateway.request(.GET, "/collection/\(id)?token=\(token)")
            #expect(byToken.status == 200 && byToken.json["is_owner"] as? Bool == false)
            let wrongKey = try await gateway.request(
                .GET, "/collection/\(id)?token=\(token)", headers: [("X-API-Key", mediaOnly)])
            #expect(wrongKey.status == 403 && wrongKey.json["code"] as? String == "permission_denied")
        }
    }

    @Test("Authorization wins over X-API-Key, which wins over the cookie; a locked share link has its own challenge")
    func credentialPrecedence() async throws {
        try await GatewayHarness.with { gateway in
            let session = try await gateway.token(for: "3900")
            let key = try Self.key(try await Self.createKey(gateway, session: session, scopes: ["media:read"]))
            let bearerSession = try await gateway.request(
                .GET, "/auth/me", headers: [("Authorization", "Bearer \(session)"), ("X-API-Key", key)])
            #expect(bearerSession.status == 200, "the session in Authorization is the credential")
            let keyOverCookie = try await gateway.request(
                .GET, "/auth/me", headers: [("Cookie", "mv_session=\(session)"), ("X-API-Key", key)])
            #expect(keyOverCookie.status == 403, "the key in X-API-Key is the credential, and keys never reach /auth/me")
            let cookieOnly = try await gateway.request(.GET, "/auth/me", headers: [("Cookie", "mv_session=\(session)")])
            #expect(cookieOnly.status == 200)

            let collection = try await gateway.request(.POST, "/collection", token: session, body: #"{"title": "Locked"}"#)
            let id = try #require(collection.json["id"] as? String)
            let link = try await gateway.request(
                .POST, "/collection/\(id)/links", token: session, body: #"{"password": "open sesame"}"#)
            let linkToken = try #require(link.json["token"] as? String, "\(link.text)")
            let locked = try await gateway.request(.GET, "/api/share/\(linkToken)")
            #expect(locked.status == 401 && locked.header("WWW-Authenticate") == #"SharePassword realm="share link""#)
            let wrong = try await gateway.request(
                .POST, "/api/share/\(linkToken)/unlock", body: #"{"password": "nope"}"#)
            #expect(wrong.status == 401 && wrong.header("WWW-Authenticate")?.hasPrefix("SharePassword") == true)
        }
    }
}
