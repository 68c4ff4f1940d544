import Foundation

/// One database an infra config names, with the server it lives on resolved and `$env` references filled in.
public struct InfraDatabase: Sendable, Equatable {
    /// The logical key: the service name (`auth`, `media`) or the key under `sql_servers[].databases`
    /// (`mediavault_auth`); for the older list shape, the database name.
    public let key: String
    /// The database name: the `name` field, else the key.
    public let name: String
    /// `host:port` of the server the database lives on; nil when the file does not say.
    public let host: String?
    public let username: String?
    public let password: String?
    /// That server's `tls_config.disabled`: nil without a `tls_config`, false when TLS is required.
    public let tlsDisabled: Bool?
    public let maxConnections: String?

    public init(
        key: String, name: String, host: String?, username: String?, password: String?, tlsDisabled: Bool?,
        maxConnections: String?
    ) {
        self.key = key
        self.name = name
        self.host = host
        self.username = username
        self.password = password
        self.tlsDisabled = tlsDisabled
        self.maxConnections = maxConnections
    }
}

/// Reads an Encore-style self-hosting infra config and maps it onto the environment names MediaVault reads.
///
/// Accepts the current format (`metadata`, `sql_servers[].databases`, `pubsub` of type `nsq`, `object_storage`
/// of type `s3` with `buckets`, `secrets`, `metrics`) and the original project's older shapes (`sql_databases` as a
/// list with `server_id` naming a server's `id`, or as an object keyed by service name with `server_id` an index
/// into `sql_servers`; `pubsub_topics`). Any string value may be `{"$env": "NAME"}`.
public enum InfraConfig {
    public static func settings(
        fromJSON data: Data,
        environment: [String: String],
        fileName: String = "infra config"
    ) throws -> [String: String] {
        try parse(fromJSON: data, environment: environment, fileName: fileName).settings
    }

    /// The settings the file gives, and notices worth a warning at start-up (one line each) — today only that the
    /// file names several databases and which one MediaVault uses.
    ///
    /// `environment` resolves `$env` references; when it sets `POSTGRES_DB`, that setting wins over the file anyway,
    /// so the database it names is the one chosen (and the notice says so).
    public static func parse(
        fromJSON data: Data,
        environment: [String: String],
        fileName: String = "infra config"
    ) throws -> (settings: [String: String], notices: [String]) {
        let root = try rootObject(data, fileName: fileName)
        var reader = Reader(environment: environment, fileName: fileName)
        var out: [String: String] = [:]
        reader.readMetadata(root, into: &out)
        reader.readSQL(root, into: &out)
        reader.readPubSub(root, into: &out)
        reader.readObjectStorage(root, into: &out)
        reader.readSecrets(root, into: &out)
        if !reader.problems.isEmpty { throw ConfigurationError(problems: reader.problems) }
        return (out, reader.notices)
    }

    /// Every database the file names, in a stable order (sorted by key), `$env` references resolved.
    public static func databases(
        fromJSON data: Data,
        environment: [String: String],
        fileName: String = "infra config"
    ) throws -> [InfraDatabase] {
        let root = try rootObject(data, fileName: fileName)
        var reader = Reader(environment: environment, fileName: fileName)
        let databases = reader.namedDatabases(root)
        if !reader.problems.isEmpty { throw ConfigurationError(problems: reader.problems) }
        return databases
    }

