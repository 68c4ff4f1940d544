import Logging
import NIOCore
import NIOPosix

/// An in-process nsqd stand-in speaking the TCP protocol (V2) on 127.0.0.1, for tests.
///
/// Implements the magic, IDENTIFY with feature negotiation, SUB, RDY, PUB, MPUB, DPUB, FIN, REQ (with delay),
/// TOUCH, NOP and CLS; message timeouts with redelivery; heartbeats with disconnection of clients silent for two
/// intervals; nsqd's error codes; and per-channel copies of every message, held on the topic until the first
/// channel exists. It can be stopped and started again on the same port, inspected, and told to fail.
public final class NSQTestBroker: Sendable {
    /// Limits and timings; the defaults are nsqd's.
    public struct Configuration: Sendable {
        /// Interface to listen on.
        public var host: String
        /// Port to listen on; 0 picks a free one in 20000..<32000 (kept across ``NSQTestBroker/stop()`` and restart).
        public var port: Int
        /// Heartbeat interval for clients that do not ask for one.
        public var defaultHeartbeatInterval: Duration
        /// Smallest heartbeat interval IDENTIFY may ask for (nsqd: 1 s).
        public var minimumHeartbeatInterval: Duration
        /// Largest heartbeat interval IDENTIFY may ask for (nsqd: 60 s).
        public var maximumHeartbeatInterval: Duration
        /// Message timeout for clients that do not ask for one.
        public var defaultMessageTimeout: Duration
        /// Smallest `msg_timeout` IDENTIFY may ask for (nsqd: 1 s).
        public var minimumMessageTimeout: Duration
        /// Largest `msg_timeout` IDENTIFY may ask for.
        public var maximumMessageTimeout: Duration
        /// Largest REQ or DPUB delay.
        public var maximumRequeueDelay: Duration
        /// Largest RDY count.
        public var maximumReadyCount: Int
        /// Largest message body.
        public var maximumMessageSize: Int
        /// Largest IDENTIFY or MPUB body.
        public var maximumBodySize: Int
        /// How often timeouts, deferred messages and client read deadlines are checked.
        public var scanInterval: Duration

        /// nsqd's defaults.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            defaultHeartbeatInterval: Duration = .seconds(30),
            minimumHeartbeatInterval: Duration = .seconds(1),
            maximumHeartbeatInterval: Duration = .seconds(60),
            defaultMessageTimeout: Duration = .seconds(60),
            minimumMessageTimeout: Duration = .seconds(1),
            maximumMessageTimeout: Duration = .seconds(15 * 60),
            maximumRequeueDelay: Duration = .seconds(3600),
            maximumReadyCount: Int = 2500,
            maximumMessageSize: Int = 1024 * 1024,
            maximumBodySize: Int = 5 * 1024 * 1024,
            scanInterval: Duration = .milliseconds(20)
        ) {
            self.host = host
            self.port = port
            self.defaultHeartbeatInterval = defaultHeartbeatInterval
            self.minimumHeartbeatInterval = minimumHeartbeatInterval
            self.maximumHeartbeatInterval = maximumHeartbeatInterval
            self.defaultMessageTimeout = defaultMessageTimeout
            self.minimumMessageTimeout = minimumMessageTimeout
            self.maximumMessageTimeout = maximumMessageTimeout
            self.maximumRequeueDelay = maximumRequeueDelay
            self.maximumReadyCount = maximumReadyCount
            self.maximumMessageSize = maximumMessageSize
            self.maximumBodySize = maximumBodySize
            self.scanInterval = scanInterval
        }

