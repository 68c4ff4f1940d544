import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings shared by every connection a producer or consumer opens.
struct NSQConnectionSettings: Sendable {
    var clientID: String
    var hostname: String = NSQConnectionSettings.localHostname()
    var userAgent: String = "swift-nsq/1.0"
    /// `nil` disables heartbeats.
    var heartbeatInterval: Duration?
    /// `nil` keeps nsqd's default.
    var messageTimeout: Duration?
    var connectTimeout: Duration
    /// How long nsqd may take to answer a request before the connection is considered dead.
    var responseTimeout: Duration = .seconds(10)
    var maximumFrameSize = 16 * 1024 * 1024

    var identifyRequest: NSQIdentifyRequest {
        NSQIdentifyRequest(
            clientID: clientID,
            hostname: hostname,
            userAgent: userAgent,
            heartbeatIntervalMilliseconds: heartbeatInterval.map { max(1, $0.nsqMilliseconds) } ?? -1,
            messageTimeoutMilliseconds: messageTimeout?.nsqMilliseconds ?? 0
        )
    }

    static func localHostname() -> String {
        var bytes = [CChar](repeating: 0, count: 256)
        guard gethostname(&bytes, bytes.count) == 0 else { return "localhost" }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One live, handshaken connection to nsqd.
final class NSQConnection: Sendable {
    let address: NSQAddress
    let settings: NSQNegotiatedSettings
    private let channel: any Channel

    private init(address: NSQAddress, settings: NSQNegotiatedSettings, channel: any Channel) {
        self.address = address
        self.settings = settings
        self.channel = channel
    }

    /// Connects, sends the magic and IDENTIFY, and SUBs when `subscription` is given.
    ///
    /// Returns once nsqd accepted all of it; throws ``NSQError/connectionFailed`` when the TCP connection
    /// cannot be made, and nsqd's error when it rejects the handshake.
    static func connect(
        to address: NSQAddress,
        settings: NSQConnectionSettings,
        subscription: (topic: String, channel: String)? = nil,
        delegate: (any NSQConnectionDelegate)? = nil,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> NSQConnection {
        let eventLoop = eventLoopGroup.next()
        let handshakePromise = eventLoop.makePromise(of: NSQNegotiatedSettings.self)
        let identify = settings.identifyRequest
        let connectTimeout = TimeAmount(settings.connectTimeout)
        // Twice the heartbeat interval, as nsqd does for its clients, plus slack for a slow loop.
        let readTimeout = settings.heartbeatInterval.map { TimeAmount($0) * 2 + .milliseconds(500) }
        let maximumFrameSize = settings.maximumFrameSize
        let responseTimeout = TimeAmount(settings.responseTimeout)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let readTimeout { try sync.addHandler(IdleStateHandler(readTimeout: readTimeout)) }
                    try sync.addHandler(ByteToMessageHandler(NSQFrameByteDecoder(maximumFrameSize: maximumFrameSize)))
                    try sync.addHandler(
                        NSQConnectionHandler(
                            identify: identify,
                            subscription: subscription,
                            address: address,
                            handshakePromise: handshakePromise,
                            handshakeTimeout: connectTimeout,
                            responseTimeout: responseTimeout,
                            delegate: delegate,
                            logger: logger
                        )
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            handshakePromise.fail(NSQError.connectionFailed)
            throw NSQError.connectionFailed.with(message: "\(address): \(error)")
        }
        do {
            let negotiated = try await handshakePromise.futureResult.get()
            return NSQConnection(address: address, settings: negotiated, channel: channel)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Sends `command`; the future completes when nsqd accepted it (or, for commands nsqd never answers,
    /// when it was written).
    ///
    /// Fails with ``NSQError/notSent`` when the connection had closed before the command could be written.
    func send(_ command: NSQCommand) -> EventLoopFuture<Void> {
        Self.send(NSQOutboundRequest(command: command), on: channel)
    }

    static func send(_ request: NSQOutboundRequest, on channel: any Channel) -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(request, promise: promise)
        return promise.futureResult.flatMapErrorThrowing { error in
            if let error = error as? NSQError { throw error }
            if let error = error as? ChannelError, error == .ioOnClosedChannel || error == .alreadyClosed {
                throw NSQError.notSent
            }
            throw NSQError.connectionClosed.with(message: "\(error)")
        }
    }

    /// Messages delivered on this connection and not yet finished or requeued.
    func inFlightCount() -> EventLoopFuture<Int> {
        let promise = channel.eventLoop.makePromise(of: Int.self)
        channel.triggerUserOutboundEvent(NSQInFlightQuery(promise: promise)).whenFailure { error in
            promise.fail(error)
        }
        return promise.futureResult
    }

    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    var isActive: Bool { channel.isActive }

    func close() {
        channel.close(promise: nil)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    init(_ timeAmount: TimeAmount) {
        self = .nanoseconds(timeAmount.nanoseconds)
    }
}
