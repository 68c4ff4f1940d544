import Foundation
import Testing

@Suite("Gateway plumbing: envelope, limits, request IDs, CORS, metrics, gateway secret")
struct GatewayBehaviourTests {
    @Test("unknown routes, malformed JSON and oversized bodies answer in the envelope")
    func errorEnvelope() async throws {
        try await GatewayHarness.with(extraEnvironment: [
            "MEDIAVAULT_ENV": "development", "MAX_REQUEST_BODY_BYTES": "2KiB",
        ]) { gateway in
            let unknown = try await gateway.request(.GET, "/no/such/route")
            #expect(unknown.status == 404)
            #expect(unknown.json["code"] as? String == "not_found")
            #expect((unknown.json["message"] as? String)?.contains("/no/such/route") == true)
            #expect(unknown.json.keys.contains("details"))
            #expect(unknown.header("Content-Type")?.hasPrefix("application/json") == true)

            let malformed = try await gateway.request(.POST, "/auth/dev/login", body: #"{"username": "#)
            #expect(malformed.status == 400)
            #expect(malformed.json["code"] as? String == "invalid_argument")
            #expect(malformed.json["message"] as? String == "request body is not valid JSON")

            let wrongType = try await gateway.request(.POST, "/auth/dev/login", body: #"{"username": 7}"#)
            #expect(wrongType.status == 400)
            #expect(wrongType.json["message"] as? String == "field `username` must be a string")

            let missing = try await gateway.request(.POST, "/auth/dev/login", body: "{}")
            #expect(missing.json["message"] as? String == "field `username` is required")

            let oversized = try await gateway.request(
                .POST, "/auth/dev/login", body: #"{"username": "\#(String(repeating: "a", count: 4096))"}"#)
            #expect(oversized.status == 413)
            #expect(oversized.json["code"] as? String == "resource_exhausted")

            let invalidName = try await gateway.request(.POST, "/auth/dev/login", body: #"{"username": "<script>"}"#)
            #expect(invalidName.status == 400)
            #expect(try await gateway.scalar("SELECT count(*) FROM auth.users") == 0, "bad input changes nothing")
        }
    }

    @Test("Expect: 100-continue gets 100 Continue for a valid storage PUT, and only its refusal for one to be refused")
    func expectContinue() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("expect-\(UUID().uuidString).png")
        try Data(MediaFlowTests.bytes(2 << 20, seed: 31)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7100")
            let sign = try await gateway.request(
                .POST, "/media/upload/sign", token: token, body: #"{"filename": "a.png", "mime_type": "image/png"}"#)
            // Signed for the public address; curl goes to where this gateway listens.
            let url = try #require(sign.json["upload_url"] as? String)
                .replacingOccurrences(of: GatewayHarness.apiBaseURL, with: gateway.baseURL)
            // curl holds the body back until 100 Continue or its timeout; a minute means only an answer lets it go.
            let (status, output) = try await Shell.capture(
                [
                    "curl", "-sS", "-v", "--expect100-timeout", "60", "-X", "PUT", "-H", "Content-Type: image/png",
                    "-H", "Expect: 100-continue", "--data-binary", "@\(file.path)", "-o", "/dev/null",
                    "-w", "final=%{http_code}\n", url,
                ], environment: [:])
            #expect(status == 0, "\(output)")
            #expect(output.contains("< HTTP/1.1 100 Continue"), "\(output)")
            #expect(output.contains("final=200"), "\(output)")
            let confirm = try await gateway.request(
                .POST, "/media/upload/confirm", token: token,
                body: #"{"media_id": "\#(try #require(sign.json["media_id"] as? String))"}"#)
            #expect(confirm.status == 200, "\(confirm.text)")

            // A request that will be refused gets no interim answer, only its refusal, before the body is sent.
            let (_, refused) = try await Shell.capture(
                [
                    "curl", "-sS", "-v", "--expect100-timeout", "60", "-X", "PUT", "-H", "Content-Type: image/png",
                    "-H", "Expect: 100-continue", "--data-binary", "@\(file.path)", "-o", "/dev/null",
                    "-w", "final=%{http_code}\n", url.replacingOccurrences(of: "sig=", with: "sig=0"),
                ], environment: [:])
            #expect(refused.contains("final=400") || refused.contains("final=403"), "\(refused)")
            #expect(!refused.contains("100 Continue"), "\(refused)")
        }
    }

    @Test("a served path with a method it does not take is 405 with Allow; NUL characters are bad input, not 500")
    func methodsAndNULs() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "4100")
            let wrongMethod = try await gateway.request(.PUT, "/media/\(UUID().uuidString)", token: token)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "GET, DELETE" || wrongMethod.header("Allow") == "DELETE, GET")
            #expect(wrongMethod.json["code"] as? String == "not_found")
            // A literal component wins over a capture in the router: /media/upload is not /media/{id}, so a GET
            // there is an unserved path (404), not a wrong method.
            #expect(try await gateway.request(.GET, "/media/upload", token: token).status == 404)
            let trace = try await gateway.request(.TRACE, "/collection")
            #expect(trace.status == 405 && trace.header("Allow")?.contains("POST") == true)
            #expect(try await gateway.request(.PUT, "/no/such/route").status == 404)

            for body in [#"{"title": "a\u0000b"}"#, #"{"title": "\\\u0000"}"#] {
                let reply = try await gateway.request(.POST, "/collection", token: token, body: body)
                #expect(reply.status == 400 && reply.json["code"] as? String == "invalid_argument", "\(reply.text)")
            }
            // An escaped backslash before u0000 is ordinary text.
            let literal = try await gateway.request(.POST, "/collection", token: token, body: #"{"title": "\\u0000"}"#)
            #expect(literal.status == 200 && literal.json["title"] as? String == #"\u0000"#, "\(literal.text)")
            let utf16 = try await gateway.request(
                .POST, "/collection", token: token, headers: [("Content-Type", "application/json")],
                bytes: Array(#"{"title": "x"}"#.data(using: .utf16LittleEndian)!))
            #expect(utf16.status == 400 && utf16.json["message"] as? String == "request body must be JSON in UTF-8")
            for path in ["/media?q=a%00b", "/s/abc%00def", "/api/share/x%00"] {
                let reply = try await gateway.request(.GET, path, token: token)
                #expect(reply.status == 400 && reply.json["code"] as? String == "invalid_argument", "\(path): \(reply.text)")
            }
            #expect(try await gateway.scalar("SELECT count(*) FROM collection.collections") == 1)
        }
    }

    @Test("the development sign-in works only in development")
    func developmentSignIn() async throws {
        try await GatewayHarness.with(extraEnvironment: ["MEDIAVAULT_ENV": "development"]) { gateway in
            let login = try await gateway.request(.POST, "/auth/dev/login", body: #"{"username": "Alice"}"#)
            #expect(login.status == 200)
            let token = try #require(login.json["token"] as? String)
            let me = try await gateway.request(.GET, "/auth/me", token: token)
            #expect(me.json["username"] as? String == "alice")

            let redirect = try await gateway.request(.GET, "/auth/dev/login?username=bob&redirect=/media")
            #expect(redirect.status == 307)
            #expect(redirect.query("token") != nil)
            #expect(redirect.query("redirect") == "/media")
        }
        try await GatewayHarness.with { production in
            let refused = try await production.request(.POST, "/auth/dev/login", body: #"{"username": "x"}"#)
            #expect(refused.status == 404)
        }
    }

    @Test("request IDs are accepted when sane, generated otherwise, and returned")
    func requestIDs() async throws {
        try await GatewayHarness.with { gateway in
            let echoed = try await gateway.request(.GET, "/healthz", headers: [("X-Request-ID", "trace-abc-123")])
            #expect(echoed.header("X-Request-ID") == "trace-abc-123")
            let generated = try await gateway.request(.GET, "/healthz")
            #expect(UUID(uuidString: generated.header("X-Request-ID") ?? "") != nil)
            let hostile = try await gateway.request(
                .GET, "/healthz", headers: [("X-Request-ID", String(repeating: "x", count: 300))])
            #expect(hostile.header("X-Request-ID")?.count == 36)
            let onError = try await gateway.request(.GET, "/missing", headers: [("X-Request-ID", "err-1")])
            #expect(onError.header("X-Request-ID") == "err-1")
        }
    }

    @Test("CORS allows the frontend with credentials and never a wildcard")
    func cors() async throws {
        try await GatewayHarness.with(extraEnvironment: ["CORS_ALLOWED_ORIGINS": "https://admin.example"]) { gateway in
            let preflight = try await gateway.request(
                .OPTIONS, "/media",
                headers: [
                    ("Origin", GatewayHarness.frontendURL), ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "authorization, content-type"),
                ])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == GatewayHarness.frontendURL)
            #expect(preflight.header("Access-Control-Allow-Credentials") == "true")
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("PATCH") == true)
            #expect(preflight.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)

            let extra = try await gateway.request(.GET, "/healthz", headers: [("Origin", "https://admin.example")])
            #expect(extra.header("Access-Control-Allow-Origin") == "https://admin.example")

            let foreign = try await gateway.request(
                .OPTIONS, "/auth/me", headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")])
            #expect(foreign.status == 403)
            #expect(foreign.header("Access-Control-Allow-Origin") == nil)
            let foreignGet = try await gateway.request(.GET, "/healthz", headers: [("Origin", "https://evil.example")])
            #expect(foreignGet.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test("/metrics counts requests by route pattern and status")
    func metrics() async throws {
        try await GatewayHarness.with { gateway in
            _ = try await gateway.request(.GET, "/auth/me")
            _ = try await gateway.request(.GET, "/auth/me")
            _ = try await gateway.request(.GET, "/definitely/unknown/123")
            let metrics = try await gateway.request(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains(#"http_requests_total{method="GET",route="/auth/me",status="401"} 2"#))
            #expect(metrics.text.contains(#"route="unmatched",status="404""#))
            #expect(!metrics.text.contains("/definitely/unknown/123"), "raw paths never become labels")
            #expect(metrics.text.contains("http_request_duration_seconds_bucket"))
        }
    }

    @Test("with GATEWAY_SECRET, only health, metrics, share pages and their JSON are open")
    func gatewaySecret() async throws {
        let secret = "proxy-shared-secret-42"
        try await GatewayHarness.with(extraEnvironment: ["GATEWAY_SECRET": secret]) { gateway in
            #expect(try await gateway.request(.GET, "/healthz").status == 200)
            #expect(try await gateway.request(.GET, "/readyz").status == 200)
            let refused = try await gateway.request(.GET, "/auth/me")
            #expect(refused.status == 403)
            #expect(refused.json["code"] as? String == "permission_denied")
            #expect(try await gateway.request(.GET, "/metrics").status == 200, "Prometheus cannot send the header")
            // Share pages and their JSON are for link viewers: they reach the routes (an unknown link is a 404).
            #expect(try await gateway.request(.GET, "/s/some-link").status == 404)
            #expect(try await gateway.request(.GET, "/api/share/some-link").json["code"] as? String == "not_found")
            #expect(try await gateway.request(.GET, "/collection", headers: [("X-Gateway-Secret", "wrong")]).status == 403)
            #expect(try await gateway.request(.GET, "/media", headers: [("X-Gateway-Secret", "wrong")]).status == 403)
            let allowed = try await gateway.request(.GET, "/auth/me", headers: [("X-Gateway-Secret", secret)])
            #expect(allowed.status == 401, "passes the secret check and reaches authentication")
        }
    }

    @Test("JSON responses carry baseline security headers")
    func securityHeaders() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.request(.GET, "/auth/me")
            #expect(reply.header("X-Content-Type-Options") == "nosniff")
            #expect(reply.header("X-Frame-Options") == "DENY")
            #expect(reply.header("Referrer-Policy") == "no-referrer")
        }
    }
}
