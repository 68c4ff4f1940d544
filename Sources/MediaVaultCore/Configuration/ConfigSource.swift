import Foundation

/// Where raw setting values come from, in precedence order: process environment, then a `.env` file,
/// then an Encore-style infra config file, then each setting's default.
public struct ConfigSource: Sendable {
    public let environment: [String: String]
    public let dotEnv: [String: String]
    public let infra: [String: String]
    /// Things about the sources worth a warning at start-up, one line each (e.g. an infra config naming several
    /// databases, of which MediaVault uses one).
    public let notices: [String]

    public init(
        environment: [String: String], dotEnv: [String: String] = [:], infra: [String: String] = [:],
        notices: [String] = []
    ) {
        self.environment = environment
        self.dotEnv = dotEnv
        self.infra = infra
        self.notices = notices
    }

    /// Loads the process environment, `.env` in the working directory (or `MEDIAVAULT_ENV_FILE`) and the
    /// infra config named by `MEDIAVAULT_INFRA_CONFIG`.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> ConfigSource {
        let envFilePath = environment[CoreSettings.envFile.name] ?? workingDirectory + "/.env"
        var dotEnv: [String: String] = [:]
        if let contents = try? String(contentsOfFile: envFilePath, encoding: .utf8) {
            dotEnv = try DotEnvParser.parse(contents, fileName: envFilePath)
        } else if environment[CoreSettings.envFile.name] != nil {
            throw ConfigurationError(problems: ["\(CoreSettings.envFile.name): cannot read file \(envFilePath)"])
        }
        let merged = dotEnv.merging(environment) { _, fromEnvironment in fromEnvironment }
        var infra: [String: String] = [:]
        var notices: [String] = []
        if let infraPath = merged[CoreSettings.infraConfig.name], !infraPath.isEmpty {
            guard let data = FileManager.default.contents(atPath: infraPath) else {
                throw ConfigurationError(problems: ["\(CoreSettings.infraConfig.name): cannot read file \(infraPath)"])
            }
            // `merged` also carries an explicit POSTGRES_DB, which wins over the file; the notice then names it.
            let parsed = try InfraConfig.parse(fromJSON: data, environment: merged, fileName: infraPath)
            infra = parsed.settings
            notices = parsed.notices
        }
        return ConfigSource(environment: environment, dotEnv: dotEnv, infra: infra, notices: notices)
    }

    /// The raw value of a setting, or `nil` when no source sets it. Empty strings count as unset.
    public func rawValue(_ name: String) -> String? {
        for source in [environment, dotEnv, infra] {
            if let value = source[name], !value.isEmpty { return value }
        }
        return nil
    }
}

/// Parses `.env` files: `KEY=value`, `export KEY=value`, comments, single or double quotes.
public enum DotEnvParser {
    public static func parse(_ contents: String, fileName: String = ".env") throws -> [String: String] {
        var values: [String: String] = [:]
        var problems: [String] = []
        for (index, rawLine) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)) }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append("\(fileName):\(index + 1): expected KEY=value")
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
                if first == "\"" { value = value.replacingOccurrences(of: "\\n", with: "\n") }
            } else if value.hasPrefix("#") {
                value = ""
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                problems.append("\(fileName):\(index + 1): invalid variable name")
                continue
            }
            values[key] = value
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return values
    }
}
