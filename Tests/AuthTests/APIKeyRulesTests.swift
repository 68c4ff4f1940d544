import Foundation
import MediaVaultCore
import Testing

@testable import Auth

@Suite("API key rules: secrets and what a new key may ask for")
struct APIKeyRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func body(name: String = "script", scopes: [String] = ["media:read"], expiresAt: String? = nil) -> APIKeyRequest.Body {
        APIKeyRequest.Body(name: name, scopes: scopes, expiresAt: expiresAt)
    }

    @Test("secrets carry the prefix, 256 random bits, and are never the same twice")
    func secrets() {
        let keys = (0..<100).map { _ in APIKeySecret.generate() }
        #expect(Set(keys).count == 100)
        for key in keys {
            #expect(APIKeySecret.isWellFormed(key))
            #expect(key.count == 4 + 43)
            #expect(Base64URL.decode(String(key.dropFirst(4)))?.count == 32)
        }
        #expect(APIKeySecret.visiblePrefix(of: keys[0]).count == 10)
        #expect(APIKeySecret.hash(keys[0]) != APIKeySecret.hash(keys[1]))
    }

    @Test("malformed keys are recognised without a database lookup",
        arguments: ["", "mvk_", "mvk_abc", "MVK_" + String(repeating: "a", count: 43), "mvk_" + String(repeating: "a", count: 44),
            "mvk_" + String(repeating: "+", count: 43), "mvk_" + String(repeating: "é", count: 43)])
    func malformed(_ key: String) {
        #expect(!APIKeySecret.isWellFormed(key))
    }

    @Test("a valid request is trimmed and its scopes put in their canonical order")
    func valid() throws {
        let request = try APIKeyRequest(
            body(name: "  frame ", scopes: ["shares:write", "media:read"], expiresAt: "2030-01-01T00:00:00.500Z"), now: now)
        #expect(request.name == "frame")
        #expect(request.scopes == [.mediaRead, .sharesWrite])
        #expect(request.expiresAt == RFC3339.date(from: "2030-01-01T00:00:00.500Z"))
    }

    @Test("names, scopes and expiry outside the rules are refused with the field named",
        arguments: [
            (APIKeyRequest.Body(name: "", scopes: ["media:read"], expiresAt: nil), "name"),
            (APIKeyRequest.Body(name: String(repeating: "x", count: 101), scopes: ["media:read"], expiresAt: nil), "name"),
            (APIKeyRequest.Body(name: "tab\there", scopes: ["media:read"], expiresAt: nil), "name"),
            (APIKeyRequest.Body(name: "k", scopes: [], expiresAt: nil), "scopes"),
            (APIKeyRequest.Body(name: "k", scopes: ["media:*"], expiresAt: nil), "scopes"),
            (APIKeyRequest.Body(name: "k", scopes: ["MEDIA:READ"], expiresAt: nil), "scopes"),
            (APIKeyRequest.Body(name: "k", scopes: ["media:read", "media:read"], expiresAt: nil), "scopes"),
            (APIKeyRequest.Body(name: "k", scopes: ["media:read"], expiresAt: "2020-01-01T00:00:00Z"), "expires_at"),
            (APIKeyRequest.Body(name: "k", scopes: ["media:read"], expiresAt: "next week"), "expires_at"),
        ])
    func refused(_ body: APIKeyRequest.Body, field: String) {
        do {
            _ = try APIKeyRequest(body, now: now)
            Issue.record("accepted \(body)")
        } catch let error as AppError {
            #expect(error.code == .invalidArgument)
            #expect(error.details?["field"] == .string(field))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a 100-character name is the longest allowed")
    func longestName() throws {
        #expect(try APIKeyRequest(body(name: String(repeating: "x", count: 100)), now: now).name.count == 100)
    }
}
