import Foundation
import Hummingbird
import MediaVaultCore

/// `GET /processing/:mediaID/status` (owner only).
public struct ProcessingController: Sendable {
    let jobs: JobRepository

    public init(jobs: JobRepository) {
        self.jobs = jobs
    }

    public func register(on router: AccessRouter) {
        router.get("processing/:mediaID/status", .scope(.mediaRead), use: status)
    }

    struct StatusResponse: ResponseEncodable {
        let mediaID: String
        let status: MediaStatus
        let errorMessage: String?
        let progress: Double
        let attempts: Int
        let maxAttempts: Int
        let updatedAt: Date

        enum CodingKeys: String, CodingKey {
            case status, progress, attempts
            case mediaID = "media_id"
            case errorMessage = "error_message"
            case maxAttempts = "max_attempts"
            case updatedAt = "updated_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mediaID, forKey: .mediaID)
            try container.encode(status.rawValue, forKey: .status)
            try container.encodeIfPresent(errorMessage, forKey: .errorMessage)
            try container.encode(progress, forKey: .progress)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(maxAttempts, forKey: .maxAttempts)
            try container.encode(updatedAt, forKey: .updatedAt)
        }
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> StatusResponse {
        let user = try context.requireUser()
        guard let mediaID = UUID(uuidString: context.parameters.get("mediaID") ?? "") else {
            throw AppError.notFound("media not found")
        }
        guard let job = try await jobs.latestJob(mediaID: mediaID, ownerID: user.id) else {
            throw AppError.notFound("no processing job for this media")
        }
        return StatusResponse(
            mediaID: job.mediaID.uuidString.lowercased(), status: job.status.mediaStatus,
            errorMessage: job.errorMessage, progress: (job.progress * 10).rounded() / 10, attempts: job.attempts,
            maxAttempts: job.maxAttempts, updatedAt: job.updatedAt)
    }
}
