import Auth
import Collection
import Foundation
import Media
import MediaVaultCore
import Processing
import StorageService

/// Every setting the gateway reads, validated together so start-up reports all problems at once.
public struct GatewayConfiguration: Sendable {
    public var core: CoreConfiguration
    public var host: String
    public var port: Int
    public var apiBaseURL: URL
    public var frontendURL: URL
    public var corsAllowedOrigins: [String]
    public var maxRequestBodyBytes: Int
    public var gatewaySecret: String?
    public var autoMigrate: Bool
    public var auth: AuthConfiguration
    public var storage: StorageConfiguration
    public var media: MediaConfiguration
    public var collections: CollectionConfiguration
    /// Reverse proxies whose `X-Forwarded-For` entries are believed.
    public var trustedProxyCount: Int
    public var processing: ProcessingConfiguration
    public var janitorInterval: Duration
    /// Warnings about the configuration sources, logged once at start-up (see `ConfigSource.notices`).
    public var notices: [String]

    /// Every setting of the gateway and the worker, for the configuration reference and `.env.example`.
    public static let catalog = SettingsCatalog([
        CoreSettings.all, GatewaySettings.all, AuthSettings.all, StorageSettings.all, MediaSettings.all,
        CollectionSettings.all, ProcessingSettings.all,
    ])

    public init(source: ConfigSource) throws {
        let reader = ConfigReader(source)
        core = CoreConfiguration(reading: reader)
        host = reader.string(GatewaySettings.httpHost)
        port = reader.int(GatewaySettings.httpPort, range: 0...65535)
        let production = core.environment == .production
        let fallbackURL = URL(string: "http://localhost")!
        apiBaseURL = reader.url(GatewaySettings.apiBaseURL) ?? fallbackURL
        frontendURL = reader.url(GatewaySettings.frontendURL) ?? fallbackURL
        if production {
            // Defaults point at localhost; a production deployment must say where it lives.
            for setting in [GatewaySettings.apiBaseURL, GatewaySettings.frontendURL]
            where source.rawValue(setting.name) == nil {
                reader.fail(setting, "is required in production — \(setting.summary)")
            }
        }
        var origins = [frontendURL.origin]
        for origin in reader.list(GatewaySettings.corsAllowedOrigins) {
            if origin == "*" {
                reader.fail(GatewaySettings.corsAllowedOrigins, "must list origins; a wildcard cannot carry credentials")
            } else if let url = URL(string: origin), url.scheme != nil, url.host != nil {
                origins.append(url.origin)
            } else {
                reader.fail(GatewaySettings.corsAllowedOrigins, "has an invalid origin \"\(origin)\"")
            }
        }
        corsAllowedOrigins = origins
        let maxBody = reader.byteCount(GatewaySettings.maxRequestBodyBytes) ?? (1 << 20)
        if maxBody < 1024 || maxBody > 64 << 20 {
            reader.fail(GatewaySettings.maxRequestBodyBytes, "must be between 1KiB and 64MiB")
        }
        maxRequestBodyBytes = Int(maxBody)
        gatewaySecret = reader.optional(GatewaySettings.gatewaySecret)
        if let secret = gatewaySecret, secret.utf8.count < 16 {
            reader.fail(GatewaySettings.gatewaySecret, "must be at least 16 characters when set")
        }
        autoMigrate = reader.bool(GatewaySettings.autoMigrate)
        auth = AuthConfiguration(
            reading: reader, environment: core.environment, apiBaseURL: apiBaseURL, frontendURL: frontendURL)
        storage = StorageConfiguration(reading: reader)
        media = MediaConfiguration(reading: reader)
        collections = CollectionConfiguration(
            reading: reader, apiBaseURL: apiBaseURL, signingSecret: auth.sessionSecret, mediaURLTTL: media.streamURLTTL)
        trustedProxyCount = reader.int(GatewaySettings.trustedProxyCount, range: 0...10)
        processing = ProcessingConfiguration(reading: reader)
        janitorInterval = .seconds(reader.int(GatewaySettings.janitorIntervalSeconds, range: 1...86400))
        notices = source.notices
        try reader.finish()
    }
}
