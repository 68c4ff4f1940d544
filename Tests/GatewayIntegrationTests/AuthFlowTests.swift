import Foundation
import Testing

@Suite("Discord sign-in and sessions")
struct AuthFlowTests {
    @Test("login → Discord → callback → token → /auth/me, by bearer and by cookie")
    func fullRoundTrip() async throws {
        try await GatewayHarness.with { gateway in
            gateway.discord.add(.init(id: "80351110224678912", username: "nelly", globalName: "Nelly", avatar: "8342729096ea3675442027381ff50dfe"))

            let login = try await gateway.request(.GET, "/auth/discord/login")
            #expect(login.status == 307)
            let authorize = try #require(login.location)
            #expect(authorize.string!.hasPrefix(gateway.discord.authorizeURL))
            let query = Dictionary(uniqueKeysWithValues: (authorize.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(query["client_id"] == gateway.discord.clientID)
            #expect(query["response_type"] == "code")
            #expect(query["scope"] == "identify")
            #expect(query["redirect_uri"] == GatewayHarness.apiBaseURL + "/auth/discord/callback")
            #expect((query["state"] ?? "").count >= 32)
            let stateCookie = try #require(login.headers[canonicalForm: "Set-Cookie"].first { $0.hasPrefix("mv_oauth_state=") })
            #expect(stateCookie.contains("HttpOnly"))

            let result = try await gateway.signIn(as: "80351110224678912")
            #expect(result.frontendRedirect.status == 307)
            // The callback's query fields come in no particular order.
            #expect(result.frontendRedirect.header("Location")!.hasPrefix(GatewayHarness.frontendURL + "/auth/callback?"))
            let token = try #require(result.token)
            let sessionCookie = try #require(
                result.frontendRedirect.headers[canonicalForm: "Set-Cookie"].first { $0.hasPrefix("mv_session=") })
            #expect(sessionCookie.contains("HttpOnly"))
            #expect(sessionCookie.contains("SameSite=Lax"))
            #expect(!sessionCookie.contains("Secure"), "API_BASE_URL is http in this test")

            let me = try await gateway.request(.GET, "/auth/me", token: token)
            #expect(me.status == 200)
            #expect(me.json["discord_id"] as? String == "80351110224678912")
            #expect(me.json["username"] as? String == "nelly")
            #expect(me.json["avatar_url"] as? String
                == "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png")
            #expect(UUID(uuidString: me.json["id"] as? String ?? "") != nil)

            let byCookie = try await gateway.request(.GET, "/auth/me", headers: [("Cookie", "mv_session=\(token)")])
            #expect(byCookie.status == 200)
            #expect(byCookie.json["id"] as? String == me.json["id"] as? String)

                // Only a hash of the token is stored.
            let stored = try await gateway.scalar("SELECT count(*) FROM auth.sessions WHERE token_hash = sha256(convert_to('\(token)', 'UTF8'))")
            #expect(stored == 1)
            let plain = try await gateway.scalar("SELECT count(*) FROM auth.sessions WHERE position(convert_to('\(token)', 'UTF8') in token_hash) > 0")
            #expect(plain == 0)
        }
    }

    @Test("a tampered, missing or foreign state is refused without creating a session")
    func stateTampering() async throws {
        try await GatewayHarness.with { gateway in
            gateway.discord.add(.init(id: "1001", username: "mallory"))

            let tamperedState = try await gateway.signIn(as: "1001") { url, _ in
                url = url.replacingOccurrences(of: "state=", with: "state=X")
            }
            #expect(tamperedState.error == "invalid_state")
            #expect(tamperedState.token == nil)

            let missingCookie = try await gateway.signIn(as: "1001") { _, cookie in cookie = nil }
            #expect(missingCookie.error == "invalid_state")

            let forgedCookie = try await gateway.signIn(as: "1001") { _, cookie in
                cookie = cookie.map { String($0.dropLast(2)) + "AA" }
            }
            #expect(forgedCookie.error == "invalid_state")
            #expect(gateway.discord.tokenRequestCount == 0, "no code is exchanged without a valid state")
            #expect(forgedCookie.frontendRedirect.header("Location")!.hasPrefix(GatewayHarness.frontendURL + "/auth/callback?"))
            #expect(forgedCookie.token == nil)
        }
    }

    @Test("denied consent and Discord failures redirect to the frontend with an error")
    func discordErrors() async throws {
        try await GatewayHarness.with(extraEnvironment: ["DISCORD_TIMEOUT_SECONDS": "1"]) { gateway in
            gateway.discord.add(.init(id: "2002", username: "dora"))

            let denied = try await gateway.signIn(as: "2002", deny: true)
            #expect(denied.frontendRedirect.status == 307)
            #expect(denied.error == "access_denied")

            gateway.discord.fail(with: .tokenServerError)
            let serverError = try await gateway.signIn(as: "2002")
            #expect(serverError.frontendRedirect.status == 307)
            #expect(serverError.error == "discord_unavailable")

            gateway.discord.fail(with: .tokenDelay(seconds: 3))
            let slow = try await gateway.signIn(as: "2002")
            #expect(slow.frontendRedirect.status == 307)
            #expect(slow.error == "discord_unavailable")
        }
    }

