import AsyncHTTPClient
import Foundation
import Hummingbird
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
                let form = try URLEncodedFormEncoder().encodeForm(
                    DiscordTokenRequest(
                        grantType: "authorization_code", code: code, redirectURI: configuration.redirectURI,
                        clientID: configuration.clientID, clientSecret: configuration.clientSecret))
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

/// The form Discord's token endpoint takes to exchange an authorization code.
struct DiscordTokenRequest: Encodable {
    let grantType: String
    let code: String
    let redirectURI: String
    let clientID: String
    let clientSecret: String

    enum CodingKeys: String, CodingKey {
        case code
        case grantType = "grant_type"
        case redirectURI = "redirect_uri"
        case clientID = "client_id"
        case clientSecret = "client_secret"
    }
}

extension URLEncodedFormEncoder {
    /// `value` as an `application/x-www-form-urlencoded` body or query string.
    ///
    /// The encoder percent-encodes everything a query component may not hold as is, `&`, `=`, `#` and `%` included,
    /// and writes spaces as `%20`, but it leaves `+` alone, which form decoders (Hummingbird's own included) read
    /// as a space. Every `+` in its output therefore comes from a value, and escaping it keeps the value intact.
    /// Field order is unspecified. Keys are written unescaped, so they must be plain names.
    func encodeForm(_ value: some Encodable) throws -> String {
        try self.encode(value).replacingOccurrences(of: "+", with: "%2B")
    }
}
