/// The name of an object inside a store, e.g. `media/2026/ümlaut ファイル.mp4`.
///
/// Keys are validated once, here, so that every backend can rely on them: a key is 1–1024 UTF-8 bytes of
/// `/`-separated components, none empty, `.` or `..`, with no leading `/`, no backslash and no control
/// characters. S3 would accept more, but these rules keep keys portable to the filesystem store, where a key
/// becomes a relative path and must never be able to leave the store's folder.
public struct ObjectKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The key exactly as stored (not percent-encoded).
    public let rawValue: String

    /// The longest key S3 accepts, in UTF-8 bytes.
    public static let maximumUTF8Length = 1024

    /// Validates `rawValue`; throws ``ObjectStorageError/invalidKey`` when it breaks the rules above.
    public init(_ rawValue: String) throws(ObjectStorageError) {
        if let problem = Self.problem(in: rawValue) {
            throw ObjectStorageError(.invalidKey, "invalid object key \(String(reflecting: rawValue)): \(problem)")
        }
        self.rawValue = rawValue
    }

    /// The `/`-separated components of the key.
    public var components: [Substring] {
        rawValue.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// The last component, e.g. `clip.mp4` for `media/clip.mp4`.
    public var lastComponent: Substring {
        components.last ?? Substring(rawValue)
    }

    public var description: String { rawValue }

    /// Orders keys by their raw string, as S3 lists them.
    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Why `candidate` is not a valid key, or nil when it is.
    static func problem(in candidate: String) -> String? {
        if candidate.isEmpty { return "it is empty" }
        if candidate.utf8.count > maximumUTF8Length { return "it is longer than \(maximumUTF8Length) UTF-8 bytes" }
        if candidate.hasPrefix("/") { return "it starts with '/' (absolute path)" }
        for scalar in candidate.unicodeScalars {
            if scalar == "\\" { return "it contains a backslash" }
            if scalar.value < 0x20 || scalar.value == 0x7F { return "it contains a control character" }
        }
        for component in candidate.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "it has an empty path component" }
            if component == "." || component == ".." { return "it has a '\(component)' path component" }
        }
        return nil
    }
}
