import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// The NSQ topic jobs are published on and the channel workers consume.
public enum ProcessingTopic {
    public static let mediaUploaded = "media-uploaded"
    public static let workerChannel = "processing-worker"
}

/// A job as the status endpoint shows it.
public struct JobStatusRecord: Sendable {
    public let jobID: UUID
    public let mediaID: UUID
    public let status: JobStatus
    public let attempts: Int
    public let maxAttempts: Int
    public let progress: Double
    public let errorMessage: String?
    public let updatedAt: Date
}

/// SQL of the Processing module.
public struct JobRepository: Sendable, ProcessingScheduler {
    let database: Database
    let maxAttempts: Int

    public init(database: Database, maxAttempts: Int = 5) {
        self.database = database
        self.maxAttempts = maxAttempts
    }

    /// Inserts the job and its outbox message on the caller's transaction.
    public func scheduleProcessing(_ request: ProcessingRequest, on connection: PostgresConnection) async throws {
        let jobID = UUID()
        try await connection.query(
            """
            INSERT INTO processing.jobs (id, media_id, owner_id, object_key, mime_type, max_attempts, processed_key,
                                         compatibility_key, thumbnail_key, preview_key, original_sha256)
            VALUES (\(jobID), \(request.mediaID), \(request.ownerID), \(request.objectKey), \(request.mimeType),
                    \(maxAttempts), \(request.outputs.processed), \(request.outputs.compatibility),
                    \(request.outputs.thumbnail), \(request.outputs.preview), \(request.originalSHA256.map { Data($0) }))
            """, logger: database.logger)
        try await enqueueMessage(
            JobMessage(jobID: jobID, mediaID: request.mediaID, objectKey: request.objectKey, outputs: request.outputs),
            on: connection)
    }

    /// Jobs and outbox messages for many media in two statements, in the order given. Used by the import, whose
    /// media carry no declared checksum, so the column stays empty.
    public func scheduleProcessing(_ requests: [ProcessingRequest], on connection: PostgresConnection) async throws {
        guard !requests.isEmpty else { return }
        let jobIDs = requests.map { _ in UUID() }
        try await connection.query(
            """
            INSERT INTO processing.jobs (id, media_id, owner_id, object_key, mime_type, max_attempts, processed_key,
                                         compatibility_key, thumbnail_key, preview_key)
            SELECT j.id, j.media_id, j.owner_id, j.object_key, j.mime_type, \(maxAttempts), j.processed_key,
                   j.compatibility_key, j.thumbnail_key, j.preview_key
            FROM unnest(\(jobIDs)::uuid[], \(requests.map(\.mediaID))::uuid[], \(requests.map(\.ownerID))::uuid[],
                        \(requests.map(\.objectKey))::text[], \(requests.map(\.mimeType))::text[],
                        \(requests.map(\.outputs.processed))::text[], \(requests.map(\.outputs.compatibility))::text[],
                        \(requests.map(\.outputs.thumbnail))::text[], \(requests.map(\.outputs.preview))::text[])
                 AS j (id, media_id, owner_id, object_key, mime_type, processed_key, compatibility_key, thumbnail_key,
                       preview_key)
            """, logger: database.logger)
        let payloads = zip(jobIDs, requests).map { jobID, request in
            String(
                decoding: JobMessage(
                    jobID: jobID, mediaID: request.mediaID, objectKey: request.objectKey, outputs: request.outputs
                ).encoded(), as: UTF8.self)
        }
        try await connection.query(
            """
            INSERT INTO processing.outbox (topic, payload)
            SELECT \(ProcessingTopic.mediaUploaded), p::jsonb FROM unnest(\(payloads)::text[]) WITH ORDINALITY AS u (p, n)
            ORDER BY n
            """, logger: database.logger)
    }

