import Logging
import NIOCore
import NIOPosix

/// Publishes messages to nsqd over TCP.
///
/// Keeps one connection per configured nsqd, opened on first use and reopened after it drops. Publishes are
/// pipelined: any number of tasks may publish at once and each call returns when nsqd answered `OK` for it.
/// If an nsqd cannot be reached the next configured address is tried. Safe to share between tasks.
public final class NSQProducer: Sendable {
    private let configuration: NSQProducerConfiguration
    private let nodes: [NSQProducerNode]
    private let invalidAddressError: NSQError?

    /// Creates a producer; no connection is made until the first publish.
    public init(
        configuration: NSQProducerConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "nsq.producer")
    ) {
        self.configuration = configuration
        let settings = NSQConnectionSettings(
            clientID: configuration.clientID,
            userAgent: configuration.userAgent,
            heartbeatInterval: configuration.heartbeatInterval,
            messageTimeout: nil,
            connectTimeout: configuration.connectTimeout,
            responseTimeout: configuration.responseTimeout
        )
        let backoff = NSQReconnectBackoff(
            initial: configuration.initialReconnectDelay,
            maximum: configuration.maximumReconnectDelay
        )
        var nodes: [NSQProducerNode] = []
        var invalidAddressError: NSQError?
        for text in configuration.addresses {
            do {
                let address = try NSQAddress(parsing: text)
                nodes.append(
                    NSQProducerNode(
                        address: address,
                        settings: settings,
                        backoff: backoff,
                        eventLoopGroup: eventLoopGroup,
                        logger: logger
                    )
                )
            } catch {
                invalidAddressError = error
            }
        }
        if nodes.isEmpty && invalidAddressError == nil {
            invalidAddressError = NSQError.connectionFailed.with(message: "no nsqd addresses configured")
        }
        self.nodes = nodes
        self.invalidAddressError = nodes.isEmpty ? invalidAddressError : nil
    }

    /// Publishes one message (PUB) and returns once nsqd stored it.
    public func publish(topic: String, body: ByteBuffer) async throws {
        try Self.validate(topic: topic)
        try Self.validate(body: body)
        try await send(.publish(topic: topic, body: body))
    }

    /// Publishes one message (PUB) and returns once nsqd stored it.
    public func publish(topic: String, body: some Sequence<UInt8>) async throws {
        try await publish(topic: topic, body: ByteBuffer(bytes: body))
    }

    /// Publishes several messages atomically in one round trip (MPUB).
    public func multiPublish(topic: String, bodies: [ByteBuffer]) async throws {
        try Self.validate(topic: topic)
        guard !bodies.isEmpty else { throw NSQError.badBody.with(message: "MPUB needs at least one message") }
        for body in bodies { try Self.validate(body: body) }
        try await send(.multiPublish(topic: topic, bodies: bodies))
    }

    /// Publishes several messages atomically in one round trip (MPUB).
    public func multiPublish(topic: String, bodies: [[UInt8]]) async throws {
        try await multiPublish(topic: topic, bodies: bodies.map { ByteBuffer(bytes: $0) })
    }

    /// Publishes a message that nsqd delivers only after `delay` (DPUB; millisecond resolution).
    public func deferredPublish(topic: String, body: ByteBuffer, delay: Duration) async throws {
        try Self.validate(topic: topic)
        try Self.validate(body: body)
        try await send(.deferredPublish(topic: topic, body: body, delayMilliseconds: delay.nsqMilliseconds))
    }

    /// Publishes a message that nsqd delivers only after `delay` (DPUB; millisecond resolution).
    public func deferredPublish(topic: String, body: some Sequence<UInt8>, delay: Duration) async throws {
        try await deferredPublish(topic: topic, body: ByteBuffer(bytes: body), delay: delay)
    }

    /// Closes all connections; publishes still waiting fail with ``NSQError/connectionClosed`` and later ones
    /// with ``NSQError/shutdown``.
    public func close() async {
        for node in nodes { await node.close() }
    }

    private static func validate(topic: String) throws(NSQError) {
        guard NSQNames.isValidTopicName(topic) else {
            throw NSQError.badTopic.with(message: "topic name \"\(topic)\" is not valid")
        }
    }

    private static func validate(body: ByteBuffer) throws(NSQError) {
        // nsqd rejects empty bodies; failing here keeps the connection, which nsqd would close.
        guard body.readableBytes > 0 else { throw NSQError.badMessage.with(message: "message body is empty") }
    }

    private func send(_ command: NSQCommand) async throws {
        if let invalidAddressError { throw invalidAddressError }
        var lastError = NSQError.connectionFailed
        for node in nodes {
            // A second try on the same nsqd covers a connection that closed just before the write.
            for _ in 0..<2 {
                let connection: NSQConnection
                do {
                    connection = try await node.connection()
                } catch let error as NSQError where error == .shutdown {
                    throw error
                } catch {
                    // Unreachable: the message went nowhere, so another nsqd may take it.
                    lastError = (error as? NSQError) ?? NSQError.connectionFailed.with(message: "\(error)")
                    break
                }
                do {
                    try await connection.send(command).get()
                    return
                } catch let error as NSQError where error == .notSent {
                    lastError = error.surfaced
                    continue
                }
            }
        }
        throw lastError
    }
}
