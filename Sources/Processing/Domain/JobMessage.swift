import Foundation
import MediaVaultCore

/// The body of an NSQ `media-uploaded` message and of its outbox row. It points at the job row, which stays the
/// source of truth; the object keys travel along so a consumer can tell what the job reads and writes without
/// knowing the Media module's storage layout.
public struct JobMessage: Sendable, Equatable, Codable {
    public var jobID: UUID
    public var mediaID: UUID
    public var objectKey: String
    public var outputs: ProcessingOutputKeys

    public init(jobID: UUID, mediaID: UUID, objectKey: String, outputs: ProcessingOutputKeys) {
        self.jobID = jobID
        self.mediaID = mediaID
        self.objectKey = objectKey
        self.outputs = outputs
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case mediaID = "media_id"
        case objectKey = "object_key"
        case outputs
    }

    /// Ids are written lowercased, as everywhere else in the API.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobID.lowercasedString, forKey: .jobID)
        try container.encode(mediaID.lowercasedString, forKey: .mediaID)
        try container.encode(objectKey, forKey: .objectKey)
        try container.encode(outputs, forKey: .outputs)
    }

    /// Compact JSON with sorted keys, so the same message always has the same bytes.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Only strings and UUIDs: encoding cannot fail.
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// A message body from the wire. Only `job_id` is required: messages from before the keys were added (still in
    /// an nsqd queue during an upgrade) carry nothing else, and the job row has the rest.
    public static func jobID(in body: [UInt8]) -> UUID? {
        (try? JSONDecoder().decode(JobReference.self, from: Data(body)))?.jobID
    }

    private struct JobReference: Decodable {
        let jobID: UUID
        enum CodingKeys: String, CodingKey { case jobID = "job_id" }
    }
}
