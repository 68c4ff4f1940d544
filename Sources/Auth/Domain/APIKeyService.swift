import Foundation
import Logging
import MediaVaultCore

/// Creates, lists and revokes personal API keys, and resolves a presented key to its user.
public struct APIKeyService: Sendable {
    let repository: APIKeyRepository
    let logger: Logger
    let now: @Sendable () -> Date

    init(repository: APIKeyRepository, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.logger = logger
        self.now = now
    }

    /// A new key; the secret is in the result and nowhere else.
    func create(userID: UUID, body: APIKeyRequest.Body) async throws -> (record: APIKeyRecord, secret: String) {
        let request = try APIKeyRequest(body, now: now())
        let secret = APIKeySecret.generate()
        let record = try await repository.create(
            userID: userID, request: request, secretHash: APIKeySecret.hash(secret),
            visiblePrefix: APIKeySecret.visiblePrefix(of: secret))
        return (record, secret)
    }

    func keys(of userID: UUID) async throws -> [APIKeyRecord] { try await repository.keys(of: userID) }

    func revoke(id: UUID, userID: UUID) async throws -> Bool { try await repository.revoke(id: id, userID: userID) }

    /// The user of a live key, or nil for a malformed, unknown, revoked or expired one.
    public func user(forKey key: String) async throws -> AuthenticatedUser? {
        guard APIKeySecret.isWellFormed(key) else { return nil }
        guard let match = try await repository.keyUser(secretHash: APIKeySecret.hash(key)) else { return nil }
        if match.lastUseIsStale, case .apiKey(let id, _) = match.user.credential {
            // Bookkeeping only: a failed write must not fail the caller's request.
            do {
                try await repository.recordUse(of: id)
            } catch {
                logger.warning(
                    "could not record an API key's last use",
                    metadata: ["api_key_id": .string(id.uuidString.lowercased()), "error": .string("\(error)")])
            }
        }
        return match.user
    }
}