        /// nsqd's defaults, but accepting heartbeat intervals and message timeouts down to 10 ms for fast tests.
        public static var fastTests: Configuration {
            var configuration = Configuration()
            configuration.minimumHeartbeatInterval = .milliseconds(10)
            configuration.minimumMessageTimeout = .milliseconds(10)
            configuration.scanInterval = .milliseconds(10)
            return configuration
        }
    }

    /// A simulated fault.
    public enum Failure: Sendable, Equatable {
        /// Accept TCP connections and close them at once.
        case refuseConnections
        /// Answer PUB, MPUB and DPUB with E_PUB_FAILED, E_MPUB_FAILED, E_DPUB_FAILED (and close, as nsqd does).
        case failPublishes
    }

    /// A connected client as the broker sees it.
    public struct ClientInfo: Sendable, Equatable {
        /// Broker-assigned connection number.
        public var id: Int
        /// `client_id` from IDENTIFY.
        public var clientID: String?
        /// `hostname` from IDENTIFY.
        public var hostname: String?
        /// `user_agent` from IDENTIFY.
        public var userAgent: String?
        /// Subscribed topic, if any.
        public var topic: String?
        /// Subscribed channel, if any.
        public var channel: String?
        /// `initial`, `subscribed`, `closing` or `closed`.
        public var state: String
        /// Current RDY.
        public var readyCount: Int
        /// Every RDY count the client sent, oldest first.
        public var readyHistory: [Int]
        /// Messages sent to this client and not yet answered.
        public var inFlightCount: Int
        /// Negotiated heartbeat interval; `nil` when disabled.
        public var heartbeatInterval: Duration?
        /// Negotiated message timeout.
        public var messageTimeout: Duration
        /// Whether IDENTIFY asked for feature negotiation.
        public var featureNegotiation: Bool
    }

    /// Counters of one channel.
    public struct ChannelStats: Sendable, Equatable {
        /// Messages waiting to be sent.
        public var depth: Int
        /// Messages waiting for a DPUB or REQ delay to pass.
        public var deferredCount: Int
        /// Messages sent and not yet answered.
        public var inFlightCount: Int
        /// Deliveries made, redeliveries included.
        public var deliveredCount: Int
        /// FINs accepted.
        public var finishedCount: Int
        /// REQs accepted.
        public var requeuedCount: Int
        /// In-flight messages that timed out and were queued again.
        public var timedOutCount: Int
    }

    private let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<BrokerState>
    private let listener: NIOLoopBoundBox<Listener>

    private struct Listener {
        /// Set by ``NSQTestBroker/start()`` before it binds, cleared by ``NSQTestBroker/stop()``.
        var isStarted = false
        /// Counts starts, so a connection accepted for an earlier run is not mistaken for one of this run.
        var generation = 0
        var serverChannel: (any Channel)?
        var boundPort: Int?
        var scanTask: RepeatedTask?
        /// Every accepted connection still open; ``NSQTestBroker/stop()`` closes them and waits until they are.
        var children: [ObjectIdentifier: any Channel] = [:]
    }

    /// How long ``start()`` keeps trying a port that is still in use (restart on the same port).
    private static let addressInUseRetryTime: Duration = .seconds(3)

    /// Creates a stopped broker; call ``start()``.
    public init(
        configuration: Configuration = .fastTests,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "nsq.test-broker")
    ) {
        // One loop for the listener and every client keeps all broker state single-threaded.
        let eventLoop = eventLoopGroup.next()
        self.eventLoop = eventLoop
        self.state = .makeBoxSendingValue(
            BrokerState(configuration: configuration, logger: logger),
            eventLoop: eventLoop
        )
        self.listener = .makeBoxSendingValue(Listener(), eventLoop: eventLoop)
    }

    /// Creates and starts a broker.
    public static func started(
        configuration: Configuration = .fastTests,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "nsq.test-broker")
    ) async throws -> NSQTestBroker {
        let broker = NSQTestBroker(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        try await broker.start()
        return broker
    }

    /// Starts listening; after a ``stop()`` it listens on the same port again.
    ///
    /// Port 0 picks a random port in 20000..<32000, below Linux's ephemeral range (32768+), so no outgoing
    /// connection can hold it as its local port while the broker is stopped; and never one that another
    /// `NSQTestBroker` of this process holds, running or stopped. A port that is still in use (another process got
    /// it while the broker was stopped) is tried again for up to three seconds before the error is thrown.
    @discardableResult
    public func start() async throws -> Int {
        let (state, listener, eventLoop) = (self.state, self.listener, self.eventLoop)
        let claimed = try await eventLoop.submit { () -> (host: String, port: Int?, generation: Int)? in
            guard !listener.value.isStarted else { return nil }
            listener.value.isStarted = true
            listener.value.generation += 1
            let configuration = state.value.configuration
            let port = listener.value.boundPort ?? (configuration.port == 0 ? nil : configuration.port)
            return (configuration.host, port, listener.value.generation)
        }.get()
        guard let claimed else { return try await port }
        let generation = claimed.generation

        func bind(_ port: Int) async throws -> any Channel {
            try await ServerBootstrap(group: eventLoop, childGroup: eventLoop)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Refuse a connection that was accepted just before a stop() (the error closes it).
                        guard listener.value.isStarted, listener.value.generation == generation else {
                            throw ChannelError.ioOnClosedChannel
                        }
                        let id = ObjectIdentifier(channel)
                        listener.value.children[id] = channel
                        channel.closeFuture.whenComplete { _ in listener.value.children[id] = nil }
                        let broker = state.value
                        let client = broker.makeClient()
                        let decoder = BrokerCommandDecoder(
                            maximumMessageSize: broker.configuration.maximumMessageSize,
                            maximumBodySize: broker.configuration.maximumBodySize
                        )
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                        try channel.pipeline.syncOperations.addHandler(client)
                    }
                }
                .bind(host: claimed.host, port: port)
                .get()
        }

        let server: any Channel
        do {
            if let port = claimed.port {
                await BrokerPorts.shared.claim(port, for: self)
                // The port may still be taken, by whatever got it while the broker was stopped.
                let deadline = ContinuousClock.now + Self.addressInUseRetryTime
                while true {
                    do {
                        server = try await bind(port)
                        break
                    } catch let error where Self.isAddressInUse(error) && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            } else {
                var attempt = 0
                while true {
                    let port = await BrokerPorts.shared.claimRandomPort(in: 20000..<32000, for: self)
                    do {
                        server = try await bind(port)
                        break
                    } catch let error where Self.isAddressInUse(error) && attempt < 50 {
                        // Another process has it; leave it to them.
                        await BrokerPorts.shared.release(port, by: self)
                        attempt += 1
                    }
                }
            }
        } catch {
            try? await eventLoop.submit {
                if listener.value.generation == generation { listener.value.isStarted = false }
            }.get()
            throw error
        }

        return try await eventLoop.submit {
            let boundPort = server.localAddress?.port ?? claimed.port ?? 0
            listener.value.boundPort = boundPort
            guard listener.value.isStarted, listener.value.generation == generation else {
                // stop() was called while binding.
                server.close(promise: nil)
                return boundPort
            }
            listener.value.serverChannel = server
            let interval = TimeAmount(state.value.configuration.scanInterval)
            listener.value.scanTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                state.value.scan()
            }
            return boundPort
        }.get()
    }

    private static func isAddressInUse(_ error: any Error) -> Bool {
        (error as? IOError)?.errnoCode == EADDRINUSE
    }

    /// Closes the listener and every client connection, and returns once all of them are closed, so the port is
    /// free for ``start()``. Topics, channels and messages survive, with in-flight and deferred messages queued
    /// again (nsqd persists them on shutdown), so ``start()`` resumes where it stopped.
    public func stop() async {
        let (state, listener) = (self.state, self.listener)
        let closing = try? await eventLoop.submit { () -> [EventLoopFuture<Void>] in
            listener.value.isStarted = false
            listener.value.scanTask?.cancel()
            listener.value.scanTask = nil
            var closing: [EventLoopFuture<Void>] = []
            if let server = listener.value.serverChannel {
                server.close(promise: nil)
                closing.append(server.closeFuture)
                listener.value.serverChannel = nil
            }
            for child in listener.value.children.values {
                child.close(promise: nil)
                closing.append(child.closeFuture)
            }
            state.value.stopped()
            return closing
        }.get()
        for future in closing ?? [] { try? await future.get() }
    }

    /// The listening port (the last one, when stopped).
    public var port: Int {
        get async throws {
            let listener = self.listener
            guard let port = try await eventLoop.submit({ listener.value.boundPort }).get() else {
                throw NSQTestBrokerError.notStarted
            }
            return port
        }
    }

    /// `"127.0.0.1:port"`, ready for a client's address list.
    public var address: String {
        get async throws {
            let host = try await inspect { $0.configuration.host }
            return "\(host):\(try await port)"
        }
    }

    /// Turns a simulated fault on, or off with `nil`.
    public func setFailure(_ failure: Failure?) async {
        _ = try? await inspect { $0.failure = failure }
    }

    /// Drops every client connection, leaving the listener open.
    public func disconnectAllClients() async {
        _ = try? await inspect { $0.disconnectAllClients() }
    }

    /// Publishes as if a client had sent PUB (or DPUB, with `delay`).
    public func publish(topic: String, body: [UInt8], delay: Duration? = nil) async throws {
        try await inspect { broker in
            broker.publish(topic: topic, bodies: [ByteBuffer(bytes: body)], delay: delay.map(TimeAmount.init))
            broker.flushClients()
        }
    }

    /// Messages published to `topic` (PUB, each MPUB message, DPUB).
    public func publishedCount(topic: String) async throws -> Int {
        try await inspect { $0.topics[topic]?.publishedCount ?? 0 }
    }

    /// Messages held on `topic` because it has no channel yet.
    public func topicDepth(topic: String) async throws -> Int {
        try await inspect { $0.topics[topic]?.waitingForChannel.count ?? 0 }
    }

    /// Counters of one channel, or `nil` if it does not exist.
    public func channelStats(topic: String, channel: String) async throws -> ChannelStats? {
        try await inspect { broker in
            guard let channel = broker.topics[topic]?.channels[channel] else { return nil }
            return ChannelStats(
                depth: channel.ready.count,
                deferredCount: channel.deferred.count,
                inFlightCount: channel.inFlight.count,
                deliveredCount: channel.deliveredCount,
                finishedCount: channel.finishedCount,
                requeuedCount: channel.requeuedCount,
                timedOutCount: channel.timedOutCount
            )
        }
    }

    /// The connected clients, in connection order.
    public func clients() async throws -> [ClientInfo] {
        try await inspect { broker in broker.clients.values.map(\.info).sorted { $0.id < $1.id } }
    }

    private func inspect<Result: Sendable>(
        _ body: @escaping @Sendable (BrokerState) -> Result
    ) async throws -> Result {
        let state = self.state
        return try await eventLoop.submit { body(state.value) }.get()
    }
}

