import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A Discord user as `/users/@me` returns it.
public struct DiscordUser: Codable, Sendable, Equatable {
    public let id: String
    public let username: String
    public let globalName: String?
    public let avatar: String?

    public init(id: String, username: String, globalName: String?, avatar: String?) {
        self.id = id
        self.username = username
        self.globalName = globalName
        self.avatar = avatar
    }

    enum CodingKeys: String, CodingKey {
        case id, username, avatar
        case globalName = "global_name"
    }
}

/// Why a Discord call failed, kept coarse: callers only redirect with an error code.
public struct DiscordError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case rejected, unavailable, malformedResponse }
    public let kind: Kind
    public let detail: String
    public var description: String { "Discord \(kind): \(detail)" }
}

/// Discord's OAuth2 and user endpoints, as closures so tests could swap one; the live value speaks HTTP.
public struct DiscordAPI: Sendable {
    public var exchangeCode: @Sendable (_ code: String) async throws -> String
    public var currentUser: @Sendable (_ accessToken: String) async throws -> DiscordUser
    public var currentUserGuildIDs: @Sendable (_ accessToken: String) async throws -> [String]

    public init(
        exchangeCode: @escaping @Sendable (String) async throws -> String,
        currentUser: @escaping @Sendable (String) async throws -> DiscordUser,
        currentUserGuildIDs: @escaping @Sendable (String) async throws -> [String]
    ) {
        self.exchangeCode = exchangeCode
        self.currentUser = currentUser
        self.currentUserGuildIDs = currentUserGuildIDs
    }

    /// Talks to `configuration.apiBaseURL` (Discord, or a fake in tests) with a bounded timeout per call.
    public static func live(
        configuration: AuthConfiguration.Discord, httpClient: HTTPClient
    ) -> DiscordAPI {
        let base = configuration.apiBaseURL
        let timeout = TimeAmount.seconds(Int64(configuration.timeoutSeconds))
        return DiscordAPI(
            exchangeCode: { code in
                var request = HTTPClientRequest(url: base + "/oauth2/token")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.headers.add(name: "Accept", value: "application/json")
                let form = FormEncoding.encode([
                    ("grant_type", "authorization_code"), ("code", code),
                    ("redirect_uri", configuration.redirectURI), ("client_id", configuration.clientID),
                    ("client_secret", configuration.clientSecret),
                ])
                request.body = .bytes(ByteBuffer(string: form))
                struct TokenResponse: Decodable {
                    let accessToken: String
                    enum CodingKeys: String, CodingKey { case accessToken = "access_token" }
                }
                let token: TokenResponse = try await send(request, httpClient: httpClient, timeout: timeout)
                return token.accessToken
            },
            currentUser: { accessToken in
                var request = HTTPClientRequest(url: base + "/users/@me")
                request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
                return try await send(request, httpClient: httpClient, timeout: timeout)
            },
            currentUserGuildIDs: { accessToken in
                var request = HTTPClientRequest(url: base + "/users/@me/guilds")
                request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
                struct Guild: Decodable { let id: String }
                let guilds: [Guild] = try await send(request, httpClient: httpClient, timeout: timeout)
                return guilds.map(\.id)
            }
        )
    }

    private static func send<Value: Decodable>(
        _ request: HTTPClientRequest, httpClient: HTTPClient, timeout: TimeAmount
    ) async throws -> Value {
        var request = request
        request.headers.add(name: "User-Agent", value: "MediaVault (self-hosted media vault, 1.0)")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw DiscordError(kind: .unavailable, detail: "\(error)")
        }
        switch response.status.code {
        case 200..<300:
            do {
                return try JSONDecoder().decode(Value.self, from: body)
            } catch {
                throw DiscordError(kind: .malformedResponse, detail: "unexpected response body")
            }
        case 400..<500:
            throw DiscordError(kind: .rejected, detail: "HTTP \(response.status.code)")
        default:
            throw DiscordError(kind: .unavailable, detail: "HTTP \(response.status.code)")
        }
    }
}

/// `application/x-www-form-urlencoded` and query-string encoding.
public enum FormEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    public static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}
