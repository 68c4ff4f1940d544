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
