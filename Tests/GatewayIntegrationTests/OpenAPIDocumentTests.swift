import Foundation
import GatewayApp
import Logging
import MediaVaultCore
import Testing

/// The API description against the router: the same routes, each with the same access, and the served copy shaped
/// for the gateway serving it.
@Suite("OpenAPI document: matches the routes, their access and the deployment")
struct OpenAPIDocumentTests {
    /// One operation of the document, in the router's notation (which prints captures as `{name}`, like OpenAPI).
    struct DocumentedOperation: Hashable, CustomStringConvertible {
        let route: String
        let access: String
        var description: String { "\(route) [\(access)]" }
    }

    static func document() throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.repositoryCopy)) as? [String: Any])
    }

    static func operations(of document: [String: Any]) throws -> [(method: String, path: String, operation: [String: Any])] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations: [(String, String, [String: Any])] = []
        for (path, item) in paths {
            // A path item names its router path outright where OpenAPI cannot say it (`/storage/**`).
            let routerPath = item["x-mediavault-route"] as? String ?? path
            for (method, operation) in item where OpenAPIDocument.methods.contains(method) {
                operations.append((method.uppercased(), routerPath, try #require(operation as? [String: Any])))
            }
        }
        return operations
    }

    /// The access an operation's `security` expresses: none is open; sessions alone are account routes; an API key
    /// scheme lists the one scope it needs; an empty requirement beside them makes a credential optional.
    static func access(of operation: [String: Any]) -> String {
        guard var security = operation["security"] as? [[String: [String]]] else { return "missing security" }
        if security.isEmpty { return "open" }
        let optional = security.contains { $0.isEmpty }
        security.removeAll { $0.isEmpty }
        let schemes = Set(security.flatMap(\.keys))
        let keyScopes = Set(security.filter { $0.keys.contains("apiKey") || $0.keys.contains("apiKeyHeader") }
            .flatMap { $0.values.flatMap { $0 } })
        if schemes == ["session", "sessionCookie"] { return "account" }
        if schemes == ["session", "sessionCookie", "apiKey", "apiKeyHeader"], keyScopes.count == 1 {
            return optional ? "open or \(keyScopes.first!)" : keyScopes.first!
        }
        return "unclear security \(security)"
    }

    /// A configuration that turns on every optional route: development sign-in and the filesystem store.
    static func everythingConfiguration() throws -> GatewayConfiguration {
        try GatewayConfiguration(
            source: ConfigSource(environment: [
                "MEDIAVAULT_ENV": "development", "STORAGE_DIR": NSTemporaryDirectory() + "mv-routes-" + UUID().uuidString,
                "POSTGRES_HOST": "127.0.0.1:1", "SESSION_SECRET": GatewayHarness.sessionSecret,
                "API_BASE_URL": GatewayHarness.apiBaseURL, "FRONTEND_URL": GatewayHarness.frontendURL,
            ]))
    }

    @Test("every served route is declared, and the document describes exactly the declared routes and their access")
    func documentMatchesRoutes() async throws {
        let routes = try await gatewayRoutes(configuration: Self.everythingConfiguration(), logger: Logger(label: "routes"))
        let declared = Set(routes.declared.map { DocumentedOperation(route: "\($0.method.rawValue) \($0.path)", access: $0.access.description) })
        // A route registered around `AccessRouter` would have no declared access.
        #expect(Set(routes.served) == Set(declared.map(\.route)))
        #expect(routes.served.count == routes.declared.count, "a route is declared twice")

        let documented = Set(try Self.operations(of: Self.document()).map {
            DocumentedOperation(route: "\($0.method) \($0.path)", access: Self.access(of: $0.operation))
        })
        let undocumented = declared.subtracting(documented).sorted { $0.route < $1.route }
        let unserved = documented.subtracting(declared).sorted { $0.route < $1.route }
        #expect(undocumented.isEmpty, "served but not (or differently) documented: \(undocumented)")
        #expect(unserved.isEmpty, "documented but not (or differently) served: \(unserved)")
    }

    @Test("operations are named once, protected ones document 401 and 403, and every error names the envelope")
    func operationConventions() throws {
        let document = try Self.document()
        let operations = try Self.operations(of: document)
        let ids = operations.compactMap { $0.operation["operationId"] as? String }
        #expect(ids.count == operations.count && Set(ids).count == ids.count)
        for (method, path, operation) in operations {
            let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
            if Self.access(of: operation) != "open" && !Self.access(of: operation).hasPrefix("open or") {
                #expect(responses["401"] != nil && responses["403"] != nil, "\(method) \(path) lacks 401/403")
            }
            #expect(responses.keys.contains { $0.hasPrefix("2") || $0.hasPrefix("3") }, "\(method) \(path): no success")
        }
        let schemes = try #require((document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any])
        #expect(Set(schemes.keys).isSuperset(of: ["session", "sessionCookie", "apiKey", "apiKeyHeader"]))
        let scopeEnum = try #require(
            ((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?["ApiKeyScope"] as? [String: Any])
        #expect(Set(scopeEnum["enum"] as? [String] ?? []) == Set(APIScope.allCases.map(\.rawValue)))
    }

    @Test("/openapi.json names this gateway, leaves out routes it does not serve, and honours the gateway secret")
    func servedDocument() async throws {
        try await GatewayHarness.with(extraEnvironment: ["GATEWAY_SECRET": "gateway-secret-0123456789"]) { gateway in
            #expect(try await gateway.request(.GET, "/openapi.json").status == 403)
            let reply = try await gateway.request(
                .GET, "/openapi.json", headers: [("X-Gateway-Secret", "gateway-secret-0123456789")])
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "application/json")
            let servers = try #require(reply.json["servers"] as? [[String: Any]])
            #expect(servers.first?["url"] as? String == GatewayHarness.apiBaseURL)
            let paths = try #require(reply.json["paths"] as? [String: Any])
            // Production: no development sign-in; the harness stores files itself, so its storage routes are there.
            #expect(paths["/auth/dev/login"] == nil)
            #expect(paths.keys.contains { $0.hasPrefix("/storage/") })
            #expect(paths["/media/{id}"] != nil && paths["/auth/api-keys"] != nil)
        }
    }
}
