import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import NSQ

/// The connection handler on an in-memory channel: exact bytes out, frames in, no sockets.
@Suite("Connection handler")
struct ConnectionHandlerTests {
    private struct Harness {
        let channel: EmbeddedChannel
        let handshake: EventLoopFuture<NSQNegotiatedSettings>

        init(subscription: (topic: String, channel: String)? = nil) throws {
            channel = EmbeddedChannel()
            let promise = channel.eventLoop.makePromise(of: NSQNegotiatedSettings.self)
            handshake = promise.futureResult
            let handler = NSQConnectionHandler(
                identify: NSQIdentifyRequest(
                    clientID: "c",
                    hostname: "h",
                    userAgent: "u",
                    heartbeatIntervalMilliseconds: 1000,
                    messageTimeoutMilliseconds: 0
                ),
                subscription: subscription,
                address: NSQAddress(host: "127.0.0.1", port: 4150),
                handshakePromise: promise,
                handshakeTimeout: .seconds(5),
                responseTimeout: .seconds(5),
                delegate: nil,
                logger: quietLogger
            )
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4150)).wait()
        }

        /// Everything the handler wrote since the last call, flushes included.
        func written() throws -> String {
            (channel.eventLoop as? EmbeddedEventLoop)?.run()
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }

        func receive(_ frame: NSQFrame) throws {
            try channel.writeInbound(frame)
        }
    }

    @Test func handshakeWritesMagicThenIdentify() throws {
        let harness = try Harness()
        let written = try harness.written()
        #expect(written.hasPrefix("  V2IDENTIFY\n"))
        #expect(written.hasSuffix(#""user_agent":"u"}"#))
        try harness.receive(.response(ByteBuffer(string: "OK")))
        #expect(try harness.handshake.wait() == .unnegotiated)
    }

    @Test func subscribesAfterIdentifyAndAnswersHeartbeats() throws {
        let harness = try Harness(subscription: ("events", "archive"))
        _ = try harness.written()
        try harness.receive(.response(ByteBuffer(string: #"{"max_rdy_count":50}"#)))
        #expect(try harness.written() == "SUB events archive\n")
        try harness.receive(.response(ByteBuffer(string: "OK")))
        #expect(try harness.handshake.wait().maxReadyCount == 50)
        try harness.receive(.response(ByteBuffer(string: "_heartbeat_")))
        #expect(try harness.written() == "NOP\n")
    }

    @Test func pipelinedPublishesCompleteInOrder() throws {
        let harness = try Harness()
        try harness.receive(.response(ByteBuffer(string: "OK")))
        _ = try harness.written()
        let first = harness.channel.eventLoop.makePromise(of: Void.self)
        let second = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.channel.writeAndFlush(
            NSQOutboundRequest(command: .publish(topic: "t", body: ByteBuffer(string: "a"))),
            promise: first
        )
        harness.channel.writeAndFlush(
            NSQOutboundRequest(command: .publish(topic: "t", body: ByteBuffer(string: "b"))),
            promise: second
        )
        #expect(try harness.written() == "PUB t\n\0\0\0\u{1}aPUB t\n\0\0\0\u{1}b")
        try harness.receive(.response(ByteBuffer(string: "OK")))
        #expect(throws: Never.self) { try first.futureResult.wait() }
        try harness.receive(.error(ByteBuffer(string: "E_PUB_FAILED disk full")))
        #expect(throws: NSQError.publishFailed) { try second.futureResult.wait() }
        #expect(!harness.channel.isActive)
    }

    @Test func requeueWithBackoffIsFollowedByReadyZero() throws {
        let harness = try Harness(subscription: ("events", "archive"))
        try harness.receive(.response(ByteBuffer(string: "OK")))
        try harness.receive(.response(ByteBuffer(string: "OK")))
        harness.channel.writeAndFlush(NSQOutboundRequest(command: .ready(count: 5)), promise: nil)
        _ = try harness.written()
        for (index, id) in ["000000000000000a", "000000000000000b"].enumerated() {
            try harness.receive(
                .message(NSQRawMessage(timestamp: 0, attempts: 1, id: id, body: ByteBuffer(string: "m\(index)")))
            )
        }
        harness.channel.writeAndFlush(
            NSQOutboundRequest(
                command: .requeue(messageID: "000000000000000a", delayMilliseconds: 0),
                outcome: .requeueWithoutBackoff(delay: .zero)
            ),
            promise: nil
        )
        #expect(try harness.written() == "REQ 000000000000000a 0\n")
        // A failure: nsqd must not send anything more before the consumer's backoff is in place.
        harness.channel.writeAndFlush(
            NSQOutboundRequest(
                command: .requeue(messageID: "000000000000000b", delayMilliseconds: 50),
                outcome: .requeue(delay: .milliseconds(50))
            ),
            promise: nil
        )
        #expect(try harness.written() == "REQ 000000000000000b 50\nRDY 0\n")
        // The consumer's own RDY 0 for the backoff then changes nothing and is not sent again.
        let again = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.channel.writeAndFlush(NSQOutboundRequest(command: .ready(count: 0)), promise: again)
        #expect(throws: Never.self) { try again.futureResult.wait() }
        #expect(try harness.written() == "")
    }
}
