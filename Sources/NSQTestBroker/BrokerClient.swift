import Logging
import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One client connection to the broker: parses its commands, applies them to ``BrokerState`` and writes frames.
///
/// Lives on the broker's single event loop, like all broker state, so it needs no locking.
final class BrokerClient: ChannelInboundHandler {
    typealias InboundIn = BrokerInbound
    typealias OutboundOut = ByteBuffer

    enum State: String {
        case initial
        case subscribed
        case closing
        case closed
    }

    let id: Int
    private let broker: BrokerState
    private var context: ChannelHandlerContext?
    private(set) var state: State = .initial
    private(set) var identity = BrokerIdentify()
    private(set) var subscription: BrokerChannel?
    private(set) var heartbeatInterval: TimeAmount?
    private(set) var messageTimeout: TimeAmount
    private(set) var readyCount = 0
    /// Every RDY count received, oldest first.
    private(set) var readyHistory: [Int] = []
    var inFlightCount = 0
    private(set) var lastReadAt = NIODeadline.now()
    private var heartbeatTask: RepeatedTask?
    private var needsFlush = false

    init(id: Int, broker: BrokerState) {
        self.id = id
        self.broker = broker
        self.heartbeatInterval = TimeAmount(broker.configuration.defaultHeartbeatInterval)
        self.messageTimeout = TimeAmount(broker.configuration.defaultMessageTimeout)
    }

