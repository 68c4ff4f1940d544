import Foundation
import MediaVaultCore

/// Where the original's databases are: from its own infra config file, or from connection URLs.
public struct OriginalSources: Sendable {
    public private(set) var databases: [OriginalService: DatabaseConfiguration]

    public init(databases: [OriginalService: DatabaseConfiguration]) throws(ImportError) {
        for service in OriginalService.allCases where service.isRequired && databases[service] == nil {
            throw ImportError.configuration("no database given for the original's \(service.rawValue) service")
        }
        self.databases = databases
    }

    /// One database holding every table, or one URL per service (`auth`, `media`, `collection`, `processing`);
    /// a service without its own URL uses `all`.
    public init(all: String?, perService: [OriginalService: String]) throws(ImportError) {
        var databases: [OriginalService: DatabaseConfiguration] = [:]
        for service in OriginalService.allCases {
            if let url = perService[service] ?? all { databases[service] = try Self.parse(url: url) }
        }
        try self.init(databases: databases)
    }

    /// The original's infra JSON, `$env` references resolved from `environment`. A file naming one database means
    /// every table is in it; otherwise each service's database is the one whose key or name mentions the service.
    public init(infraJSON data: Data, environment: [String: String], fileName: String) throws(ImportError) {
        let named: [InfraDatabase]
        do {
            named = try InfraConfig.databases(fromJSON: data, environment: environment, fileName: fileName)
        } catch let error as ConfigurationError {
            throw ImportError.configuration(error.problems.joined(separator: "; "))
        } catch {
            throw ImportError.configuration("\(fileName): \(error)")
        }
        guard !named.isEmpty else { throw ImportError.configuration("\(fileName) names no SQL database") }
        var databases: [OriginalService: DatabaseConfiguration] = [:]
        for service in OriginalService.allCases {
            let match =
                named.count == 1
                ? named.first
                : named.first { Self.words($0.key).contains(service.rawValue) }
                    ?? named.first { Self.words($0.name).contains(service.rawValue) }
            guard let match else { continue }
            databases[service] = try Self.configuration(of: match, fileName: fileName)
        }
        try self.init(databases: databases)
    }

    /// `mediavault_media` → `mediavault`, `media`: whole words, because every one of the original's database names
    /// starts with "media".
    static func words(_ name: String) -> Set<String> {
        Set(name.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init))
    }

    static func configuration(of database: InfraDatabase, fileName: String) throws(ImportError)
        -> DatabaseConfiguration
    {
        guard let hostText = database.host, let (host, port) = CoreConfiguration.hostAndPort(hostText, defaultPort: 5432)
        else {
            throw ImportError.configuration("\(fileName): database \(database.key) has no usable server host")
        }
        guard let username = database.username else {
            throw ImportError.configuration("\(fileName): database \(database.key) has no username")
        }
        return DatabaseConfiguration(
            host: host, port: port, username: username, password: database.password, database: database.name,
            tls: database.tlsDisabled == false ? .require : .disable, maxConnections: 4)
    }

    /// `postgres://user:password@host:port/database?sslmode=disable|prefer|require` (also `postgresql://`).
    public static func parse(url text: String) throws(ImportError) -> DatabaseConfiguration {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw ImportError.configuration(
                "\(Self.redacted(text)) is not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        let database = components.path.split(separator: "/").first.map(String.init) ?? ""
        guard !database.isEmpty else {
            throw ImportError.configuration("\(Self.redacted(text)) names no database (…/database at the end)")
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: DatabaseConfiguration.TLSMode
        switch mode {
        case "disable", "allow": tls = .disable
        case "prefer": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        default: throw ImportError.configuration("\(Self.redacted(text)): sslmode \(mode) is not known")
        }
        return DatabaseConfiguration(
            host: host, port: components.port ?? 5432,
            username: components.percentEncodedUser?.removingPercentEncoding ?? "postgres",
            password: components.percentEncodedPassword?.removingPercentEncoding, database: database, tls: tls,
            maxConnections: 4)
    }

    /// The URL without its password, for messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "the URL"
    }
}

/// Why an import could not run. Problems with single records do not stop it; they are listed in the summary.
public enum ImportError: Error, Equatable, CustomStringConvertible {
    case configuration(String)
    case unreachable(service: OriginalService, database: String, reason: String)
    case unexpectedSchema([String])

    public var description: String {
        switch self {
        case .configuration(let message): return message
        case .unreachable(let service, let database, let reason):
            return "cannot reach the original's \(service.rawValue) database \(database): \(reason)"
        case .unexpectedSchema(let problems):
            return "the original's schema is not as expected:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
        }
    }
}
