/// Settings for ``NSQProducer``.
public struct NSQProducerConfiguration: Sendable {
    /// nsqd TCP addresses as `"host:port"`, tried in this order; later ones are used only while earlier ones are down.
    public var addresses: [String]
    /// Sent in IDENTIFY as `client_id`; shows up in nsqd's stats.
    public var clientID: String
    /// Sent in IDENTIFY as `user_agent`.
    public var userAgent: String
    /// How often nsqd should heartbeat (nsqd accepts 1 s – 60 s); `nil` disables heartbeats.
    public var heartbeatInterval: Duration?
    /// Limit for the TCP connect plus the IDENTIFY exchange.
    public var connectTimeout: Duration
    /// How long nsqd may take to answer a publish; when exceeded the connection is closed and every publish
    /// waiting on it fails with ``NSQError/timeout``.
    public var responseTimeout: Duration
    /// Wait before the first reconnect attempt after a failed connect; doubles with each further failure.
    public var initialReconnectDelay: Duration
    /// Upper bound for the reconnect delay.
    public var maximumReconnectDelay: Duration

    /// A configuration with defaults suited to a production nsqd.
    public init(
        addresses: [String],
        clientID: String = "swift-nsq-producer",
        userAgent: String = "swift-nsq/1.0",
        heartbeatInterval: Duration? = .seconds(30),
        connectTimeout: Duration = .seconds(5),
        responseTimeout: Duration = .seconds(10),
        initialReconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(10)
    ) {
        self.addresses = addresses
        self.clientID = clientID
        self.userAgent = userAgent
        self.heartbeatInterval = heartbeatInterval
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.initialReconnectDelay = initialReconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
    }
}

/// Exponential reconnect delay: `initial · 2^(failures − 1)`, capped at `maximum`.
struct NSQReconnectBackoff: Sendable, Equatable {
    var initial: Duration
    var maximum: Duration

    func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var delay = initial
        for _ in 1..<min(failures, 32) {
            delay *= 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
