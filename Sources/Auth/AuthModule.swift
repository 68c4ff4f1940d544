import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MediaVaultCore

/// What the Auth module exposes to the gateway: its migrations, routes (sign-in, the account, API keys) and the
/// middleware that finds the user.
public struct AuthModule: Sendable {
    public let migrations = AuthMigrations.all
    public let sessions: SessionService
    public let apiKeys: APIKeyService
    public let controller: AuthController
    let apiKeyController: APIKeyController

    public init(
        configuration: AuthConfiguration, database: Database, discord: DiscordAPI?,
        profileExtensions: [any ProfileExtension] = [], logger: Logger
    ) {
        let repository = AuthRepository(database: database)
        apiKeys = APIKeyService(repository: APIKeyRepository(database: database), logger: logger)
        apiKeyController = APIKeyController(service: apiKeys)
        sessions = SessionService(
            repository: repository, ttl: configuration.sessionTTL, secureCookies: configuration.secureCookies)
        controller = AuthController(
            configuration: configuration, discord: discord, repository: repository, sessions: sessions,
            profileExtensions: profileExtensions)
    }

    /// Accounts for a deployment of the original backend being imported.
    public static func userImporter(logger: Logger) -> any UserImporting { UserImportSQL(logger: logger) }

    public var authenticationMiddleware: AuthenticationMiddleware {
        AuthenticationMiddleware(sessions: sessions, apiKeys: apiKeys)
    }

    public func registerRoutes(on router: AccessRouter) {
        controller.register(on: router)
        apiKeyController.register(on: router)
    }
}
