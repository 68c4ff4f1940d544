import Foundation

/// Typed reads of declared settings that collect every problem, so start-up can report them all at once.
///
/// Usage: read everything, then call `finish()`, which throws one `ConfigurationError` listing each bad setting.
public final class ConfigReader: @unchecked Sendable {
    // Only used during start-up from one task; @unchecked because problems are appended while reading.
    public let source: ConfigSource
    private(set) var problems: [String] = []

    public init(_ source: ConfigSource) {
        self.source = source
    }

    /// Raw value, falling back to the setting's default.
    public func optional(_ setting: Setting) -> String? {
        source.rawValue(setting.name) ?? setting.defaultValue.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A value that must be present (from a source or a default).
    public func required(_ setting: Setting, because reason: String? = nil) -> String {
        if let value = optional(setting) { return value }
        problems.append("\(setting.name) is required\(reason.map { " (\($0))" } ?? "") — \(setting.summary)")
        return ""
    }

    public func string(_ setting: Setting) -> String {
        optional(setting) ?? ""
    }

    public func bool(_ setting: Setting) -> Bool {
        guard let raw = optional(setting) else { return false }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problems.append("\(setting.name) must be true or false, got \(display(raw, for: setting))")
            return false
        }
    }

    public func int(_ setting: Setting, range: ClosedRange<Int>? = nil) -> Int {
        guard let raw = optional(setting) else { return 0 }
        guard let value = Int(raw) else {
            problems.append("\(setting.name) must be a whole number, got \(display(raw, for: setting))")
            return 0
        }
        if let range, !range.contains(value) {
            problems.append("\(setting.name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// Sizes accept plain bytes or a unit suffix: `512MiB`, `5GB`, `10k`.
    public func byteCount(_ setting: Setting) -> Int64? {
        guard let raw = optional(setting) else { return nil }
        guard let value = ByteCountParser.parse(raw) else {
            problems.append("\(setting.name) must be a size such as 5368709120, 512MiB or 5GiB, got \(raw)")
            return nil
        }
        return value
    }

    public func oneOf(_ setting: Setting, _ allowed: [String]) -> String {
        let value = optional(setting)?.lowercased() ?? ""
        if !allowed.contains(value) {
            problems.append("\(setting.name) must be one of \(allowed.joined(separator: ", ")), got \(value)")
        }
        return value
    }

    /// An absolute http(s) URL without a trailing slash.
    public func url(_ setting: Setting, required isRequired: Bool = true) -> URL? {
        guard let raw = isRequired ? nonEmpty(required(setting)) : optional(setting) else { return nil }
        let trimmed = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            problems.append("\(setting.name) must be an absolute http(s) URL, got \(display(raw, for: setting))")
            return nil
        }
        return url
    }

    /// Comma- or space-separated list.
    public func list(_ setting: Setting) -> [String] {
        (optional(setting) ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    /// Records a problem found by a caller's own validation.
    public func fail(_ setting: Setting, _ message: String) {
        problems.append("\(setting.name) \(message)")
    }

    /// Throws every collected problem at once.
    public func finish() throws {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }

    private func nonEmpty(_ value: String) -> String? { value.isEmpty ? nil : value }

    private func display(_ raw: String, for setting: Setting) -> String {
        setting.isSecret ? "(hidden)" : "\"\(raw)\""
    }
}

/// Parses human byte sizes: plain integers, or numbers with k/M/G/T (decimal) or KiB/MiB/GiB/TiB (binary).
public enum ByteCountParser {
    public static func parse(_ raw: String) -> Int64? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber }
        guard let number = Int64(digits) else { return nil }
        let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Int64] = [
            "": 1, "b": 1,
            "k": 1_000, "kb": 1_000, "kib": 1 << 10,
            "m": 1_000_000, "mb": 1_000_000, "mib": 1 << 20,
            "g": 1_000_000_000, "gb": 1_000_000_000, "gib": 1 << 30,
            "t": 1_000_000_000_000, "tb": 1_000_000_000_000, "tib": 1 << 40,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
