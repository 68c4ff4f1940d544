import MediaVaultCore
import PostgresNIO

/// States of a row in `processing.jobs`. Bound and decoded as text; an unknown stored value is a decode error.
public enum JobStatus: String, Sendable, CaseIterable, PostgresCodable {
    case queued, processing, completed, failed

    /// The same state in the media vocabulary of the API (`completed` is `ready` there).
    public var mediaStatus: MediaStatus {
        switch self {
        case .queued: return .queued
        case .processing: return .processing
        case .completed: return .ready
        case .failed: return .failed
        }
    }
}
