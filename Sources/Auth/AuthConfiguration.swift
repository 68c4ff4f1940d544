import Foundation
import MediaVaultCore

/// Everything the Auth module needs to know, read and validated once at start-up.
public struct AuthConfiguration: Sendable {
    public struct Discord: Sendable {
        public var clientID: String
        public var clientSecret: String
        public var redirectURI: String
        public var apiBaseURL: String
        public var authorizeURL: String
        public var timeoutSeconds: Int

        public init(
            clientID: String, clientSecret: String, redirectURI: String, apiBaseURL: String, authorizeURL: String,
            timeoutSeconds: Int = 10
        ) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
            self.apiBaseURL = apiBaseURL
            self.authorizeURL = authorizeURL
            self.timeoutSeconds = timeoutSeconds
        }
    }

    /// `nil` when Discord is not configured (allowed in development only).
    public var discord: Discord?
    public var apiBaseURL: URL
    public var frontendURL: URL
    public var sessionSecret: String
    public var sessionTTL: TimeInterval
    public var allowedUserIDs: Set<String>
    public var requiredGuildID: String?
    public var devLoginEnabled: Bool

    /// Cookies get `Secure` when the API is served over https.
    public var secureCookies: Bool { apiBaseURL.scheme?.lowercased() == "https" }

    public init(
        discord: Discord?, apiBaseURL: URL, frontendURL: URL, sessionSecret: String, sessionTTL: TimeInterval = 7 * 86400,
        allowedUserIDs: Set<String> = [], requiredGuildID: String? = nil, devLoginEnabled: Bool = false
    ) {
        self.discord = discord
        self.apiBaseURL = apiBaseURL
        self.frontendURL = frontendURL
        self.sessionSecret = sessionSecret
        self.sessionTTL = sessionTTL
        self.allowedUserIDs = allowedUserIDs
        self.requiredGuildID = requiredGuildID
        self.devLoginEnabled = devLoginEnabled
    }

    public init(reading reader: ConfigReader, environment: DeploymentEnvironment, apiBaseURL: URL, frontendURL: URL) {
        self.apiBaseURL = apiBaseURL
        self.frontendURL = frontendURL
        let secret = reader.required(GatewaySettings.sessionSecret, because: "signs sessions and URLs")
        if !secret.isEmpty && secret.utf8.count < 32 {
            reader.fail(GatewaySettings.sessionSecret, "must be at least 32 characters (openssl rand -hex 32)")
        }
        sessionSecret = secret
        sessionTTL = TimeInterval(reader.int(AuthSettings.sessionTTLHours, range: 1...(24 * 365))) * 3600
        allowedUserIDs = Set(reader.list(AuthSettings.allowedUserIDs))
        requiredGuildID = reader.optional(AuthSettings.requiredGuildID)

        let devLoginRaw = reader.optional(AuthSettings.devLogin)
        let devLoginRequested = devLoginRaw == nil ? environment == .development : reader.bool(AuthSettings.devLogin)
        if devLoginRequested && environment != .development {
            reader.fail(AuthSettings.devLogin, "is only allowed with MEDIAVAULT_ENV=development")
        }
        devLoginEnabled = devLoginRequested && environment == .development

        let clientID = reader.optional(AuthSettings.discordClientID)
        let clientSecret = reader.optional(AuthSettings.discordClientSecret)
        if clientID == nil && clientSecret == nil && environment == .development {
            discord = nil
        } else {
            let reason = environment == .development ? "when Discord sign-in is configured" : "for Discord sign-in"
            let id = reader.required(AuthSettings.discordClientID, because: reason)
            let clientSecretValue = reader.required(AuthSettings.discordClientSecret, because: reason)
            let redirect =
                reader.url(AuthSettings.discordRedirectURI, required: false)?.absoluteString
                ?? apiBaseURL.absoluteString + "/auth/discord/callback"
            let apiBase = reader.url(AuthSettings.discordAPIBaseURL)?.absoluteString ?? ""
            let authorize = reader.url(AuthSettings.discordAuthorizeURL)?.absoluteString ?? ""
            discord = Discord(
                clientID: id, clientSecret: clientSecretValue, redirectURI: redirect, apiBaseURL: apiBase,
                authorizeURL: authorize, timeoutSeconds: reader.int(AuthSettings.discordTimeoutSeconds, range: 1...120))
        }
    }
}
