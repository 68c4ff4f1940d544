/// One configuration setting the code reads: its environment name, what it means and its default.
///
/// Every value the services read is declared as a `Setting`, so the configuration reference and
/// `.env.example` can be checked against the code.
public struct Setting: Sendable, Hashable {
    /// Environment variable name, e.g. `POSTGRES_HOST`.
    public let name: String
    /// One-line description for the configuration reference.
    public let summary: String
    /// Default used when the setting is absent; `nil` when there is none.
    public let defaultValue: String?
    /// Secret values are never logged nor echoed in error messages.
    public let isSecret: Bool
    /// Which part of the system reads it (gateway, worker or both), for the reference.
    public let component: Component

    public enum Component: String, Sendable, Hashable, CaseIterable {
        case shared, gateway, worker
    }

    public init(
        _ name: String,
        _ summary: String,
        default defaultValue: String? = nil,
        secret: Bool = false,
        component: Component = .shared
    ) {
        self.name = name
        self.summary = summary
        self.defaultValue = defaultValue
        self.isSecret = secret
        self.component = component
    }
}

/// A catalogue of settings, rendered as the Markdown configuration reference.
public struct SettingsCatalog: Sendable {
    public let settings: [Setting]

    public init(_ groups: [[Setting]]) {
        var seen = Set<String>()
        self.settings = groups.joined().filter { seen.insert($0.name).inserted }
    }

    /// Markdown table of every setting, in declaration order.
    public func markdownReference() -> String {
        var lines = [
            "| Variable | Component | Default | Description |",
            "|---|---|---|---|",
        ]
        for setting in settings {
            let defaultText = setting.defaultValue.map { $0.isEmpty ? "(empty)" : "`\($0)`" } ?? "—"
            let summary = setting.isSecret ? setting.summary + " (secret)" : setting.summary
            lines.append("| `\(setting.name)` | \(setting.component.rawValue) | \(defaultText) | \(summary) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
