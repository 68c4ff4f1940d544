import Foundation

/// Reads an Encore-style self-hosting infra config and maps it onto the environment names MediaVault reads.
///
/// Accepts the current format (`metadata`, `sql_servers[].databases`, `pubsub` of type `nsq`, `object_storage`
/// of type `s3` with `buckets`, `secrets`, `metrics`) and the original project's older shape (`sql_databases` with
/// `server_id`, `pubsub_topics`). Any string value may be `{"$env": "NAME"}`.
public enum InfraConfig {
    public static func settings(
        fromJSON data: Data,
        environment: [String: String],
        fileName: String = "infra config"
    ) throws -> [String: String] {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ConfigurationError(problems: ["\(fileName): top level must be a JSON object"])
            }
            root = object
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(problems: ["\(fileName): not valid JSON"])
        }
        var reader = Reader(environment: environment, fileName: fileName)
        var out: [String: String] = [:]
        reader.readMetadata(root, into: &out)
        reader.readSQL(root, into: &out)
        reader.readPubSub(root, into: &out)
        reader.readObjectStorage(root, into: &out)
        reader.readSecrets(root, into: &out)
        if !reader.problems.isEmpty { throw ConfigurationError(problems: reader.problems) }
        return out
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
            let servers = root["sql_servers"] as? [[String: Any]] ?? []
            guard let server = servers.first else { return }
            if let host = string(server["host"], at: "sql_servers[0].host") { out["POSTGRES_HOST"] = host }
            if let tls = server["tls_config"] as? [String: Any] {
                // Encore: a tls_config that is not disabled means the connection must use TLS.
                out["POSTGRES_TLS"] = (tls["disabled"] as? Bool) == true ? "disable" : "require"
            }
            // Current shape: databases keyed by logical name inside the server.
            if let databases = server["databases"] as? [String: Any], let (key, value) = databases.sorted(by: {
                $0.key < $1.key
            }).first, let database = value as? [String: Any] {
                readDatabase(database, logicalName: key, path: "sql_servers[0].databases.\(key)", into: &out)
            }
            // Older shape: a flat list pointing at servers by id.
            if let legacy = root["sql_databases"] as? [[String: Any]], let database = legacy.first {
                let serverID = database["server_id"] as? String
                if let serverID, let matching = servers.first(where: { ($0["id"] as? String) == serverID }),
                    let host = string(matching["host"], at: "sql_servers[id=\(serverID)].host")
                {
                    out["POSTGRES_HOST"] = host
                }
                let logical = (database["name"] as? String) ?? "mediavault"
                readDatabase(database, logicalName: logical, path: "sql_databases[0]", into: &out)
            }
        }

        private mutating func readDatabase(
            _ database: [String: Any],
            logicalName: String,
            path: String,
            into out: inout [String: String]
        ) {
            out["POSTGRES_DB"] = string(database["name"], at: "\(path).name") ?? logicalName
            if let user = string(database["username"], at: "\(path).username") { out["POSTGRES_USER"] = user }
            if let password = string(database["password"], at: "\(path).password") {
                out["POSTGRES_PASSWORD"] = password
            }
            if let max = string(database["max_connections"], at: "\(path).max_connections") {
                out["POSTGRES_MAX_CONNECTIONS"] = max
            }
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
