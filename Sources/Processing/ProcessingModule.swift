import Hummingbird
import MediaVaultCore

/// What the Processing module exposes to the gateway: migrations, the scheduler Media uses, and the status route.
public struct ProcessingModule: Sendable {
    public let migrations = ProcessingMigrations.all
    public let jobs: JobRepository

    public init(database: Database, maxAttempts: Int) {
        jobs = JobRepository(database: database, maxAttempts: maxAttempts)
    }

    public var scheduler: any ProcessingScheduler { jobs }

    public func registerRoutes(on router: AccessRouter) {
        ProcessingController(jobs: jobs).register(on: router)
    }
}
