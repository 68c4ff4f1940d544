import Foundation
import Logging

/// Structured log output: one JSON object per line, or a readable text line. Bootstrapped once by executables.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LoggingConfiguration.Format

    public init(label: String, level: Logger.Level, format: LoggingConfiguration.Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    /// Installs the handler for the whole process.
    public static func bootstrap(_ configuration: LoggingConfiguration) {
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, level: configuration.level, format: configuration.format)
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line: String
        switch format {
        case .json:
            line = Self.jsonLine(level: event.level, message: "\(event.message)", label: label, metadata: merged)
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(RFC3339.string(from: Date())) \(event.level.rawValue.uppercased()) \(label): \(event.message)"
                + (fields.isEmpty ? "" : " " + fields)
        }
        LogOutput.shared.write(line + "\n")
    }

    static func jsonLine(level: Logger.Level, message: String, label: String, metadata: Logger.Metadata) -> String {
        var object: [String: Any] = [
            "ts": RFC3339.string(from: Date()), "level": level.rawValue, "logger": label, "msg": message,
        ]
        for (key, value) in metadata where object[key] == nil { object[key] = Self.plain(value) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return #"{"level":"error","msg":"unencodable log event"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(plain)
        case .dictionary(let values): return values.mapValues(plain)
        }
    }
}

/// Serialises writes so concurrent log lines never interleave.
final class LogOutput: @unchecked Sendable {
    static let shared = LogOutput()
    private let lock = NSLock()

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
