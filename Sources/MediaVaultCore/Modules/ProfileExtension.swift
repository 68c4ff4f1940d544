import Foundation

/// Lets a module add fields to `/auth/me` (for example storage usage) without the Auth module knowing it.
public protocol ProfileExtension: Sendable {
    func fields(forUser userID: UUID) async throws -> [String: JSONValue]
}
