import Foundation
import PostgresNIO

/// What the Media module asks of the Processing module, inside Media's own transaction, so that a confirmed upload,
/// its job and the job's outbox message commit together or not at all.
public protocol ProcessingScheduler: Sendable {
    /// Records a processing job (and its outbox message) for the media on `connection`'s open transaction.
    func scheduleProcessing(_ request: ProcessingRequest, on connection: PostgresConnection) async throws
    /// The same for many media at once (an import), in as few statements as the scheduler can.
    func scheduleProcessing(_ requests: [ProcessingRequest], on connection: PostgresConnection) async throws
}

extension ProcessingScheduler {
    public func scheduleProcessing(_ requests: [ProcessingRequest], on connection: PostgresConnection) async throws {
        for request in requests { try await scheduleProcessing(request, on: connection) }
    }
}

/// The facts a worker needs to process one upload.
public struct ProcessingRequest: Sendable, Equatable {
    public let mediaID: UUID
    public let ownerID: UUID
    public let objectKey: String
    public let mimeType: String
    public let outputs: ProcessingOutputKeys
    /// The SHA-256 the uploader declared: the worker refuses an original that does not match it.
    public let originalSHA256: [UInt8]?

    public init(
        mediaID: UUID, ownerID: UUID, objectKey: String, mimeType: String, outputs: ProcessingOutputKeys,
        originalSHA256: [UInt8]? = nil
    ) {
        self.originalSHA256 = originalSHA256
        self.mediaID = mediaID
        self.ownerID = ownerID
        self.objectKey = objectKey
        self.mimeType = mimeType
        self.outputs = outputs
    }
}