    /// The one database MediaVault uses when a file names several (MediaVault keeps all its data in one database,
    /// in its own schemas): the one named `explicitName` (an explicit `POSTGRES_DB`) if listed; else the one whose
    /// key or name has the word `media` — the original's biggest — else the first by key.
    public static func primaryDatabase(
        among databases: [InfraDatabase], preferring explicitName: String? = nil
    ) -> InfraDatabase? {
        if let explicitName, let named = databases.first(where: { $0.name == explicitName }) { return named }
        func hasWordMedia(_ text: String) -> Bool {
            // Whole words only: every database of the original is called `mediavault_…`.
            text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).contains("media")
        }
        return databases.first(where: { hasWordMedia($0.key) || hasWordMedia($0.name) }) ?? databases.first
    }

    private static func rootObject(_ data: Data, fileName: String) throws -> [String: Any] {
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ConfigurationError(problems: ["\(fileName): top level must be a JSON object"])
            }
            return object
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(problems: ["\(fileName): not valid JSON"])
        }
    }

    /// One line saying the file names several databases, which one MediaVault uses, and how to bring the rest over.
    private static func severalDatabasesNotice(
        databaseNames: [String], using chosen: String, fromPostgresDB: Bool, fileName: String
    ) -> String {
        let origin = fromPostgresDB ? " (set by \(CoreSettings.postgresDatabase.name))" : ""
        return "\(fileName) names \(databaseNames.count) databases (\(databaseNames.joined(separator: ", "))); "
            + "MediaVault keeps everything in one database and uses \(chosen)\(origin). "
            + "To bring the original's data over, run: mediavault import-original --infra-config \(shellWord(fileName))"
    }

    /// Quotes a path for the suggested command line only when it needs it, so the usual case reads plainly.
    private static func shellWord(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@%=,".contains($0) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `DiscordClientSecret` → `DISCORD_CLIENT_SECRET`; names already in that form are kept.
    public static func environmentName(forSecret name: String) -> String {
        if name == name.uppercased() { return name }
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            let previous = index > 0 ? characters[index - 1] : nil
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            let startsWord =
                character.isUppercase && previous != nil
                && (previous!.isLowercase || previous!.isNumber || (next?.isLowercase ?? false))
            if startsWord && !result.hasSuffix("_") { result += "_" }
            result += character == "-" || character == "." ? "_" : String(character).uppercased()
        }
        return result
    }

    private struct Reader {
        let environment: [String: String]
        let fileName: String
        var problems: [String] = []
        var notices: [String] = []
        /// Filled by `server(at:in:)`; not private, which would make the memberwise initializer private too.
        var resolvedServers: [Int: SQLServer] = [:]

        struct SQLServer {
            let host: String?
            let tlsDisabled: Bool?
        }

        /// Resolves a scalar or `{"$env": "NAME"}` to a string.
        mutating func string(_ value: Any?, at path: String) -> String? {
            switch value {
            case nil, is NSNull: return nil
            case let text as String: return text
            case let number as NSNumber:
                // Booleans come back as 1/0 here, which the boolean settings accept.
                return number.stringValue
            case let object as [String: Any]:
                guard let name = object["$env"] as? String else {
                    problems.append("\(fileName): \(path) must be a string or {\"$env\": \"NAME\"}")
                    return nil
                }
                guard let resolved = environment[name] else {
                    problems.append("\(fileName): \(path) refers to environment variable \(name), which is not set")
                    return nil
                }
                return resolved
            default:
                problems.append("\(fileName): \(path) has an unsupported value")
                return nil
            }
        }

        mutating func readMetadata(_ root: [String: Any], into out: inout [String: String]) {
            guard let metadata = root["metadata"] as? [String: Any] else { return }
            if let baseURL = string(metadata["base_url"], at: "metadata.base_url") { out["API_BASE_URL"] = baseURL }
        }

        mutating func readSQL(_ root: [String: Any], into out: inout [String: String]) {
            let databases = namedDatabases(root)
            let explicitName = environment[CoreSettings.postgresDatabase.name].flatMap { $0.isEmpty ? nil : $0 }
            guard let chosen = InfraConfig.primaryDatabase(among: databases, preferring: explicitName) else {
                // No database named: the first server still says where PostgreSQL runs.
                let servers = root["sql_servers"] as? [[String: Any]] ?? []
                guard !servers.isEmpty else { return }
                let first = server(at: 0, in: servers)
                write(first, into: &out)
                return
            }
            write(SQLServer(host: chosen.host, tlsDisabled: chosen.tlsDisabled), into: &out)
            out["POSTGRES_DB"] = chosen.name
            if let user = chosen.username { out["POSTGRES_USER"] = user }
            if let password = chosen.password { out["POSTGRES_PASSWORD"] = password }
            if let max = chosen.maxConnections { out["POSTGRES_MAX_CONNECTIONS"] = max }
            // Several services pointing at the same database are still one database.
            var seen = Set<String>()
            let distinct = databases.filter { seen.insert("\($0.host ?? "")/\($0.name)").inserted }
            if distinct.count > 1 {
                var names: [String] = []
                for database in distinct where !names.contains(database.name) { names.append(database.name) }
                notices.append(
                    InfraConfig.severalDatabasesNotice(
                        databaseNames: names, using: explicitName ?? chosen.name,
                        fromPostgresDB: explicitName != nil, fileName: fileName))
            }
        }

        private func write(_ server: SQLServer, into out: inout [String: String]) {
            if let host = server.host { out["POSTGRES_HOST"] = host }
            if let disabled = server.tlsDisabled { out["POSTGRES_TLS"] = disabled ? "disable" : "require" }
        }

        /// Every database of the file, sorted by key (then name and host, for keys the list shape repeats).
        mutating func namedDatabases(_ root: [String: Any]) -> [InfraDatabase] {
            let servers = root["sql_servers"] as? [[String: Any]] ?? []
            var found: [InfraDatabase] = []
            // Current shape: databases keyed by logical name inside the server they live on.
            for (index, server) in servers.enumerated() {
                guard let nested = server["databases"], !(nested is NSNull) else { continue }
                guard let databases = nested as? [String: Any] else {
                    problems.append("\(fileName): sql_servers[\(index)].databases must be an object keyed by database")
                    continue
                }
                for (key, value) in databases.sorted(by: { $0.key < $1.key }) {
                    let path = "sql_servers[\(index)].databases.\(key)"
                    guard let entry = object(value, at: path) else { continue }
                    found.append(database(entry, key: key, serverIndex: index, in: servers, path: path))
                }
            }
            switch root["sql_databases"] {
            case nil, is NSNull:
                break
            case let list as [Any]:
                // Older shape: a flat list pointing at servers by id.
                for (offset, value) in list.enumerated() {
                    let path = "sql_databases[\(offset)]"
                    guard let entry = object(value, at: path) else { continue }
                    let index = serverIndex(entry["server_id"], at: "\(path).server_id", in: servers)
                    found.append(database(entry, key: nil, serverIndex: index, in: servers, path: path))
                }
            case let keyed as [String: Any]:
                // The original project's shape: keyed by service name, `server_id` an index into `sql_servers`.
                for (key, value) in keyed.sorted(by: { $0.key < $1.key }) {
                    let path = "sql_databases.\(key)"
                    guard let entry = object(value, at: path) else { continue }
                    let index = serverIndex(entry["server_id"], at: "\(path).server_id", in: servers)
                    found.append(database(entry, key: key, serverIndex: index, in: servers, path: path))
                }
            default:
                problems.append("\(fileName): sql_databases must be a list or an object keyed by service name")
            }
            return found.sorted { ($0.key, $0.name, $0.host ?? "") < ($1.key, $1.name, $1.host ?? "") }
        }

        private mutating func object(_ value: Any, at path: String) -> [String: Any]? {
            guard let entry = value as? [String: Any] else {
                problems.append("\(fileName): \(path) must be an object")
                return nil
            }
            return entry
        }

        /// `key` is nil for the list shape, whose entries are known by their name.
        private mutating func database(
            _ entry: [String: Any], key: String?, serverIndex: Int?, in servers: [[String: Any]],
            path: String
        ) -> InfraDatabase {
            let name = string(entry["name"], at: "\(path).name")
            let key = key ?? name ?? "mediavault"
            var home: SQLServer?
            if let serverIndex { home = server(at: serverIndex, in: servers) }
            return InfraDatabase(
                key: key, name: name ?? key, host: home?.host,
                username: string(entry["username"], at: "\(path).username"),
                password: string(entry["password"], at: "\(path).password"),
                tlsDisabled: home?.tlsDisabled,
                maxConnections: string(entry["max_connections"], at: "\(path).max_connections"))
        }

        /// The entry of `sql_servers` a `server_id` names: a number is an index, a string matches a server's `id`;
        /// without one, the first server. Nil (with a problem, unless there is no server at all) when it names none.
        private mutating func serverIndex(_ serverID: Any?, at path: String, in servers: [[String: Any]]) -> Int? {
            switch serverID {
            case nil, is NSNull:
                return servers.isEmpty ? nil : 0
            case let id as String:
                if let index = servers.firstIndex(where: { ($0["id"] as? String) == id }) { return index }
                problems.append("\(fileName): \(path) \"\(id)\" names no entry of sql_servers")
                return nil
            case let number as NSNumber:
                let index = number.intValue
                if Double(index) == number.doubleValue, servers.indices.contains(index) { return index }
                problems.append("\(fileName): \(path) \(number.stringValue) names no entry of sql_servers")
                return nil
            default:
                problems.append("\(fileName): \(path) must be an index into sql_servers or a server's id")
                return nil
            }
        }

        /// Resolves a server once, however many databases live on it, so a problem with it is reported once.
        private mutating func server(at index: Int, in servers: [[String: Any]]) -> SQLServer {
            if let known = resolvedServers[index] { return known }
            let entry = servers[index]
            let host = string(entry["host"], at: "sql_servers[\(index)].host")
            // Encore: a tls_config that is not disabled means the connection must use TLS.
            let tlsDisabled = (entry["tls_config"] as? [String: Any]).map { ($0["disabled"] as? Bool) == true }
            let resolved = SQLServer(host: host, tlsDisabled: tlsDisabled)
            resolvedServers[index] = resolved
            return resolved
        }

        mutating func readPubSub(_ root: [String: Any], into out: inout [String: String]) {
            var entries = root["pubsub"] as? [[String: Any]] ?? []
            entries += root["pubsub_topics"] as? [[String: Any]] ?? []
            for (index, entry) in entries.enumerated() {
                if let type = entry["type"] as? String, type.lowercased() != "nsq" { continue }
                let path = "pubsub[\(index)].hosts"
                if let hosts = entry["hosts"] as? [Any] {
                    let resolved = hosts.enumerated().compactMap { string($0.element, at: "\(path)[\($0.offset)]") }
                    if !resolved.isEmpty { out["NSQ_HOSTS"] = resolved.joined(separator: ",") }
                } else if let hosts = string(entry["hosts"] ?? entry["host"], at: path) {
                    out["NSQ_HOSTS"] = hosts
                }
                if out["NSQ_HOSTS"] != nil { return }
            }
        }

        mutating func readObjectStorage(_ root: [String: Any], into out: inout [String: String]) {
            let entries = root["object_storage"] as? [[String: Any]] ?? []
            guard let (index, storage) = entries.enumerated().first(where: {
                (($0.element["type"] as? String) ?? "s3").lowercased() == "s3"
            }) else { return }
            let path = "object_storage[\(index)]"
            out["STORAGE_BACKEND"] = "s3"
            if var endpoint = string(storage["endpoint"], at: "\(path).endpoint") {
                if endpoint.hasPrefix("https://") {
                    out["S3_USE_SSL"] = "true"
                    endpoint.removeFirst("https://".count)
                } else if endpoint.hasPrefix("http://") {
                    out["S3_USE_SSL"] = "false"
                    endpoint.removeFirst("http://".count)
                }
                out["S3_ENDPOINT"] = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            }
            if let region = string(storage["region"], at: "\(path).region") { out["S3_REGION"] = region }
            if let key = string(storage["access_key_id"], at: "\(path).access_key_id") { out["S3_ACCESS_KEY"] = key }
            if let secret = string(storage["secret_access_key"], at: "\(path).secret_access_key") {
                out["S3_SECRET_KEY"] = secret
            }
            if let buckets = storage["buckets"] as? [String: Any],
                let (key, value) = buckets.sorted(by: { $0.key < $1.key }).first
            {
                let bucket = value as? [String: Any] ?? [:]
                out["S3_BUCKET"] = string(bucket["name"], at: "\(path).buckets.\(key).name") ?? key
                if let publicURL = string(bucket["public_base_url"], at: "\(path).buckets.\(key).public_base_url") {
                    out["S3_PUBLIC_ENDPOINT"] = publicURL
                }
            }
        }

        mutating func readSecrets(_ root: [String: Any], into out: inout [String: String]) {
            switch root["secrets"] {
            case let secrets as [String: Any] where secrets["$env"] == nil:
                for (name, value) in secrets.sorted(by: { $0.key < $1.key }) {
                    if let resolved = string(value, at: "secrets.\(name)") {
                        out[InfraConfig.environmentName(forSecret: name)] = resolved
                    }
                }
            case let reference as [String: Any]:
                // {"$env": "NAME"} naming a variable that holds a JSON object of secrets.
                guard let json = string(reference, at: "secrets"), let data = json.data(using: .utf8),
                    let secrets = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
                else {
                    problems.append("\(fileName): secrets must name a variable holding a JSON object")
                    return
                }
                for (name, value) in secrets {
                    if let text = string(value, at: "secrets.\(name)") {
                        out[InfraConfig.environmentName(forSecret: name)] = text
                    }
                }
            default:
                return
            }
        }
    }
}