    var canReceiveMessage: Bool { state == .subscribed && inFlightCount < readyCount }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if broker.failure == .refuseConnections {
            state = .closed
            context.close(promise: nil)
            return
        }
        lastReadAt = .now()
        scheduleHeartbeats()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        heartbeatTask?.cancel()
        broker.clientDisconnected(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closed else { return }
        lastReadAt = .now()
        switch unwrapInboundIn(data) {
        case .magic(let valid):
            if !valid { fatal("E_BAD_PROTOCOL", "bad protocol magic") }
        case .rejected(let code, let text):
            fatal(code, text)
        case .command(let name, let parameters, let body):
            execute(name: name, parameters: parameters, body: body)
        }
        broker.flushClients()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: Output

    func sendResponse(_ text: String) {
        write { BrokerWire.writeFrame(.response, text, into: &$0) }
    }

    func sendMessage(_ message: BrokerMessage) {
        write { BrokerWire.writeMessage(message, into: &$0) }
    }

    private func sendError(_ code: String, _ text: String) {
        write { BrokerWire.writeFrame(.error, "\(code) \(text)", into: &$0) }
    }

    /// Sends an error and closes the connection, as nsqd does for all errors but failed FIN/REQ/TOUCH.
    private func fatal(_ code: String, _ text: String) {
        sendError(code, text)
        state = .closed
        context?.flush()
        context?.close(promise: nil)
    }

    private func write(_ encode: (inout ByteBuffer) -> Void) {
        guard let context, state != .closed else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        encode(&buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
        if !needsFlush {
            needsFlush = true
            broker.markNeedsFlush(self)
        }
    }

    func flush() {
        needsFlush = false
        context?.flush()
    }

    func close() {
        context?.close(promise: nil)
    }

    // MARK: Heartbeats

    private func scheduleHeartbeats() {
        heartbeatTask?.cancel()
        guard let interval = heartbeatInterval, let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        heartbeatTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let client = bound.value
            client.sendResponse("_heartbeat_")
            client.broker.flushClients()
        }
    }

    /// Moves the read deadline back by `stall`, time the broker's event loop did not run (and so did not read).
    func forgiveStall(_ stall: TimeAmount, now: NIODeadline) {
        lastReadAt = min(lastReadAt + stall, now)
    }

    /// nsqd's read deadline: a client silent for two heartbeat intervals is disconnected.
    func checkHeartbeatDeadline(now: NIODeadline) {
        guard state != .closed, let interval = heartbeatInterval else { return }
        if now - lastReadAt >= interval * 2 {
            broker.logger.debug("client missed heartbeats, disconnecting", metadata: ["client": "\(id)"])
            state = .closed
            context?.close(promise: nil)
        }
    }

    // MARK: Commands

    private func execute(name: String, parameters: [String], body: ByteBuffer?) {
        switch name {
        case "IDENTIFY": identify(body: body)
        case "SUB": subscribe(parameters)
        case "RDY": ready(parameters)
        case "FIN": finish(parameters)
        case "REQ": requeue(parameters)
        case "TOUCH": touch(parameters)
        case "NOP": break
        case "CLS": closeWait()
        case "PUB": publish(parameters, body: body)
        case "MPUB": multiPublish(parameters, body: body)
        case "DPUB": deferredPublish(parameters, body: body)
        case "AUTH": fatal("E_AUTH_DISABLED", "AUTH disabled")
        default: fatal("E_INVALID", "invalid command \(name)")
        }
    }

    private func identify(body: ByteBuffer?) {
        guard state == .initial, !identity.received else {
            return fatal("E_INVALID", "cannot IDENTIFY in current state")
        }
        guard let body, let request = try? JSONDecoder().decode(BrokerIdentify.self, from: Data(body.readableBytesView))
        else { return fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body") }
        let configuration = broker.configuration

        if let milliseconds = request.heartbeat_interval {
            switch milliseconds {
            case -1:
                heartbeatInterval = nil
            case 0:
                break
            default:
                let interval = Duration.milliseconds(milliseconds)
                guard interval >= configuration.minimumHeartbeatInterval,
                    interval <= configuration.maximumHeartbeatInterval
                else { return fatal("E_BAD_BODY", "IDENTIFY heartbeat interval (\(milliseconds)) is invalid") }
                heartbeatInterval = TimeAmount(interval)
            }
        }
        if let milliseconds = request.msg_timeout, milliseconds != 0 {
            let timeout = Duration.milliseconds(milliseconds)
            guard timeout >= configuration.minimumMessageTimeout, timeout <= configuration.maximumMessageTimeout else {
                return fatal("E_BAD_BODY", "IDENTIFY msg timeout (\(milliseconds)) is invalid")
            }
            messageTimeout = TimeAmount(timeout)
        }
        identity = request
        identity.received = true
        scheduleHeartbeats()

        guard request.feature_negotiation == true else { return sendResponse("OK") }
        let response = BrokerIdentifyResponse(
            max_rdy_count: configuration.maximumReadyCount,
            version: "1.3.0-swift-test-broker",
            max_msg_timeout: configuration.maximumMessageTimeout.wholeMilliseconds,
            msg_timeout: Int64(messageTimeout.nanoseconds / 1_000_000),
            tls_v1: false,
            deflate: false,
            deflate_level: 0,
            max_deflate_level: 6,
            snappy: false,
            sample_rate: 0,
            auth_required: false,
            output_buffer_size: 16384,
            output_buffer_timeout: 250
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(response) else { return fatal("E_INVALID", "IDENTIFY failed") }
        write { BrokerWire.writeFrame(.response, bytes: Array(json), into: &$0) }
    }

    private func subscribe(_ parameters: [String]) {
        guard state == .initial else { return fatal("E_INVALID", "cannot SUB in current state") }
        guard parameters.count >= 2 else { return fatal("E_INVALID", "SUB insufficient number of parameters") }
        let (topicName, channelName) = (parameters[0], parameters[1])
        guard BrokerNames.isValid(topicName) else {
            return fatal("E_BAD_TOPIC", "SUB topic name \"\(topicName)\" is not valid")
        }
        guard BrokerNames.isValid(channelName) else {
            return fatal("E_BAD_CHANNEL", "SUB channel name \"\(channelName)\" is not valid")
        }
        let channel = broker.topic(named: topicName).channel(named: channelName)
        channel.clients.append(self)
        subscription = channel
        state = .subscribed
        sendResponse("OK")
    }

    private func ready(_ parameters: [String]) {
        if state == .closing { return }
        guard state == .subscribed else { return fatal("E_INVALID", "cannot RDY in current state") }
        var count = 1
        if let text = parameters.first {
            guard let parsed = Int(text) else { return fatal("E_INVALID", "RDY could not parse count \(text)") }
            count = parsed
        }
        let maximum = broker.configuration.maximumReadyCount
        guard (0...maximum).contains(count) else {
            return fatal("E_INVALID", "RDY count \(count) out of range 0-\(maximum)")
        }
        readyCount = count
        readyHistory.append(count)
        subscription?.pump(now: .now())
    }

    /// The message id parameter of FIN/REQ/TOUCH, or `nil` after a fatal error has been sent.
    private func messageID(_ parameters: [String], command: String) -> String? {
        guard state == .subscribed || state == .closing else {
            fatal("E_INVALID", "cannot \(command) in current state")
            return nil
        }
        guard let id = parameters.first else {
            fatal("E_INVALID", "\(command) insufficient number of params")
            return nil
        }
        guard id.utf8.count == 16 else {
            fatal("E_INVALID", "Invalid Message ID")
            return nil
        }
        return id
    }

    /// The in-flight entry for `id` if this client owns it; otherwise why not.
    private func ownedInFlight(_ id: String) -> Result<BrokerInFlight, BrokerOwnershipError> {
        guard let entry = subscription?.inFlight[id] else { return .failure(.notFound) }
        guard entry.clientID == self.id else { return .failure(.notOwned) }
        return .success(entry)
    }

    private func finish(_ parameters: [String]) {
        guard let id = messageID(parameters, command: "FIN"), let channel = subscription else { return }
        switch ownedInFlight(id) {
        case .failure(let reason):
            sendError("E_FIN_FAILED", "FIN \(id) failed \(reason.text)")
        case .success:
            channel.inFlight[id] = nil
            channel.finishedCount += 1
            inFlightCount -= 1
            channel.pump(now: .now())
        }
    }

    private func requeue(_ parameters: [String]) {
        guard let id = messageID(parameters, command: "REQ"), let channel = subscription else { return }
        guard parameters.count >= 2 else { return fatal("E_INVALID", "REQ insufficient number of params") }
        guard let milliseconds = Int64(parameters[1]) else {
            return fatal("E_INVALID", "REQ could not parse timeout \(parameters[1])")
        }
        let maximum = broker.configuration.maximumRequeueDelay.wholeMilliseconds
        guard (0...maximum).contains(milliseconds) else {
            return fatal("E_INVALID", "REQ timeout \(milliseconds) out of range 0-\(maximum)")
        }
        switch ownedInFlight(id) {
        case .failure(let reason):
            sendError("E_REQ_FAILED", "REQ \(id) failed \(reason.text)")
        case .success(let entry):
            channel.inFlight[id] = nil
            channel.requeuedCount += 1
            inFlightCount -= 1
            if milliseconds == 0 {
                channel.put(entry.message)
            } else {
                channel.putDeferred(entry.message, until: .now() + .milliseconds(milliseconds))
            }
            channel.pump(now: .now())
        }
    }

    private func touch(_ parameters: [String]) {
        guard let id = messageID(parameters, command: "TOUCH"), let channel = subscription else { return }
        switch ownedInFlight(id) {
        case .failure(let reason):
            sendError("E_TOUCH_FAILED", "TOUCH \(id) failed \(reason.text)")
        case .success:
            channel.inFlight[id]?.deadline = .now() + messageTimeout
        }
    }

    private func closeWait() {
        guard state == .subscribed else { return fatal("E_INVALID", "cannot CLS in current state") }
        // Like nsqd: stop sending, answer CLOSE_WAIT, and let the client close once its messages are answered.
        state = .closing
        readyCount = 0
        sendResponse("CLOSE_WAIT")
    }

    private func publish(_ parameters: [String], body: ByteBuffer?) {
        guard let topicName = parameters.first else {
            return fatal("E_INVALID", "PUB insufficient number of parameters")
        }
        guard BrokerNames.isValid(topicName) else {
            return fatal("E_BAD_TOPIC", "PUB topic name \"\(topicName)\" is not valid")
        }
        guard let body else { return fatal("E_BAD_MESSAGE", "PUB failed to read message body") }
        if broker.failure == .failPublishes { return fatal("E_PUB_FAILED", "PUB failed simulated failure") }
        broker.publish(topic: topicName, bodies: [body])
        sendResponse("OK")
    }

    private func multiPublish(_ parameters: [String], body: ByteBuffer?) {
        guard let topicName = parameters.first else {
            return fatal("E_INVALID", "MPUB insufficient number of parameters")
        }
        guard BrokerNames.isValid(topicName) else {
            return fatal("E_BAD_TOPIC", "MPUB topic name \"\(topicName)\" is not valid")
        }
        guard var body, let count = body.readInteger(as: Int32.self) else {
            return fatal("E_BAD_BODY", "MPUB failed to read message count")
        }
        let maximumCount = broker.configuration.maximumBodySize / 4
        guard count > 0, Int(count) <= maximumCount else {
            return fatal("E_BAD_BODY", "MPUB invalid message count \(count)")
        }
        var messages: [ByteBuffer] = []
        messages.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let size = body.readInteger(as: Int32.self) else {
                return fatal("E_BAD_BODY", "MPUB failed to read message body size")
            }
            guard size > 0, Int(size) <= broker.configuration.maximumMessageSize else {
                return fatal("E_BAD_MESSAGE", "MPUB invalid message body size \(size)")
            }
            guard let message = body.readSlice(length: Int(size)) else {
                return fatal("E_BAD_BODY", "MPUB failed to read message body")
            }
            messages.append(message)
        }
        guard body.readableBytes == 0 else { return fatal("E_BAD_BODY", "MPUB body size does not match messages") }
        if broker.failure == .failPublishes { return fatal("E_MPUB_FAILED", "MPUB failed simulated failure") }
        broker.publish(topic: topicName, bodies: messages)
        sendResponse("OK")
    }

    private func deferredPublish(_ parameters: [String], body: ByteBuffer?) {
        guard parameters.count >= 2 else { return fatal("E_INVALID", "DPUB insufficient number of parameters") }
        let topicName = parameters[0]
        guard BrokerNames.isValid(topicName) else {
            return fatal("E_BAD_TOPIC", "DPUB topic name \"\(topicName)\" is not valid")
        }
        guard let milliseconds = Int64(parameters[1]) else {
            return fatal("E_INVALID", "DPUB could not parse timeout \(parameters[1])")
        }
        let maximum = broker.configuration.maximumRequeueDelay.wholeMilliseconds
        guard (0...maximum).contains(milliseconds) else {
            return fatal("E_INVALID", "DPUB timeout \(milliseconds) out of range 0-\(maximum)")
        }
        guard let body else { return fatal("E_BAD_MESSAGE", "DPUB failed to read message body") }
        if broker.failure == .failPublishes { return fatal("E_DPUB_FAILED", "DPUB failed simulated failure") }
        broker.publish(topic: topicName, bodies: [body], delay: .milliseconds(milliseconds))
        sendResponse("OK")
    }

    /// What tests can see of this client.
    var info: NSQTestBroker.ClientInfo {
        NSQTestBroker.ClientInfo(
            id: id,
            clientID: identity.client_id,
            hostname: identity.hostname,
            userAgent: identity.user_agent,
            topic: subscription?.topicName,
            channel: subscription?.name,
            state: state.rawValue,
            readyCount: readyCount,
            readyHistory: readyHistory,
            inFlightCount: inFlightCount,
            heartbeatInterval: heartbeatInterval.map { Duration.nanoseconds($0.nanoseconds) },
            messageTimeout: .nanoseconds(messageTimeout.nanoseconds),
            featureNegotiation: identity.feature_negotiation ?? false
        )
    }
}

enum BrokerOwnershipError: Error {
    case notFound
    case notOwned

    var text: String {
        switch self {
        case .notFound: "message ID not in flight"
        case .notOwned: "client does not own message"
        }
    }
}

/// IDENTIFY's JSON body; nsqd ignores fields it does not know, and so does `JSONDecoder`.
struct BrokerIdentify: Decodable {
    var client_id: String?
    var hostname: String?
    var user_agent: String?
    var heartbeat_interval: Int64?
    var msg_timeout: Int64?
    var feature_negotiation: Bool?
    var tls_v1: Bool?
    var snappy: Bool?
    var deflate: Bool?
    var received = false

    enum CodingKeys: String, CodingKey {
        case client_id, hostname, user_agent, heartbeat_interval, msg_timeout, feature_negotiation, tls_v1, snappy,
            deflate
    }
}

/// The feature-negotiation answer to IDENTIFY, with nsqd's field names.
struct BrokerIdentifyResponse: Encodable {
    var max_rdy_count: Int
    var version: String
    var max_msg_timeout: Int64
    var msg_timeout: Int64
    var tls_v1: Bool
    var deflate: Bool
    var deflate_level: Int
    var max_deflate_level: Int
    var snappy: Bool
    var sample_rate: Int
    var auth_required: Bool
    var output_buffer_size: Int
    var output_buffer_timeout: Int
}

/// nsqd's topic and channel name rule, written separately from the client's on purpose.
enum BrokerNames {
    static func isValid(_ name: String) -> Bool {
        let suffix = "#ephemeral"
        guard !name.isEmpty, name.utf8.count <= 64 else { return false }
        let stem = name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
        guard !stem.isEmpty else { return false }
        return stem.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
            default: false
            }
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
