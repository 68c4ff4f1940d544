/// Settings for ``NSQConsumer``.
public struct NSQConsumerConfiguration: Sendable {
    /// Topic to subscribe to.
    public var topic: String
    /// Channel to subscribe on; every channel of a topic gets its own copy of each message.
    public var channel: String
    /// nsqd TCP addresses as `"host:port"`; the consumer connects to all of them.
    public var addresses: [String]
    /// Most messages handled at once, split across the connected nsqds (at least 1 each).
    public var maxInFlight: Int
    /// Sent in IDENTIFY as `client_id`.
    public var clientID: String
    /// Sent in IDENTIFY as `user_agent`.
    public var userAgent: String
    /// How often nsqd should heartbeat (nsqd accepts 1 s – 60 s); `nil` disables heartbeats.
    public var heartbeatInterval: Duration?
    /// How long nsqd waits for FIN before redelivering; `nil` keeps nsqd's default (60 s).
    public var messageTimeout: Duration?
    /// Limit for the TCP connect plus the IDENTIFY and SUB exchange.
    public var connectTimeout: Duration
    /// Wait before reconnecting after a connection dropped or could not be made; doubles per failure.
    public var initialReconnectDelay: Duration
    /// Upper bound for the reconnect delay.
    public var maximumReconnectDelay: Duration
    /// First backoff period after a processing failure; doubles with consecutive failures.
    public var initialBackoff: Duration
    /// Upper bound for the backoff period.
    public var maximumBackoff: Duration
    /// Requeue delay for messages whose handler threw.
    public var requeueDelayOnError: Duration
    /// How long a graceful shutdown waits for in-flight messages to be answered before closing anyway.
    public var drainTimeout: Duration

    /// A configuration with defaults suited to a production nsqd.
    public init(
        topic: String,
        channel: String,
        addresses: [String],
        maxInFlight: Int = 1,
        clientID: String = "swift-nsq-consumer",
        userAgent: String = "swift-nsq/1.0",
        heartbeatInterval: Duration? = .seconds(30),
        messageTimeout: Duration? = nil,
        connectTimeout: Duration = .seconds(5),
        initialReconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(10),
        initialBackoff: Duration = .seconds(1),
        maximumBackoff: Duration = .seconds(120),
        requeueDelayOnError: Duration = .seconds(1),
        drainTimeout: Duration = .seconds(10)
    ) {
        self.topic = topic
        self.channel = channel
        self.addresses = addresses
        self.maxInFlight = maxInFlight
        self.clientID = clientID
        self.userAgent = userAgent
        self.heartbeatInterval = heartbeatInterval
        self.messageTimeout = messageTimeout
        self.connectTimeout = connectTimeout
        self.initialReconnectDelay = initialReconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.requeueDelayOnError = requeueDelayOnError
        self.drainTimeout = drainTimeout
    }
}
