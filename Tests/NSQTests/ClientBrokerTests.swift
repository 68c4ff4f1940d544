import Logging
import NIOCore
import NIOPosix
import NSQTestBroker
import Testing

@testable import NSQ

@Suite("Client against the test broker")
struct ClientBrokerTests {
    @Test func publishAndConsume() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let producer = NSQProducer(configuration: producerConfiguration(addresses: [address]), logger: quietLogger)
        let received = Received()
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "orders", addresses: [address], maxInFlight: 4),
            logger: quietLogger
        ) { message in
            await received.record(message)
            return .finish
        }
        try await whileRunning(consumer) {
            // Pipelined: all publishes are in flight on one connection at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { try await producer.publish(topic: "orders", body: Array("order-\(index)".utf8)) }
                }
                try await group.waitForAll()
            }
            try await waitUntil("20 messages") { await received.count == 20 }
        }
        #expect(Set(await received.bodies) == Set((0..<20).map { "order-\($0)" }))
        #expect(try await broker.publishedCount(topic: "orders") == 20)
        #expect(try await broker.channelStats(topic: "orders", channel: "tests")?.finishedCount == 20)
        let producerInfo = try #require(try await broker.clients().first { $0.clientID == "swift-nsq-producer" })
        #expect(producerInfo.featureNegotiation)
        #expect(producerInfo.userAgent == "swift-nsq/1.0")
        await producer.close()
        await broker.stop()
    }

    @Test func multiPublishDeliversEveryMessage() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let producer = NSQProducer(configuration: producerConfiguration(addresses: [address]), logger: quietLogger)
        try await producer.multiPublish(topic: "batch", bodies: (0..<50).map { Array("m\($0)".utf8) })
        #expect(try await broker.publishedCount(topic: "batch") == 50)
        let received = Received()
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "batch", addresses: [address], maxInFlight: 16),
            logger: quietLogger
        ) { message in
            await received.record(message)
            return .finish
        }
        try await whileRunning(consumer) {
            try await waitUntil("50 messages") { await received.count == 50 }
        }
        #expect(Set(await received.bodies) == Set((0..<50).map { "m\($0)" }))
        await producer.close()
        await broker.stop()
    }

    @Test func deferredPublishWaitsForTheDelay() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let producer = NSQProducer(configuration: producerConfiguration(addresses: [address]), logger: quietLogger)
        let received = Received()
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "later", addresses: [address]),
            logger: quietLogger
        ) { message in
            await received.record(message)
            return .finish
        }
        try await whileRunning(consumer) {
            try await waitUntil("subscription") { try await broker.clients().contains { $0.readyCount > 0 } }
            let published = ContinuousClock.now
            try await producer.deferredPublish(topic: "later", body: Array("deferred".utf8), delay: .seconds(1))
            // Held back: a delay long enough that even a loaded machine gets here well before it passes.
            #expect(await received.count == 0)
            #expect(try await broker.channelStats(topic: "later", channel: "tests")?.deferredCount == 1)
            try await waitUntil("deferred message") { await received.count == 1 }
            let delivery = try #require(await received.deliveries.first)
            // A lower bound only: delays on a loaded machine make the delivery later, never earlier.
            #expect(delivery.at - published >= .milliseconds(990))
            #expect(delivery.body == "deferred")
        }
        await producer.close()
        await broker.stop()
    }

    @Test func requeueRedeliversWithIncrementedAttempts() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let received = Received()
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "retry", addresses: [address]),
            logger: quietLogger
        ) { message in
            await received.record(message)
            return message.attempts < 3 ? .requeueWithoutBackoff(delay: .milliseconds(20)) : .finish
        }
        try await broker.publish(topic: "retry", body: Array("flaky".utf8))
        try await whileRunning(consumer) {
            try await waitUntil("third attempt") { await received.count == 3 }
        }
        let deliveries = await received.deliveries
        #expect(deliveries.map(\.attempts) == [1, 2, 3])
        #expect(Set(deliveries.map(\.id)).count == 1)
        let stats = try #require(try await broker.channelStats(topic: "retry", channel: "tests"))
        #expect(stats.requeuedCount == 2)
        #expect(stats.finishedCount == 1)
        await broker.stop()
    }

    @Test func unansweredMessageIsRedeliveredAfterTimeout() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        var configuration = consumerConfiguration(topic: "slow", addresses: [address], maxInFlight: 2)
        configuration.messageTimeout = .milliseconds(500)
        let received = Received()
        let consumer = NSQConsumer(configuration: configuration, logger: quietLogger) { message in
            await received.record(message)
            if message.attempts == 1 {
                // Outlive the message timeout without touching, until nsqd has given the message out again.
                try await waitUntil("redelivery") { await received.count >= 2 }
            }
            return .finish
        }
        try await broker.publish(topic: "slow", body: Array("stuck".utf8))
        try await whileRunning(consumer) {
            try await waitUntil("redelivery") { await received.count == 2 }
            try await waitUntil("finish") {
                try await broker.channelStats(topic: "slow", channel: "tests")?.finishedCount == 1
            }
        }
        #expect(await received.deliveries.map(\.attempts) == [1, 2])
        #expect(try await broker.channelStats(topic: "slow", channel: "tests")?.timedOutCount == 1)
        await broker.stop()
    }

    @Test func touchExtendsTheTimeout() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        var configuration = consumerConfiguration(topic: "touchy", addresses: [address])
        configuration.messageTimeout = .milliseconds(600)
        let received = Received()
        let consumer = NSQConsumer(configuration: configuration, logger: quietLogger) { message in
            await received.record(message)
            // 900 ms in all, well past the timeout; each TOUCH comes with 500 ms to spare on a loaded machine.
            for _ in 0..<9 {
                try await Task.sleep(for: .milliseconds(100))
                try await message.touch()
            }
            return .finish
        }
        try await broker.publish(topic: "touchy", body: Array("long job".utf8))
        try await whileRunning(consumer) {
            try await waitUntil("finish") {
                try await broker.channelStats(topic: "touchy", channel: "tests")?.finishedCount == 1
            }
        }
        #expect(await received.deliveries.map(\.attempts) == [1])
        #expect(try await broker.channelStats(topic: "touchy", channel: "tests")?.timedOutCount == 0)
        await broker.stop()
    }

    @Test func heartbeatsKeepTheConnectionAlive() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        var configuration = consumerConfiguration(topic: "beats", addresses: [address])
        // Long enough that answering within an interval holds on a loaded machine; a missed answer disconnects.
        configuration.heartbeatInterval = .milliseconds(250)
        let received = Received()
        let consumer = NSQConsumer(configuration: configuration, logger: quietLogger) { message in
            await received.record(message)
            return .finish
        }
        try await whileRunning(consumer) {
            try await waitUntil("subscription") { try await broker.clients().contains { $0.readyCount > 0 } }
            let connected = try await broker.clients().map(\.id)
            #expect(try await broker.clients().first?.heartbeatInterval == .milliseconds(250))
            // Four intervals: without NOPs the broker would have dropped the client after two.
            try await Task.sleep(for: .seconds(1))
            #expect(try await broker.clients().map(\.id) == connected)
            try await broker.publish(topic: "beats", body: Array("alive".utf8))
            try await waitUntil("message after heartbeats") { await received.count == 1 }
        }
        await broker.stop()
    }

    @Test func producerReconnectsAfterBrokerRestart() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let producer = NSQProducer(configuration: producerConfiguration(addresses: [address]), logger: quietLogger)
        try await producer.publish(topic: "durable", body: Array("before".utf8))
        await broker.stop()
        // Refused (connectionFailed), or written just before the close was noticed (connectionClosed).
        let downError = await #expect(throws: NSQError.self) {
            try await producer.publish(topic: "durable", body: Array("while down".utf8))
        }
        #expect(
            downError == .connectionFailed || downError == .connectionClosed,
            "\(String(describing: downError))"
        )
        try await broker.start()
        try await Task.sleep(for: .milliseconds(250))  // let the reconnect backoff (≤ 200 ms) pass
        try await producer.publish(topic: "durable", body: Array("after".utf8))
        #expect(try await broker.publishedCount(topic: "durable") == 2)
        #expect(try await broker.address == address)
        await producer.close()
        await broker.stop()
    }

    @Test func consumerReconnectsAfterBrokerRestart() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let received = Received()
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "restart", addresses: [address]),
            logger: quietLogger
        ) { message in
            await received.record(message)
            return .finish
        }
        try await whileRunning(consumer) {
            try await broker.publish(topic: "restart", body: Array("one".utf8))
            try await waitUntil("first message finished") {
                try await broker.channelStats(topic: "restart", channel: "tests")?.finishedCount == 1
            }
            await broker.stop()
            try await broker.start()
            try await broker.publish(topic: "restart", body: Array("two".utf8))
            try await waitUntil("message after restart") { await received.count >= 2 }
            try await waitUntil("full RDY on the new connection") {
                try await broker.clients().map(\.readyCount) == [10]
            }
        }
        #expect(await received.bodies == ["one", "two"])
        await broker.stop()
    }

    @Test func shutdownDrainsInFlightMessagesBeforeClosing() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let started = Received()
        let finished = Received()
        let release = Gate()
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "drain", addresses: [address], maxInFlight: 5),
            logger: quietLogger
        ) { message in
            await started.record(message)
            try await release.wait()
            await finished.record(message)
            return .finish
        }
        for index in 0..<5 { try await broker.publish(topic: "drain", body: Array("job-\(index)".utf8)) }
        let running = Task { try await consumer.run() }
        do {
            try await waitUntil("all five in flight") { await started.count == 5 }
            try await broker.publish(topic: "drain", body: Array("not taken".utf8))
            consumer.shutdown()
            // The handlers are still busy when the drain starts, and finish only once nsqd has the RDY 0, so no FIN
            // can make room for "not taken" before it.
            try await waitUntil("RDY 0") { try await broker.clients().first?.readyCount == 0 }
        } catch {
            running.cancel()
            await release.open()
            throw error
        }
        await release.open()
        try await running.value
        #expect(await finished.count == 5)
        let stats = try #require(try await broker.channelStats(topic: "drain", channel: "tests"))
        #expect(stats.finishedCount == 5)
        #expect(stats.inFlightCount == 0)
        #expect(stats.depth == 1)
        try await waitUntil("client gone") { try await broker.clients().isEmpty }
        await broker.stop()
    }

    @Test func readyIsSpreadAcrossBrokers() async throws {
        let first = try await startBroker()
        let second = try await startBroker()
        let addresses = [try await first.address, try await second.address]
        let consumer = NSQConsumer(
            configuration: consumerConfiguration(topic: "spread", addresses: addresses, maxInFlight: 6),
            logger: quietLogger
        ) { _ in .finish }
        try await whileRunning(consumer) {
            try await waitUntil("RDY 3 on each broker") {
                let counts = [
                    try await first.clients().first?.readyCount, try await second.clients().first?.readyCount,
                ]
                return counts == [3, 3]
            }
            // Losing one broker gives its share to the other.
            await second.stop()
            try await waitUntil("RDY 6 on the survivor") { try await first.clients().first?.readyCount == 6 }
        }
        await first.stop()
    }

    @Test func processingFailureBacksOff() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        var configuration = consumerConfiguration(topic: "backoff", addresses: [address], maxInFlight: 5)
        configuration.initialBackoff = .milliseconds(300)
        let received = Received()
        let consumer = NSQConsumer(configuration: configuration, logger: quietLogger) { message in
            await received.record(message)
            return message.attempts == 1 ? .requeue(delay: .milliseconds(50)) : .finish
        }
        try await broker.publish(topic: "backoff", body: Array("fails once".utf8))
        let readyHistory = try await whileRunning(consumer) {
            try await waitUntil("retry finished, then full RDY") {
                let finished = try await broker.channelStats(topic: "backoff", channel: "tests")?.finishedCount
                let ready = try await broker.clients().first?.readyCount
                return finished == 1 && ready == 5
            }
            return try await broker.clients().first?.readyHistory
        }
        // Full RDY, RDY 0 for the backoff after the failure, RDY 1 to test the waters, full RDY after the success.
        #expect(readyHistory == [5, 0, 1, 5])
        let deliveries = await received.deliveries
        #expect(deliveries.map(\.attempts) == [1, 2])
        // A lower bound only: the retry cannot come before the backoff has passed, however loaded the machine.
        if deliveries.count == 2 { #expect(deliveries[1].at - deliveries[0].at >= .milliseconds(300)) }
        await broker.stop()
    }

    @Test func typedErrors() async throws {
        let broker = try await startBroker()
        let address = try await broker.address
        let producer = NSQProducer(configuration: producerConfiguration(addresses: [address]), logger: quietLogger)
        await #expect(throws: NSQError.badTopic) { try await producer.publish(topic: "no spaces", body: [1]) }
        await #expect(throws: NSQError.badMessage) { try await producer.publish(topic: "ok", body: []) }
        await #expect(throws: NSQError.badBody) { try await producer.multiPublish(topic: "ok", bodies: [[UInt8]]()) }

        // nsqd's own E_BAD_TOPIC, bypassing the producer's local check.
        let connection = try await NSQConnection.connect(
            to: try NSQAddress(parsing: address),
            settings: NSQConnectionSettings(clientID: "raw", heartbeatInterval: nil, connectTimeout: .seconds(2)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: quietLogger
        )
        let error = await #expect(throws: NSQError.badTopic) {
            try await connection.send(.publish(topic: "bad!topic", body: ByteBuffer(string: "x"))).get()
        }
        #expect(error?.message?.hasPrefix("E_BAD_TOPIC") == true)

        await broker.setFailure(.failPublishes)
        await #expect(throws: NSQError.publishFailed) { try await producer.publish(topic: "ok", body: [1]) }
        await #expect(throws: NSQError.multiPublishFailed) {
            try await producer.multiPublish(topic: "ok", bodies: [[1]])
        }
        await #expect(throws: NSQError.deferredPublishFailed) {
            try await producer.deferredPublish(topic: "ok", body: [1], delay: .seconds(1))
        }
        await broker.setFailure(nil)
        try await producer.publish(topic: "ok", body: [1])
        await producer.close()
        await #expect(throws: NSQError.shutdown) { try await producer.publish(topic: "ok", body: [1]) }
        await broker.stop()
    }

    @Test func producerFailsOverToTheNextAddress() async throws {
        let down = try await startBroker()
        let downAddress = try await down.address
        await down.stop()
        let up = try await startBroker()
        let producer = NSQProducer(
            configuration: producerConfiguration(addresses: [downAddress, try await up.address]),
            logger: quietLogger
        )
        try await producer.publish(topic: "failover", body: Array("x".utf8))
        #expect(try await up.publishedCount(topic: "failover") == 1)

        await up.setFailure(.refuseConnections)
        await up.disconnectAllClients()
        await #expect(throws: NSQError.self) { try await producer.publish(topic: "failover", body: Array("y".utf8)) }
        await producer.close()
        await up.stop()
    }
}
