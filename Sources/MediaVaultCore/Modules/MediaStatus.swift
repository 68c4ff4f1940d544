import PostgresNIO

/// Lifecycle states of a media item, as the API and the `media.items.status` column name them.
///
/// Bound and decoded by PostgresNIO as text through `RawRepresentable`; a stored value outside these cases is a decode
/// error, never silently a state. Not `Codable`: that would give PostgresNIO a second, JSON, way to bind it; JSON
/// responses write `rawValue`.
public enum MediaStatus: String, Sendable, CaseIterable, PostgresCodable {
    case uploading, queued, processing, ready, failed

    /// A confirmed upload: its bytes are complete and worth showing.
    public var isUploaded: Bool { self != .uploading }
}