    /// The job's outbox row: the relay publishes it to NSQ after this transaction commits.
    func enqueueMessage(_ message: JobMessage, on connection: PostgresConnection) async throws {
        let payload = String(decoding: message.encoded(), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO processing.outbox (topic, payload)
            VALUES (\(ProcessingTopic.mediaUploaded), \(payload)::jsonb)
            """, logger: database.logger)
    }

    /// The newest job of a media, if the user owns it.
    public func latestJob(mediaID: UUID, ownerID: UUID) async throws -> JobStatusRecord? {
        for try await job in try await database.client.execute(
            LatestJobStatement(mediaID: mediaID, ownerID: ownerID), logger: database.logger)
        {
            return job
        }
        return nil
    }
}

/// A job a worker has claimed.
public struct ClaimedJob: Sendable, Equatable {
    public let id: UUID
    public let mediaID: UUID
    public let ownerID: UUID
    public let objectKey: String
    public let mimeType: String
    public let outputs: ProcessingOutputKeys
    public let attempt: Int
    public let maxAttempts: Int
    /// The worker that holds the claim; results of a worker whose claim was taken back are not recorded.
    public let workerID: String
    /// What the original's SHA-256 must be, when the uploader declared it.
    public let originalSHA256: [UInt8]?

    public init(
        id: UUID, mediaID: UUID, ownerID: UUID, objectKey: String, mimeType: String, outputs: ProcessingOutputKeys,
        attempt: Int, maxAttempts: Int, workerID: String, originalSHA256: [UInt8]? = nil
    ) {
        self.originalSHA256 = originalSHA256
        self.workerID = workerID
        self.id = id
        self.mediaID = mediaID
        self.ownerID = ownerID
        self.objectKey = objectKey
        self.mimeType = mimeType
        self.outputs = outputs
        self.attempt = attempt
        self.maxAttempts = maxAttempts
    }

    /// Whether this attempt is the job's last one.
    public var isLastAttempt: Bool { attempt >= maxAttempts }
}

/// The worker's side of the job table: claim, heartbeat, finish, retry, fail; and the relay's outbox.
extension JobRepository {
    static let claimedColumns =
        """
        id, media_id, owner_id, object_key, mime_type, processed_key, compatibility_key, thumbnail_key, preview_key,
        attempts, max_attempts, worker_id, original_sha256
        """

    /// Claims a specific job (NSQ delivery). `nil` when it is done, failed, or already being worked on: a duplicate.
    public func claim(jobID: UUID, workerID: String, on connection: PostgresConnection) async throws -> ClaimedJob? {
        for try await job in try await connection.execute(
            ClaimJobStatement(jobID: jobID, workerID: workerID), logger: database.logger)
        {
            return job
        }
        return nil
    }

    /// Claims the next due job (PostgreSQL queue); concurrent workers skip each other's rows. The status literal in
    /// the inner query stays literal so the planner can use the partial index on queued jobs.
    public func claimNext(workerID: String, on connection: PostgresConnection) async throws -> ClaimedJob? {
        for try await job in try await connection.execute(ClaimNextJobStatement(workerID: workerID), logger: database.logger)
        {
            return job
        }
        return nil
    }

    /// Records liveness and progress; `false` when the job is no longer this worker's (reaped meanwhile).
    public func heartbeat(jobID: UUID, workerID: String, progress: Double) async throws -> Bool {
        for try await _ in try await database.client.execute(
            JobHeartbeatStatement(jobID: jobID, workerID: workerID, progress: Float(progress)), logger: database.logger)
        {
            return true
        }
        return false
    }

    /// Completes the job if `job`'s worker still holds it; `false` when the claim was taken back meanwhile.
    public func complete(_ job: ClaimedJob, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            UPDATE processing.jobs SET status = \(JobStatus.completed), progress = 100, error_message = NULL,
                finished_at = now(), updated_at = now(), heartbeat_at = NULL
            WHERE id = \(job.id) AND worker_id = \(job.workerID) AND status = \(JobStatus.processing)
            RETURNING id
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Puts the job back in the queue after `delay` (and, with NSQ, the caller REQs the message); `false` when the
    /// claim was taken back meanwhile.
    public func retry(_ job: ClaimedJob, error: String, delay: Duration, on connection: PostgresConnection)
        async throws -> Bool
    {
        let seconds = Double(delay.components.seconds)
        let rows = try await connection.query(
            """
            UPDATE processing.jobs SET status = \(JobStatus.queued), error_message = \(error), worker_id = NULL,
                heartbeat_at = NULL, available_at = now() + make_interval(secs => \(seconds)), updated_at = now()
            WHERE id = \(job.id) AND worker_id = \(job.workerID) AND status = \(JobStatus.processing)
            RETURNING id
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Hands a job back untouched (shutdown before it could finish): the attempt does not count. `false` when the
    /// claim was taken back meanwhile.
    public func release(_ job: ClaimedJob, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            UPDATE processing.jobs SET status = \(JobStatus.queued), attempts = greatest(attempts - 1, 0),
                worker_id = NULL, heartbeat_at = NULL, available_at = now(), updated_at = now()
            WHERE id = \(job.id) AND worker_id = \(job.workerID) AND status = \(JobStatus.processing)
            RETURNING id
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Fails the job for good; `false` when the claim was taken back meanwhile.
    public func fail(_ job: ClaimedJob, error: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            UPDATE processing.jobs SET status = \(JobStatus.failed), error_message = \(error), finished_at = now(),
                updated_at = now(), heartbeat_at = NULL
            WHERE id = \(job.id) AND worker_id = \(job.workerID) AND status = \(JobStatus.processing)
            RETURNING id
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Jobs whose worker stopped heartbeating go back to the queue, with a fresh outbox message.
    public func reapStaleJobs(olderThan staleness: Duration) async throws -> Int {
        let seconds = Double(staleness.components.seconds)
        return try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE processing.jobs SET status = \(JobStatus.queued), worker_id = NULL, heartbeat_at = NULL,
                    available_at = now(), updated_at = now()
                WHERE status = 'processing' AND heartbeat_at < now() - make_interval(secs => \(seconds))
                RETURNING id, media_id, object_key, processed_key, compatibility_key, thumbnail_key, preview_key
                """, logger: database.logger)
            var messages: [JobMessage] = []
            for try await row in rows.decode((UUID, UUID, String, String, String, String, String).self) {
                messages.append(
                    JobMessage(
                        jobID: row.0, mediaID: row.1, objectKey: row.2,
                        outputs: ProcessingOutputKeys(
                            processed: row.3, compatibility: row.4, thumbnail: row.5, preview: row.6)))
            }
            for message in messages { try await enqueueMessage(message, on: connection) }
            return messages.count
        }
    }

    /// Oldest queued job's age in seconds (queue lag), 0 when the queue is empty.
    public func queueLagSeconds() async throws -> Double {
        let rows = try await database.client.query(
            """
            SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(available_at)), 0)::float8
            FROM processing.jobs WHERE status = 'queued' AND available_at <= now()
            """, logger: database.logger)
        for try await lag in rows.decode(Double.self) { return max(0, lag) }
        return 0
    }
}
