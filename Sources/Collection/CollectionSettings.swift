import Foundation
import MediaVaultCore

/// Settings read by the Collection module (share links and the public share page).
public enum CollectionSettings {
    public static let shareLinkDefaultExpiryDays = Setting(
        "SHARE_LINK_DEFAULT_EXPIRY_DAYS", "Expiry of new share links that do not name one (a link never expires only when asked)",
        default: "30", component: .gateway)
    public static let shareUnlockTTLSeconds = Setting(
        "SHARE_UNLOCK_TTL_SECONDS", "How long a viewer stays unlocked after entering a share link's password",
        default: "3600", component: .gateway)
    public static let sharePasswordAttemptsPerLink = Setting(
        "SHARE_PASSWORD_ATTEMPTS_PER_LINK", "Password attempts one share link accepts per window, from everyone",
        default: "30", component: .gateway)
    public static let sharePasswordAttemptsPerClient = Setting(
        "SHARE_PASSWORD_ATTEMPTS_PER_CLIENT", "Password attempts one client address may make per window, on any link",
        default: "10", component: .gateway)
    public static let sharePasswordWindowSeconds = Setting(
        "SHARE_PASSWORD_WINDOW_SECONDS", "Window of the share-password attempt limits", default: "900",
        component: .gateway)

    public static let all: [Setting] = [
        shareLinkDefaultExpiryDays, shareUnlockTTLSeconds, sharePasswordAttemptsPerLink,
        sharePasswordAttemptsPerClient, sharePasswordWindowSeconds,
    ]
}

/// The Collection module's validated configuration.
public struct CollectionConfiguration: Sendable {
    /// Public URL of the API: share links and pages are built on it.
    public var apiBaseURL: URL
    /// Key for the share-unlock cookies.
    public var signingSecret: String
    public var secureCookies: Bool
    public var defaultLinkExpiry: Duration
    public var unlockTTL: Duration
    /// Lifetime of the presigned stream, thumbnail and download URLs given to viewers.
    public var mediaURLTTL: Duration
    public var attemptsPerLink: Int
    public var attemptsPerClient: Int
    public var attemptWindow: Duration

    public init(
        apiBaseURL: URL, signingSecret: String, defaultLinkExpiry: Duration = .seconds(30 * 86400),
        unlockTTL: Duration = .seconds(3600), mediaURLTTL: Duration = .seconds(3600), attemptsPerLink: Int = 30,
        attemptsPerClient: Int = 10, attemptWindow: Duration = .seconds(900)
    ) {
        self.apiBaseURL = apiBaseURL
        self.signingSecret = signingSecret
        self.secureCookies = apiBaseURL.scheme?.lowercased() == "https"
        self.defaultLinkExpiry = defaultLinkExpiry
        self.unlockTTL = unlockTTL
        self.mediaURLTTL = mediaURLTTL
        self.attemptsPerLink = attemptsPerLink
        self.attemptsPerClient = attemptsPerClient
        self.attemptWindow = attemptWindow
    }

    public init(reading reader: ConfigReader, apiBaseURL: URL, signingSecret: String, mediaURLTTL: Duration) {
        self.init(
            apiBaseURL: apiBaseURL, signingSecret: signingSecret,
            defaultLinkExpiry: .seconds(reader.int(CollectionSettings.shareLinkDefaultExpiryDays, range: 1...3650) * 86400),
            unlockTTL: .seconds(reader.int(CollectionSettings.shareUnlockTTLSeconds, range: 60...604_800)),
            mediaURLTTL: mediaURLTTL,
            attemptsPerLink: reader.int(CollectionSettings.sharePasswordAttemptsPerLink, range: 1...100_000),
            attemptsPerClient: reader.int(CollectionSettings.sharePasswordAttemptsPerClient, range: 1...100_000),
            attemptWindow: .seconds(reader.int(CollectionSettings.sharePasswordWindowSeconds, range: 10...86400)))
    }
}
