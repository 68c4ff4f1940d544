import AsyncHTTPClient
import Foundation
import NIOCore

/// A minimal HTTP client for tests that run a gateway without the full harness.
struct GatewayClient {
    let baseURL: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    struct Reply {
        let status: Int
        let json: [String: Any]
    }

    func get(_ path: String) async throws -> Reply {
        let response = try await http.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        return Reply(status: Int(response.status.code), json: json)
    }

    func status(_ path: String) async throws -> Int {
        try await get(path).status
    }

    func shutdown() async throws {
        try await http.shutdown()
    }
}
