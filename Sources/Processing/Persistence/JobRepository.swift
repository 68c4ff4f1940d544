import Foundation
import Logging
import MediaVaultCore
import PostgresNIO

/// The topic and channel of DESIGN.md.
public enum ProcessingTopic {
    public static let mediaUploaded = "media-uploaded"
    public static let workerChannel = "processing-worker"
}

/// A job as the status endpoint shows it.
public struct JobStatusRecord: Sendable {
    public let jobID: UUID
    public let mediaID: UUID
    public let status: String
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
        let payload = Self.messagePayload(jobID: jobID, mediaID: request.mediaID)
        try await connection.query(
            """
            INSERT INTO processing.jobs (id, media_id, owner_id, object_key, mime_type, max_attempts)
            VALUES (\(jobID), \(request.mediaID), \(request.ownerID), \(request.objectKey), \(request.mimeType),
                    \(maxAttempts))
            """, logger: database.logger)
        try await connection.query(
            """
            INSERT INTO processing.outbox (topic, payload)
            VALUES (\(ProcessingTopic.mediaUploaded), \(payload)::jsonb)
            """, logger: database.logger)
    }

    /// `{"job_id": …, "media_id": …}`: the message only points at the job row, which stays the source of truth.
    static func messagePayload(jobID: UUID, mediaID: UUID) -> String {
        #"{"job_id":"\#(jobID.uuidString.lowercased())","media_id":"\#(mediaID.uuidString.lowercased())"}"#
    }

    /// The newest job of a media, if the user owns it.
    public func latestJob(mediaID: UUID, ownerID: UUID) async throws -> JobStatusRecord? {
        let rows = try await database.client.query(
            """
            SELECT id, media_id, status, attempts, max_attempts, progress::float8, error_message, updated_at
            FROM processing.jobs
            WHERE media_id = \(mediaID) AND owner_id = \(ownerID)
            ORDER BY created_at DESC LIMIT 1
            """, logger: database.logger)
        for try await row in rows.decode((UUID, UUID, String, Int, Int, Double, String?, Date).self) {
            return JobStatusRecord(
                jobID: row.0, mediaID: row.1, status: row.2, attempts: row.3, maxAttempts: row.4, progress: row.5,
                errorMessage: row.6, updatedAt: row.7)
        }
        return nil
    }
}
