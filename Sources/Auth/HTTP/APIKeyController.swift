import Foundation
import Hummingbird
import MediaVaultCore

/// `/auth/api-keys`: a signed-in session manages its user's personal API keys. Keys themselves are refused here
/// (account access), so no key can mint, see, widen or revoke keys.
struct APIKeyController: Sendable {
    let service: APIKeyService

    func register(on router: AccessRouter) {
        let keys = router.group("auth/api-keys")
        keys.post(.account, use: create)
        keys.get(.account, use: list)
        keys.delete(":id", .account, use: revoke)
    }

    struct KeyResponse: Encodable {
        let record: APIKeyRecord
        /// Only in the answer to the creation.
        let secret: String?

        enum CodingKeys: String, CodingKey {
            case id, name, prefix, scopes, key
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case lastUsedAt = "last_used_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(record.id.uuidString.lowercased(), forKey: .id)
            try container.encode(record.name, forKey: .name)
            try container.encode(record.visiblePrefix, forKey: .prefix)
            try container.encode(record.scopes.map(\.rawValue), forKey: .scopes)
            try container.encode(record.createdAt, forKey: .createdAt)
            try container.encode(record.expiresAt, forKey: .expiresAt)
            try container.encode(record.lastUsedAt, forKey: .lastUsedAt)
            if let secret { try container.encode(secret, forKey: .key) }
        }
    }

    struct KeyList: ResponseEncodable {
        let apiKeys: [KeyResponse]

        enum CodingKeys: String, CodingKey {
            case apiKeys = "api_keys"
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<KeyCreated> {
        let user = try context.requireUser()
        let body = try await request.decodeJSON(as: APIKeyRequest.Body.self, context: context)
        let created = try await service.create(userID: user.id, body: body)
        context.logger.info(
            "API key created",
            metadata: [
                "api_key_id": .string(created.record.id.uuidString.lowercased()),
                "scopes": .string(created.record.scopes.map(\.rawValue).joined(separator: " ")),
            ])
        // The secret must not linger in any cache between the gateway and the caller.
        return EditedResponse(
            status: .created, headers: [.cacheControl: "no-store"],
            response: KeyCreated(key: KeyResponse(record: created.record, secret: created.secret)))
    }

    /// The creation's body is the key itself, not wrapped.
    struct KeyCreated: ResponseEncodable {
        let key: KeyResponse
        func encode(to encoder: any Encoder) throws { try key.encode(to: encoder) }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> KeyList {
        let user = try context.requireUser()
        return KeyList(apiKeys: try await service.keys(of: user.id).map { KeyResponse(record: $0, secret: nil) })
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let user = try context.requireUser()
        guard let id = UUID(uuidString: context.parameters.get("id") ?? ""),
            try await service.revoke(id: id, userID: user.id)
        else { throw AppError.notFound("API key not found") }
        context.logger.info("API key revoked", metadata: ["api_key_id": .string(id.uuidString.lowercased())])
        return SuccessResponse(success: true)
    }
}
