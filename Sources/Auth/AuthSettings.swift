import MediaVaultCore

/// Settings read by the Auth module.
public enum AuthSettings {
    public static let discordClientID = Setting(
        "DISCORD_CLIENT_ID", "Discord application client ID", component: .gateway)
    public static let discordClientSecret = Setting(
        "DISCORD_CLIENT_SECRET", "Discord application client secret", secret: true, component: .gateway)
    public static let discordRedirectURI = Setting(
        "DISCORD_REDIRECT_URI", "OAuth redirect URI registered at Discord (default: API_BASE_URL/auth/discord/callback)",
        component: .gateway)
    public static let discordAPIBaseURL = Setting(
        "DISCORD_API_BASE_URL", "Discord API base URL (token and user endpoints)",
        default: "https://discord.com/api/v10", component: .gateway)
    public static let discordAuthorizeURL = Setting(
        "DISCORD_AUTHORIZE_URL", "Discord OAuth2 authorize page", default: "https://discord.com/oauth2/authorize",
        component: .gateway)
    public static let discordTimeoutSeconds = Setting(
        "DISCORD_TIMEOUT_SECONDS", "Timeout of each call to Discord during sign-in", default: "10", component: .gateway)
    public static let allowedUserIDs = Setting(
        "DISCORD_ALLOWED_USER_IDS", "Only these Discord user IDs may sign in (comma-separated; empty: anyone)",
        component: .gateway)
    public static let requiredGuildID = Setting(
        "DISCORD_REQUIRED_GUILD_ID", "Only members of this Discord server (guild) may sign in", component: .gateway)
    public static let sessionTTLHours = Setting(
        "SESSION_TTL_HOURS", "How long a session stays valid", default: "168", component: .gateway)
    public static let devLogin = Setting(
        "DEV_LOGIN", "Development sign-in without Discord; only allowed with MEDIAVAULT_ENV=development",
        default: "", component: .gateway)

    public static let all: [Setting] = [
        discordClientID, discordClientSecret, discordRedirectURI, discordAPIBaseURL, discordAuthorizeURL,
        discordTimeoutSeconds, allowedUserIDs, requiredGuildID, sessionTTLHours, devLogin,
    ]
}
