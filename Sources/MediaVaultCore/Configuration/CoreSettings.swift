/// Settings shared by the gateway and the worker.
public enum CoreSettings {
    public static let environment = Setting(
        "MEDIAVAULT_ENV", "`production` or `development` (enables the development sign-in)", default: "production")
    public static let envFile = Setting("MEDIAVAULT_ENV_FILE", "Path of a .env file to read", default: ".env")
    public static let infraConfig = Setting(
        "MEDIAVAULT_INFRA_CONFIG", "Path of an Encore-style infra config JSON (`infra/*.infra.json`)")
    public static let logLevel = Setting(
        "LOG_LEVEL", "trace, debug, info, notice, warning, error or critical", default: "info")
    public static let logFormat = Setting("LOG_FORMAT", "`json` or `text`", default: "text")

    public static let postgresHost = Setting("POSTGRES_HOST", "PostgreSQL host:port", default: "127.0.0.1:5432")
    public static let postgresUser = Setting("POSTGRES_USER", "PostgreSQL user", default: "mediavault")
    public static let postgresPassword = Setting("POSTGRES_PASSWORD", "PostgreSQL password", secret: true)
    public static let postgresDatabase = Setting("POSTGRES_DB", "PostgreSQL database name", default: "mediavault")
    public static let postgresTLS = Setting(
        "POSTGRES_TLS", "`disable`, `prefer` or `require` TLS to PostgreSQL", default: "disable")
    public static let postgresMaxConnections = Setting(
        "POSTGRES_MAX_CONNECTIONS", "Connections in the pool per process", default: "20")

    public static let all: [Setting] = [
        environment, envFile, infraConfig, logLevel, logFormat,
        postgresHost, postgresUser, postgresPassword, postgresDatabase, postgresTLS, postgresMaxConnections,
    ]
}

/// Gateway-wide HTTP settings.
public enum GatewaySettings {
    public static let httpHost = Setting(
        "HTTP_HOST", "Address the gateway listens on", default: "0.0.0.0", component: .gateway)
    public static let httpPort = Setting("HTTP_PORT", "Port the gateway listens on", default: "4000", component: .gateway)
    public static let apiBaseURL = Setting(
        "API_BASE_URL", "Public URL of this API (OAuth redirect, signed URLs, cookies)",
        default: "http://localhost:4000", component: .gateway)
    public static let frontendURL = Setting(
        "FRONTEND_URL", "Web frontend URL (sign-in redirect target, CORS origin)",
        default: "http://localhost:3000", component: .gateway)
    public static let corsAllowedOrigins = Setting(
        "CORS_ALLOWED_ORIGINS", "Extra origins allowed by CORS, comma-separated", component: .gateway)
    public static let sessionSecret = Setting(
        "SESSION_SECRET", "Key for signed cookies and URLs; at least 32 characters (openssl rand -hex 32)",
        secret: true, component: .gateway)
    public static let maxRequestBodyBytes = Setting(
        "MAX_REQUEST_BODY_BYTES", "Largest JSON request body accepted", default: "1MiB", component: .gateway)
    public static let gatewaySecret = Setting(
        "GATEWAY_SECRET", "When set, every route but health and share pages requires X-Gateway-Secret",
        secret: true, component: .gateway)
    public static let autoMigrate = Setting(
        "MEDIAVAULT_AUTO_MIGRATE", "Apply database migrations when `serve` starts", default: "true",
        component: .gateway)

    public static let trustedProxyCount = Setting(
        "TRUSTED_PROXY_COUNT",
        "Reverse proxies in front of the gateway; the client address is read from X-Forwarded-For that many hops back",
        default: "0", component: .gateway)

    public static let janitorIntervalSeconds = Setting(
        "JANITOR_INTERVAL_SECONDS", "How often abandoned uploads and pending object deletions are swept",
        default: "60", component: .gateway)

    public static let all: [Setting] = [
        httpHost, httpPort, apiBaseURL, frontendURL, corsAllowedOrigins, sessionSecret, maxRequestBodyBytes,
        gatewaySecret, autoMigrate, trustedProxyCount, janitorIntervalSeconds,
    ]
}
