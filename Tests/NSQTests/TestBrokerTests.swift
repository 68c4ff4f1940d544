import NIOCore
import NIOPosix
import NSQTestBroker
import Testing

@testable import NSQ

/// The broker checked with raw bytes, independent of the client library's connection code.
@Suite("Test broker protocol")
struct TestBrokerTests {
    private func identify(_ json: String) -> NSQCommand { .identify(json: Array(json.utf8)) }

    @Test func badMagicIsRejected() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        try await RawNSQClient.withConnection(port: try await broker.port) { client in
            try await client.send("  V1")
            #expect(try await client.nextFrame()?.text?.hasPrefix("E_BAD_PROTOCOL") == true)
            #expect(try await client.nextFrame() == nil)
        }
    }

    @Test func identifyNegotiatesOrAnswersOK() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        let port = try await broker.port
        try await RawNSQClient.withConnection(port: port) { client in
            try await client.send("  V2")
            try await client.send(identify(#"{"client_id":"raw","feature_negotiation":true,"msg_timeout":5000}"#))
            let json = try #require(try await client.nextFrame()?.text)
            #expect(json.contains(#""max_rdy_count":2500"#))
            #expect(json.contains(#""msg_timeout":5000"#))
            #expect(json.contains(#""tls_v1":false"#))
        }
        try await RawNSQClient.withConnection(port: port) { client in
            try await client.send("  V2")
            try await client.send(identify(#"{"client_id":"plain"}"#))
            #expect(try await client.nextFrame()?.text == "OK")
            try await client.send(identify(#"{"client_id":"again"}"#))
            #expect(try await client.nextFrame()?.text == "E_INVALID cannot IDENTIFY in current state")
        }
        try await RawNSQClient.withConnection(port: port) { client in
            try await client.send("  V2")
            try await client.send(identify(#"{"heartbeat_interval":1}"#))
            #expect(try await client.nextFrame()?.text?.hasPrefix("E_BAD_BODY") == true)
            #expect(try await client.nextFrame() == nil)
        }
    }

    @Test func errorsForBadCommandsAndNames() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        let port = try await broker.port
        let cases: [(NSQCommand?, String, String)] = [
            (.publish(topic: "bad!topic", body: ByteBuffer(string: "x")), "", "E_BAD_TOPIC"),
            (.subscribe(topic: "good", channel: "bad!channel"), "", "E_BAD_CHANNEL"),
            (.publish(topic: "good", body: ByteBuffer()), "", "E_BAD_MESSAGE"),
            (.multiPublish(topic: "good", bodies: []), "", "E_BAD_BODY"),
            (.ready(count: 1), "", "E_INVALID"),
            (
                .deferredPublish(topic: "good", body: ByteBuffer(string: "x"), delayMilliseconds: 99_999_999), "",
                "E_INVALID"
            ),
            (nil, "BOGUS\n", "E_INVALID"),
        ]
        for (command, text, expectedCode) in cases {
            try await RawNSQClient.withConnection(port: port) { client in
                try await client.send("  V2")
                if let command { try await client.send(command) } else { try await client.send(text) }
                let answer = try await client.nextFrame()
                #expect(
                    answer?.text?.hasPrefix(expectedCode + " ") == true,
                    "\(String(describing: command)) → \(String(describing: answer))"
                )
                #expect(try await client.nextFrame() == nil, "nsqd closes after \(expectedCode)")
            }
        }
    }

    @Test func failedFinishIsNotFatalAndClsAnswersCloseWait() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        try await RawNSQClient.withConnection(port: try await broker.port) { client in
            try await client.send("  V2")
            try await client.send(.subscribe(topic: "raw", channel: "c"))
            #expect(try await client.nextFrame()?.text == "OK")
            try await client.send(.finish(messageID: "0123456789abcdef"))
            #expect(try await client.nextFrame()?.text?.hasPrefix("E_FIN_FAILED") == true)
            try await client.send(.publish(topic: "raw", body: ByteBuffer(string: "still open")))
            #expect(try await client.nextFrame()?.text == "OK")
            try await client.send(.close)
            #expect(try await client.nextFrame()?.text == "CLOSE_WAIT")
        }
    }

    @Test func topicHoldsMessagesUntilAChannelExistsAndEveryChannelGetsACopy() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        try await broker.publish(topic: "fanout", body: Array("early".utf8))
        #expect(try await broker.topicDepth(topic: "fanout") == 1)
        let port = try await broker.port
        try await RawNSQClient.withConnection(port: port) { first in
            try await first.send("  V2")
            try await first.send(.subscribe(topic: "fanout", channel: "first"))
            #expect(try await first.nextFrame()?.text == "OK")
            try await RawNSQClient.withConnection(port: port) { second in
                try await second.send("  V2")
                try await second.send(.subscribe(topic: "fanout", channel: "second"))
                #expect(try await second.nextFrame()?.text == "OK")
                try await second.send(.publish(topic: "fanout", body: ByteBuffer(string: "late")))
                #expect(try await second.nextFrame()?.text == "OK")
                // "early" was handed to the only channel that existed when it appeared.
                #expect(try await receive(2, on: &first) == ["early", "late"])
                #expect(try await receive(1, on: &second) == ["late"])
            }
        }
        try await waitUntil("both FINs processed") {
            try await broker.channelStats(topic: "fanout", channel: "first")?.finishedCount == 2
        }
    }

    private func receive(_ count: Int, on client: inout RawNSQClient) async throws -> [String] {
        try await client.send(.ready(count: 10))
        var bodies: [String] = []
        while bodies.count < count, case .message(let message) = try await client.nextNonHeartbeatFrame() {
            #expect(message.attempts == 1)
            bodies.append(String(buffer: message.body))
            try await client.send(.finish(messageID: message.id))
        }
        return bodies
    }

    @Test func silentClientIsDisconnectedAfterTwoHeartbeats() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        let start = ContinuousClock.now
        let heartbeats = try await RawNSQClient.withConnection(port: try await broker.port) { client in
            try await client.send("  V2")
            try await client.send(identify(#"{"heartbeat_interval":100}"#))
            #expect(try await client.nextFrame()?.text == "OK")
            var heartbeats = 0
            while let frame = try await client.nextFrame() {
                if frame.text == "_heartbeat_" { heartbeats += 1 }
            }
            return heartbeats
        }
        let elapsed = ContinuousClock.now - start
        #expect(heartbeats >= 1)
        #expect(elapsed >= .milliseconds(200))
        #expect(elapsed < .seconds(2))
    }

    @Test func clientAnsweringHeartbeatsStaysConnected() async throws {
        let broker = try await startBroker()
        defer { Task { await broker.stop() } }
        try await RawNSQClient.withConnection(port: try await broker.port) { client in
            try await client.send("  V2")
            // Long enough that each NOP gets there within an interval on a loaded machine.
            try await client.send(identify(#"{"heartbeat_interval":300}"#))
            #expect(try await client.nextFrame()?.text == "OK")
            // Well past the two intervals after which a silent client is dropped.
            for _ in 0..<4 {
                #expect(try await client.nextFrame()?.text == "_heartbeat_")
                try await client.send(.nop)
            }
        }
    }

    @Test func brokerStallIsNotHeldAgainstClients() async throws {
        // A loop of its own, so the test can stall the broker without stalling the client.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let broker = try await NSQTestBroker.started(
            configuration: .fastTests,
            eventLoopGroup: group,
            logger: quietLogger
        )
        try await RawNSQClient.withConnection(port: try await broker.port) { client in
            try await client.send("  V2")
            try await client.send(identify(#"{"heartbeat_interval":250}"#))
            #expect(try await client.nextFrame()?.text == "OK")
            #expect(try await client.nextFrame()?.text == "_heartbeat_")
            try await client.send(.nop)
            // The broker's loop stands still for four intervals; the client's NOP arrives meanwhile, unread.
            let stall = group.next().submit { _ = usleep(1_000_000) }
            try await Task.sleep(for: .milliseconds(200))
            try await client.send(.nop)
            try await stall.get()
            // Still connected: the stall was the broker's, not the client's silence.
            for _ in 0..<2 {
                #expect(try await client.nextFrame()?.text == "_heartbeat_")
                try await client.send(.nop)
            }
            #expect(try await broker.clients().count == 1)
        }
        await broker.stop()
        try await group.shutdownGracefully()
    }

    @Test func stopClosesEveryConnectionAndRestartsOnTheSamePort() async throws {
        let broker = try await startBroker()
        let port = try await broker.port
        try await RawNSQClient.withConnection(port: port) { client in
            try await client.send("  V2")
            try await client.send(.subscribe(topic: "restart", channel: "c"))
            #expect(try await client.nextFrame()?.text == "OK")
            await broker.stop()
            #expect(try await broker.clients().isEmpty)
            // Closed by the broker before stop() returned, not left for later.
            #expect(try await client.nextFrame() == nil)
            // The port is free again although this side of the old connection is still open.
            #expect(try await broker.start() == port)
        }
        try await RawNSQClient.withConnection(port: port) { client in
            try await client.send("  V2")
            try await client.send(.publish(topic: "restart", body: ByteBuffer(string: "after")))
            #expect(try await client.nextFrame()?.text == "OK")
        }
        await broker.stop()
    }
}
