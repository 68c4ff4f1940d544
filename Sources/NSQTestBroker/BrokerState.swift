import Logging
import NIOCore

/// Everything the broker knows, confined to its one event loop.
final class BrokerState {
    let configuration: NSQTestBroker.Configuration
    let logger: Logger
    private(set) var topics: [String: BrokerTopic] = [:]
    private(set) var clients: [Int: BrokerClient] = [:]
    var failure: NSQTestBroker.Failure?
    private var nextClientID = 1
    private var nextMessageID: UInt64 = 1
    private var clientsNeedingFlush: [BrokerClient] = []
    /// When the last ``scan()`` ran; `nil` while stopped.
    private var lastScanAt: NIODeadline?

    init(configuration: NSQTestBroker.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func makeClient() -> BrokerClient {
        let client = BrokerClient(id: nextClientID, broker: self)
        nextClientID += 1
        clients[client.id] = client
        return client
    }

    func clientDisconnected(_ client: BrokerClient) {
        clients[client.id] = nil
        guard let channel = client.subscription else { return }
        channel.clients.removeAll { $0 === client }
        // nsqd keeps the disconnected client's in-flight messages until they time out; so does the broker.
        if channel.isEphemeral, channel.clients.isEmpty {
            topics[channel.topicName]?.removeChannel(named: channel.name)
        }
        channel.pump(now: .now())
        flushClients()
    }

    func topic(named name: String) -> BrokerTopic {
        if let topic = topics[name] { return topic }
        let topic = BrokerTopic(name: name)
        topics[name] = topic
        return topic
    }

    func publish(topic topicName: String, bodies: [ByteBuffer], delay: TimeAmount? = nil) {
        let topic = topic(named: topicName)
        let timestamp = BrokerMessage.wallClockNanoseconds()
        let now = NIODeadline.now()
        for body in bodies {
            var message = BrokerMessage(id: makeMessageID(), body: body, timestamp: timestamp)
            if let delay, delay > .zero { message.deliverAt = now + delay }
            topic.put(message)
        }
        for channel in topic.channels.values { channel.pump(now: now) }
    }

    /// 16 lowercase hex characters, unique for the broker's lifetime.
    private func makeMessageID() -> String {
        let value = nextMessageID
        nextMessageID += 1
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: 16)
        for index in 0..<16 {
            bytes[15 - index] = digits[Int((value >> (UInt64(index) * 4)) & 0xF)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs every `scanInterval`: timeouts, due deferred messages, silent clients.
    func scan() {
        let now = NIODeadline.now()
        // A scan much later than scheduled means the event loop stood still (busy with other channels, or not
        // scheduled on a loaded machine), and so did reading: a NOP, FIN or TOUCH may be waiting unread in a socket.
        // Such a stall is not held against clients: read deadlines and message timeouts move back by its length.
        let interval = TimeAmount(configuration.scanInterval)
        if let lastScanAt, case let lateness = now - lastScanAt - interval, lateness > interval {
            for client in clients.values { client.forgiveStall(lateness, now: now) }
            for topic in topics.values {
                for channel in topic.channels.values { channel.forgiveStall(lateness) }
            }
        }
        lastScanAt = now
        for client in Array(clients.values) { client.checkHeartbeatDeadline(now: now) }
        for topic in topics.values {
            for channel in topic.channels.values {
                channel.scan(now: now, clientsByID: clients)
                channel.pump(now: now)
            }
        }
        flushClients()
    }

    func markNeedsFlush(_ client: BrokerClient) {
        clientsNeedingFlush.append(client)
    }

    func flushClients() {
        let pending = clientsNeedingFlush
        clientsNeedingFlush.removeAll(keepingCapacity: true)
        for client in pending { client.flush() }
    }

    func disconnectAllClients() {
        for client in clients.values { client.close() }
    }

    /// The listener and every connection are closed: drop what is left of the clients and queue every in-flight
    /// and deferred message again.
    func stopped() {
        disconnectAllClients()
        requeueEverything()
        lastScanAt = nil
    }

    func requeueEverything() {
        for topic in topics.values {
            for channel in topic.channels.values { channel.requeueEverything() }
        }
    }
}
