import Foundation
import MediaVaultCore
import PostgresNIO

// The job table's statements on hot paths (a media's job status; a worker's claim and heartbeat), run as named
// prepared statements: parsed and planned once per connection.

/// The newest job of a media, if the user owns it.
struct LatestJobStatement: PostgresPreparedStatement {
    static let name = "processing.latest_job"
    static let sql = """
        SELECT id, media_id, status, attempts, max_attempts, progress::float8, error_message, updated_at
        FROM processing.jobs WHERE media_id = $1 AND owner_id = $2
        ORDER BY created_at DESC LIMIT 1
        """
    typealias Row = JobStatusRecord

    let mediaID: UUID
    let ownerID: UUID

    func makeBindings() throws -> PostgresBindings { PostgresBindings(mediaID, ownerID) }

    func decodeRow(_ row: PostgresRow) throws -> JobStatusRecord {
        let cells = try row.decode((UUID, UUID, JobStatus, Int, Int, Double, String?, Date).self)
        return JobStatusRecord(
            jobID: cells.0, mediaID: cells.1, status: cells.2, attempts: cells.3, maxAttempts: cells.4,
            progress: cells.5, errorMessage: cells.6, updatedAt: cells.7)
    }
}

/// Decodes `JobRepository.claimedColumns`.
private func claimedJob(_ row: PostgresRow) throws -> ClaimedJob {
    let cells = try row.decode(
        (UUID, UUID, UUID, String, String, String, String, String, String, Int, Int, String, ByteBuffer?).self)
    return ClaimedJob(
        id: cells.0, mediaID: cells.1, ownerID: cells.2, objectKey: cells.3, mimeType: cells.4,
        outputs: ProcessingOutputKeys(processed: cells.5, compatibility: cells.6, thumbnail: cells.7, preview: cells.8),
        attempt: cells.9, maxAttempts: cells.10, workerID: cells.11,
        originalSHA256: cells.12.map { Array($0.readableBytesView) })
}

/// Claims a specific queued job (NSQ delivery).
struct ClaimJobStatement: PostgresPreparedStatement {
    static let name = "processing.claim"
    static let sql = """
        UPDATE processing.jobs SET status = '\(JobStatus.processing.rawValue)', attempts = attempts + 1,
            worker_id = $2, heartbeat_at = now(), started_at = now(), updated_at = now(), progress = 0
        WHERE id = $1 AND status = '\(JobStatus.queued.rawValue)'
        RETURNING \(JobRepository.claimedColumns)
        """
    typealias Row = ClaimedJob

    let jobID: UUID
    let workerID: String

    func makeBindings() throws -> PostgresBindings { PostgresBindings(jobID, workerID) }

    func decodeRow(_ row: PostgresRow) throws -> ClaimedJob { try claimedJob(row) }
}

/// Claims the next due job (PostgreSQL queue); concurrent workers skip each other's rows. The status stays a
/// literal so the planner can use the partial index on queued jobs.
struct ClaimNextJobStatement: PostgresPreparedStatement {
    static let name = "processing.claim_next"
    static let sql = """
        UPDATE processing.jobs SET status = '\(JobStatus.processing.rawValue)', attempts = attempts + 1,
            worker_id = $1, heartbeat_at = now(), started_at = now(), updated_at = now(), progress = 0
        WHERE id = (
            SELECT id FROM processing.jobs WHERE status = '\(JobStatus.queued.rawValue)' AND available_at <= now()
            ORDER BY available_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING \(JobRepository.claimedColumns)
        """
    typealias Row = ClaimedJob

    let workerID: String

    func makeBindings() throws -> PostgresBindings { PostgresBindings(workerID) }

    func decodeRow(_ row: PostgresRow) throws -> ClaimedJob { try claimedJob(row) }
}

/// Records liveness and progress while the worker still holds the job.
struct JobHeartbeatStatement: PostgresPreparedStatement {
    static let name = "processing.heartbeat"
    static let sql = """
        UPDATE processing.jobs SET heartbeat_at = now(), progress = $3, updated_at = now()
        WHERE id = $1 AND worker_id = $2 AND status = '\(JobStatus.processing.rawValue)'
        RETURNING id
        """
    typealias Row = UUID

    let jobID: UUID
    let workerID: String
    let progress: Float

    func makeBindings() throws -> PostgresBindings { PostgresBindings(jobID, workerID, progress) }

    func decodeRow(_ row: PostgresRow) throws -> UUID { try row.decode(UUID.self) }
}
