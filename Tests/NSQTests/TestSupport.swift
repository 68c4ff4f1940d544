import Logging
import NIOCore
import NIOPosix
import NSQTestBroker
import Testing

@testable import NSQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct ConditionTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` until it holds, failing the test after `timeout`.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(4),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw ConditionTimedOut(what: what)
}

/// What a test consumer saw.
actor Received {
    struct Delivery: Sendable {
        var body: String
        var id: String
        var attempts: UInt16
        var at: ContinuousClock.Instant
    }

    private(set) var deliveries: [Delivery] = []

    func record(_ message: NSQMessage) {
        deliveries.append(
            Delivery(body: String(buffer: message.body), id: message.id, attempts: message.attempts, at: .now)
        )
    }

    var count: Int { deliveries.count }
    var bodies: [String] { deliveries.map(\.body) }
}

/// Holds test handlers until the test opens it.
actor Gate {
    private var isOpen = false

    func open() {
        isOpen = true
    }

    /// Returns once the gate is open; throws if the task is cancelled first.
    func wait() async throws {
        while !isOpen { try await Task.sleep(for: .milliseconds(5)) }
    }
}

/// A fresh broker with heartbeats and timeouts allowed down to 10 ms.
func startBroker() async throws -> NSQTestBroker {
    try await NSQTestBroker.started(configuration: .fastTests, logger: quietLogger)
}

let quietLogger: Logger = {
    var logger = Logger(label: "nsq.tests")
    // NSQ_TEST_LOG=debug shows what the clients and the broker do.
    logger.logLevel = ProcessInfoLite.environment("NSQ_TEST_LOG").flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

func consumerConfiguration(
    topic: String,
    channel: String = "tests",
    addresses: [String],
    maxInFlight: Int = 10
) -> NSQConsumerConfiguration {
    NSQConsumerConfiguration(
        topic: topic,
        channel: channel,
        addresses: addresses,
        maxInFlight: maxInFlight,
        heartbeatInterval: .seconds(5),
        connectTimeout: .seconds(2),
        initialReconnectDelay: .milliseconds(20),
        maximumReconnectDelay: .milliseconds(200),
        initialBackoff: .milliseconds(50),
        maximumBackoff: .milliseconds(200),
        drainTimeout: .seconds(3)
    )
}

func producerConfiguration(addresses: [String]) -> NSQProducerConfiguration {
    NSQProducerConfiguration(
        addresses: addresses,
        connectTimeout: .seconds(2),
        responseTimeout: .seconds(3),
        initialReconnectDelay: .milliseconds(20),
        maximumReconnectDelay: .milliseconds(200)
    )
}

/// Runs `consumer` for the duration of `body`, then shuts it down and waits for `run()` to return.
func whileRunning<T: Sendable>(
    _ consumer: NSQConsumer,
    _ body: () async throws -> T
) async throws -> T {
    let running = Task { try await consumer.run() }
    do {
        let result = try await body()
        consumer.shutdown()
        try await running.value
        return result
    } catch {
        running.cancel()
        _ = try? await running.value
        throw error
    }
}

/// A bare TCP client for checking the broker byte by byte.
struct RawNSQClient {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()

    /// Connects to `port` and runs `body` with the connection, closing it afterwards.
    static func withConnection<T: Sendable>(
        port: Int,
        _ body: (inout RawNSQClient) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var client = RawNSQClient(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&client)
        }
    }

    private init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    func send(_ command: NSQCommand) async throws {
        var buffer = ByteBuffer()
        NSQCommandEncoder.write(command, into: &buffer)
        try await outbound.write(buffer)
    }

    /// The next frame, or `nil` once the broker closed the connection.
    mutating func nextFrame() async throws -> NSQFrame? {
        while true {
            if let frame = try NSQFrameDecoder.decodeFrame(from: &buffer) { return frame }
            guard var more = try await inbound.next() else { return nil }
            buffer.writeBuffer(&more)
        }
    }

    /// The next frame that is not a heartbeat.
    mutating func nextNonHeartbeatFrame() async throws -> NSQFrame? {
        while let frame = try await nextFrame() {
            if frame != .response(ByteBuffer(string: "_heartbeat_")) { return frame }
        }
        return nil
    }
}

extension NSQFrame {
    var text: String? {
        switch self {
        case .response(let data), .error(let data): String(buffer: data)
        case .message: nil
        }
    }
}

enum ProcessInfoLite {
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
