import Logging
import Media
import MediaVaultCore
import Processing

/// `mediavault reprocess`: queues the selected media for processing again, by the normal queue (jobs and outbox
/// rows in PostgreSQL; a running gateway's relay publishes them to NSQ when NSQ is used).
public func reprocessMedia(
    configuration: GatewayConfiguration, selection: ReprocessSelection, logger: Logger,
    progress: @escaping (MediaReprocessor.Summary) -> Void
) async throws -> MediaReprocessor.Summary {
    let database = Database(configuration: configuration.core.database, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        try await database.ping(timeout: .seconds(15))
        let repository = MediaRepository(database: database, defaultQuotaBytes: configuration.media.defaultQuotaBytes)
        let jobs = JobRepository(database: database, maxAttempts: configuration.processing.maxAttempts)
        return try await MediaReprocessor(repository: repository, scheduler: jobs).run(selection, progress: progress)
    }
}
