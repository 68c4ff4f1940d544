import MediaVaultCore

/// Settings of the job pipeline shared by gateway and worker.
public enum ProcessingSettings {
    public static let maxAttempts = Setting(
        "JOB_MAX_ATTEMPTS", "Attempts per processing job before it is marked failed", default: "5")
    public static let nsqHosts = Setting(
        "NSQ_HOSTS", "nsqd TCP addresses (host:4150, comma-separated); empty: PostgreSQL is the queue")

    public static let staleSeconds = Setting(
        "JOB_STALE_SECONDS", "A job whose worker sent no heartbeat for this long is handed out again",
        default: "90", component: .gateway)

    public static let all: [Setting] = [maxAttempts, nsqHosts, staleSeconds]
}

/// The job pipeline's settings, read and validated the same way by the gateway and the worker.
public struct ProcessingConfiguration: Sendable {
    public var maxAttempts: Int
    /// nsqd TCP addresses; empty means PostgreSQL is the queue.
    public var nsqHosts: [String]
    public var staleAfter: Duration

    /// Whether jobs travel over NSQ (otherwise workers claim rows from PostgreSQL).
    public var usesNSQ: Bool { !nsqHosts.isEmpty }

    public init(reading reader: ConfigReader) {
        maxAttempts = reader.int(ProcessingSettings.maxAttempts, range: 1...100)
        nsqHosts = reader.list(ProcessingSettings.nsqHosts)
        staleAfter = .seconds(reader.int(ProcessingSettings.staleSeconds, range: 2...86400))
        for host in nsqHosts where CoreConfiguration.hostAndPort(host, defaultPort: 4150) == nil {
            reader.fail(ProcessingSettings.nsqHosts, "has an invalid address \"\(host)\" (use host:port)")
        }
    }
}
