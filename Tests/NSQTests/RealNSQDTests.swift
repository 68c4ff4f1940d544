import Testing

@testable import NSQ

/// Round trip against a real nsqd, run only when `NSQD_TCP_ADDRESS` (e.g. `127.0.0.1:4150`) is set.
@Suite("Real nsqd", .enabled(if: ProcessInfoLite.environment("NSQD_TCP_ADDRESS") != nil))
struct RealNSQDTests {
    @Test func publishConsumeRequeue() async throws {
        let address = try #require(ProcessInfoLite.environment("NSQD_TCP_ADDRESS"))
        let topic = "swift-nsq-test-\(UInt32.random(in: 0...UInt32.max))#ephemeral"
        let producer = NSQProducer(configuration: producerConfiguration(addresses: [address]), logger: quietLogger)
        let received = Received()
        var configuration = consumerConfiguration(topic: topic, channel: "c#ephemeral", addresses: [address])
        configuration.heartbeatInterval = .seconds(1)
        configuration.messageTimeout = .seconds(5)
        let consumer = NSQConsumer(configuration: configuration, logger: quietLogger) { message in
            await received.record(message)
            if String(buffer: message.body) == "retry", message.attempts == 1 {
                return .requeueWithoutBackoff(delay: .milliseconds(10))
            }
            return .finish
        }
        try await whileRunning(consumer) {
            try await producer.publish(topic: topic, body: Array("one".utf8))
            try await producer.multiPublish(topic: topic, bodies: [Array("two".utf8), Array("retry".utf8)])
            try await producer.deferredPublish(topic: topic, body: Array("later".utf8), delay: .milliseconds(200))
            try await waitUntil("all messages", timeout: .seconds(10)) { await received.count >= 5 }
        }
        let deliveries = await received.deliveries
        #expect(Set(deliveries.map(\.body)) == ["one", "two", "retry", "later"])
        #expect(deliveries.filter { $0.body == "retry" }.map(\.attempts) == [1, 2])
        await producer.close()
    }
}
