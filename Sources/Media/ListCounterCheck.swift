import Foundation
import Logging
import MediaVaultCore
import Prometheus
import ServiceLifecycle

/// Compares every owner's list counters with exact counts now and then, and repairs any that are off.
///
/// The counters are kept by triggers in the same transaction as every change, so this should find nothing; it is
/// here for what no trigger sees (rows edited with triggers disabled, a restore of one table without the other).
/// An owner whose media is changing at that moment is left for the next round rather than waited for.
public struct ListCounterCheck: Service {
    let repository: MediaRepository
    let interval: Duration
    let startup: StartupGate
    let logger: Logger
    let corrections: Counter

    public init(
        repository: MediaRepository, interval: Duration, registry: PrometheusCollectorRegistry,
        startup: StartupGate = StartupGate(open: true), logger: Logger
    ) {
        self.repository = repository
        self.interval = interval
        self.startup = startup
        self.logger = logger
        corrections = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "mediavault", metricName: "media_list_counter_corrections", unitName: "total",
                helpText: "List counters the periodic check found wrong and repaired"))
    }

    /// The first pass comes one interval after start, not at every start of every replica; a pass that failed is
    /// tried again after at most five minutes.
    public func run() async throws {
        let retry = min(interval, .seconds(300))
        try await PeriodicService(initialState: true, startup: startup) { isFirst in
            if isFirst {
                isFirst = false
                return interval
            }
            return await runOnce() == nil ? retry : interval
        }.run()
    }

    /// One pass over every owner; returns how many counters were repaired, or `nil` when the pass failed.
    @discardableResult
    public func runOnce() async -> Int? {
        var repaired = 0
        var busy = 0
        var cursor: UUID?
        do {
            while !Task.isCancelled {
                let owners = try await repository.ownersWithMedia(after: cursor, limit: 200)
                guard let last = owners.last else { break }
                for owner in owners {
                    guard let corrected = try await repository.recheckCounters(ownerID: owner) else {
                        busy += 1
                        continue
                    }
                    if corrected > 0 {
                        repaired += corrected
                        corrections.increment(by: Int64(corrected))
                        logger.warning(
                            "list counters were off and have been recounted",
                            metadata: ["owner_id": .string(owner.uuidString.lowercased()), "counters": "\(corrected)"])
                    }
                }
                cursor = last
            }
        } catch {
            logger.warning("list counter check failed; will retry", metadata: ["error": "\(error)"])
            return nil
        }
        if busy > 0 { logger.debug("list counter check skipped busy owners", metadata: ["owners": "\(busy)"]) }
        return repaired
    }
}