    @Test("the allowlist admits only listed Discord users")
    func allowlist() async throws {
        try await GatewayHarness.with(extraEnvironment: ["DISCORD_ALLOWED_USER_IDS": "3003, 3004"]) { gateway in
            gateway.discord.add(.init(id: "3003", username: "invited"))
            gateway.discord.add(.init(id: "9999", username: "stranger"))

            let refused = try await gateway.signIn(as: "9999")
            #expect(refused.error == "not_allowed")
            #expect(refused.frontendRedirect.query("error_description")?.contains("invited") == true)
            #expect(refused.token == nil)
            #expect(try await gateway.signIn(as: "3003").token != nil)
        }
    }

    @Test("a required Discord server admits only its members and asks for the guilds scope")
    func guildMembership() async throws {
        try await GatewayHarness.with(extraEnvironment: ["DISCORD_REQUIRED_GUILD_ID": "5555"]) { gateway in
            gateway.discord.add(.init(id: "4004", username: "member", guildIDs: ["1", "5555"]))
            gateway.discord.add(.init(id: "4005", username: "outsider", guildIDs: ["1"]))

            let login = try await gateway.request(.GET, "/auth/discord/login")
            #expect(login.query("scope") == "identify guilds")
            #expect(try await gateway.signIn(as: "4005").error == "not_allowed")
            #expect(try await gateway.signIn(as: "4004").token != nil)
        }
    }

    @Test("the redirect parameter is kept only when it stays on the frontend")
    func noOpenRedirect() async throws {
        try await GatewayHarness.with { gateway in
            gateway.discord.add(.init(id: "6006", username: "traveller"))

            #expect(try await gateway.signIn(as: "6006", redirect: "/collections/42").frontendRedirect.query("redirect")
                == "/collections/42")
            #expect(try await gateway.signIn(as: "6006", redirect: GatewayHarness.frontendURL + "/media?page=2")
                .frontendRedirect.query("redirect") == "/media?page=2")
            for hostile in ["https://evil.example/steal", "//evil.example", "/\\evil.example", "http://frontend.test.evil.example/"] {
                let result = try await gateway.signIn(as: "6006", redirect: hostile)
                #expect(result.token != nil)
                #expect(result.frontendRedirect.query("redirect") == nil, "kept \(hostile)")
                #expect(result.frontendRedirect.header("Location")!.hasPrefix(GatewayHarness.frontendURL + "/"))
            }
        }
    }

    @Test("logout revokes only the session it is called with")
    func logoutRevokesOnlyItsSession() async throws {
        try await GatewayHarness.with { gateway in
            let laptop = try await gateway.token(for: "7007")
            let phone = try await gateway.token(for: "7007")
            #expect(laptop != phone)

            let logout = try await gateway.request(.POST, "/auth/logout", token: laptop)
            #expect(logout.status == 200)
            #expect(logout.json["success"] as? Bool == true)
            #expect(logout.headers[canonicalForm: "Set-Cookie"].contains { $0.hasPrefix("mv_session=;") })

            let revoked = try await gateway.request(.GET, "/auth/me", token: laptop)
            #expect(revoked.status == 401)
            #expect(revoked.json["code"] as? String == "unauthenticated")
            #expect(try await gateway.request(.GET, "/auth/me", token: phone).status == 200)
            #expect(try await gateway.request(.POST, "/auth/logout", token: laptop).status == 401)
        }
    }

    @Test("an expired session answers 401 in the error envelope")
    func expiredSession() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "8008")
            #expect(try await gateway.request(.GET, "/auth/me", token: token).status == 200)

            try await gateway.sql("UPDATE auth.sessions SET expires_at = now() - interval '1 minute'")
            let expired = try await gateway.request(.GET, "/auth/me", token: token)
            #expect(expired.status == 401)
            #expect(expired.json["code"] as? String == "unauthenticated")
            #expect(expired.json.keys.sorted() == ["code", "details", "message"])

            let anonymous = try await gateway.request(.GET, "/auth/me")
            #expect(anonymous.status == 401)
            #expect(try await gateway.request(.GET, "/auth/me", token: "not-a-real-token").status == 401)
        }
    }

    @Test("two gateway replicas on one database accept the same session")
    func statelessReplicas() async throws {
        try await GatewayHarness.with { first in
            let second = try await GatewayHarness.start(sharing: first)
            do {
                try await replicasShareSessions(first, second)
            } catch {
                try? await second.stop()
                throw error
            }
            try await second.stop()
        }
    }

    func replicasShareSessions(_ first: GatewayHarness, _ second: GatewayHarness) async throws {
        #expect(first.baseURL != second.baseURL)
        let token = try await first.token(for: "9009")
        let viaSecond = try await second.request(.GET, "/auth/me", token: token)
        #expect(viaSecond.status == 200)
        #expect(viaSecond.json["discord_id"] as? String == "9009")
        // A sign-in started on one replica finishes on the other: the state cookie is verifiable anywhere.
        first.discord.add(.init(id: "9010", username: "roamer"))
        let login = try await first.request(.GET, "/auth/discord/login")
        let cookie = GatewayHarness.cookies(login)["mv_oauth_state"]!
        let consent = try await first.request(.GET, login.header("Location")! + "&login_as=9010")
        let callback = consent.header("Location")!.replacingOccurrences(of: GatewayHarness.apiBaseURL, with: second.baseURL)
        let finished = try await second.request(.GET, callback, headers: [("Cookie", "mv_oauth_state=\(cookie)")])
        #expect(finished.query("token") != nil)
    }
}