/// The ports held by this process's brokers, running or stopped, so that a broker picking a random port never takes
/// one a stopped broker will listen on again.
private actor BrokerPorts {
    static let shared = BrokerPorts()

    private struct Holder {
        weak var broker: NSQTestBroker?
    }

    private var holders: [Int: Holder] = [:]

    private func isFree(_ port: Int, for broker: NSQTestBroker) -> Bool {
        guard let holder = holders[port]?.broker else { return true }
        return holder === broker
    }

    /// Records `port` as `broker`'s (an explicitly configured port is used even if another broker holds it).
    func claim(_ port: Int, for broker: NSQTestBroker) {
        holders[port] = Holder(broker: broker)
    }

    func claimRandomPort(in range: Range<Int>, for broker: NSQTestBroker) -> Int {
        // Ports of brokers that are gone are free again.
        holders = holders.filter { $0.value.broker != nil }
        while true {
            let port = Int.random(in: range)
            if isFree(port, for: broker) {
                claim(port, for: broker)
                return port
            }
        }
    }

    func release(_ port: Int, by broker: NSQTestBroker) {
        if holders[port]?.broker === broker { holders[port] = nil }
    }
}

/// Misuse of ``NSQTestBroker``.
public enum NSQTestBrokerError: Error, Sendable {
    /// The broker has never been started.
    case notStarted
}
