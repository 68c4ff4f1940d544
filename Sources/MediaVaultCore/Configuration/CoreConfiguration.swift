import Foundation
import Logging

/// Whether development conveniences (development sign-in) may be switched on.
public enum DeploymentEnvironment: String, Sendable {
    case production, development
}

/// PostgreSQL connection settings.
public struct DatabaseConfiguration: Sendable {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var maxConnections: Int

    public init(
        host: String, port: Int, username: String, password: String?, database: String,
        tls: TLSMode = .disable, maxConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maxConnections = maxConnections
    }
}

/// Logging settings.
public struct LoggingConfiguration: Sendable {
    public enum Format: String, Sendable { case json, text }
    public var level: Logger.Level
    public var format: Format

    public init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }
}

/// Settings every process reads.
public struct CoreConfiguration: Sendable {
    public var environment: DeploymentEnvironment
    public var logging: LoggingConfiguration
    public var database: DatabaseConfiguration

    public init(environment: DeploymentEnvironment, logging: LoggingConfiguration, database: DatabaseConfiguration) {
        self.environment = environment
        self.logging = logging
        self.database = database
    }

    public init(reading reader: ConfigReader) {
        environment = DeploymentEnvironment(
            rawValue: reader.oneOf(CoreSettings.environment, ["production", "development"])) ?? .production
        let levelText = reader.string(CoreSettings.logLevel).lowercased()
        let level = Logger.Level(rawValue: levelText) ?? {
            reader.fail(CoreSettings.logLevel, "must be one of trace, debug, info, notice, warning, error, critical")
            return .info
        }()
        let format = LoggingConfiguration.Format(rawValue: reader.oneOf(CoreSettings.logFormat, ["json", "text"]))
        logging = LoggingConfiguration(level: level, format: format ?? .text)

        let (host, port) = Self.hostAndPort(reader.string(CoreSettings.postgresHost), defaultPort: 5432) ?? {
            reader.fail(CoreSettings.postgresHost, "must be host or host:port")
            return ("", 0)
        }()
        database = DatabaseConfiguration(
            host: host,
            port: port,
            username: reader.required(CoreSettings.postgresUser),
            password: reader.optional(CoreSettings.postgresPassword),
            database: reader.required(CoreSettings.postgresDatabase),
            tls: .init(rawValue: reader.oneOf(CoreSettings.postgresTLS, ["disable", "prefer", "require"])) ?? .disable,
            maxConnections: reader.int(CoreSettings.postgresMaxConnections, range: 1...1000)
        )
    }

    /// Splits `host`, `host:port` and `[v6]:port`.
    public static func hostAndPort(_ text: String, defaultPort: Int) -> (String, Int)? {
        guard !text.isEmpty else { return nil }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, defaultPort) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (text, defaultPort)
        case 2:
            guard !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return (String(parts[0]), port)
        default: return nil
        }
    }
}
