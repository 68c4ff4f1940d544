import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One copy of a published message, as one channel holds it.
struct BrokerMessage {
    var id: String
    var body: ByteBuffer
    /// Nanoseconds since the Unix epoch at publish time.
    var timestamp: Int64
    /// Deliveries so far; incremented as the message is sent to a client.
    var attempts: UInt16 = 0
    /// For DPUB: not deliverable before this time.
    var deliverAt: NIODeadline?

    static func wallClockNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// A message a client has been sent and not yet answered.
struct BrokerInFlight {
    var message: BrokerMessage
    var clientID: Int
    var deadline: NIODeadline
}

/// A topic: fans every message out to each of its channels, or keeps it until the first channel appears.
final class BrokerTopic {
    let name: String
    private(set) var channels: [String: BrokerChannel] = [:]
    /// Messages published while the topic had no channel; nsqd holds these for the first channel.
    var waitingForChannel = CircularBuffer<BrokerMessage>()
    var publishedCount = 0

    init(name: String) {
        self.name = name
    }

    func put(_ message: BrokerMessage) {
        publishedCount += 1
        if channels.isEmpty {
            waitingForChannel.append(message)
        } else {
            for channel in channels.values { channel.put(message) }
        }
    }

    func channel(named channelName: String) -> BrokerChannel {
        if let existing = channels[channelName] { return existing }
        let channel = BrokerChannel(topicName: name, name: channelName)
        channels[channelName] = channel
        while let waiting = waitingForChannel.popFirst() { channel.put(waiting) }
        return channel
    }

    func removeChannel(named channelName: String) {
        channels[channelName] = nil
    }
}

/// A channel: its own queue of the topic's messages, shared by the clients subscribed to it.
final class BrokerChannel {
    let topicName: String
    let name: String
    var ready = CircularBuffer<BrokerMessage>()
    var deferred: [(deliverAt: NIODeadline, message: BrokerMessage)] = []
    var inFlight: [String: BrokerInFlight] = [:]
    var clients: [BrokerClient] = []
    private var nextClientIndex = 0
    var finishedCount = 0
    var requeuedCount = 0
    var timedOutCount = 0
    var deliveredCount = 0

    init(topicName: String, name: String) {
        self.topicName = topicName
        self.name = name
    }

    var isEphemeral: Bool { name.hasSuffix("#ephemeral") }

    func put(_ message: BrokerMessage) {
        if let deliverAt = message.deliverAt, deliverAt > .now() {
            putDeferred(message, until: deliverAt)
        } else {
            ready.append(message)
        }
    }

    func putDeferred(_ message: BrokerMessage, until deadline: NIODeadline) {
        var message = message
        message.deliverAt = nil
        deferred.append((deadline, message))
    }

    /// Sends ready messages to clients with RDY to spare, round-robin.
    func pump(now: NIODeadline) {
        while !ready.isEmpty, let client = nextReadyClient() {
            guard var message = ready.popFirst() else { return }
            message.attempts &+= 1
            inFlight[message.id] = BrokerInFlight(
                message: message,
                clientID: client.id,
                deadline: now + client.messageTimeout
            )
            deliveredCount += 1
            client.inFlightCount += 1
            client.sendMessage(message)
        }
    }

    private func nextReadyClient() -> BrokerClient? {
        guard !clients.isEmpty else { return nil }
        for offset in 0..<clients.count {
            let index = (nextClientIndex + offset) % clients.count
            if clients[index].canReceiveMessage {
                nextClientIndex = index + 1
                return clients[index]
            }
        }
        return nil
    }

    /// Moves due deferred messages and expired in-flight messages back to the ready queue.
    func scan(now: NIODeadline, clientsByID: [Int: BrokerClient]) {
        if !deferred.isEmpty {
            var stillDeferred: [(deliverAt: NIODeadline, message: BrokerMessage)] = []
            for entry in deferred {
                if entry.deliverAt <= now { ready.append(entry.message) } else { stillDeferred.append(entry) }
            }
            deferred = stillDeferred
        }
        for (id, entry) in inFlight where entry.deadline <= now {
            inFlight[id] = nil
            timedOutCount += 1
            clientsByID[entry.clientID]?.inFlightCount -= 1
            ready.append(entry.message)
        }
    }

    /// Extends every in-flight message's timeout by `stall`, time the broker's event loop did not run.
    func forgiveStall(_ stall: TimeAmount) {
        for index in inFlight.indices { inFlight.values[index].deadline = inFlight.values[index].deadline + stall }
    }

    /// Puts every in-flight and deferred message back in the queue, as nsqd persists them on shutdown.
    func requeueEverything() {
        for entry in inFlight.values { ready.append(entry.message) }
        inFlight.removeAll()
        for entry in deferred { ready.append(entry.message) }
        deferred.removeAll()
    }
}
