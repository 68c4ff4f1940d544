import NIOCore

/// A client → nsqd command of the V2 protocol.
///
/// Every command is a line terminated by `\n`; IDENTIFY, PUB, MPUB and DPUB are followed by a 4-byte
/// big-endian size and that many bytes of body.
enum NSQCommand: Sendable, Equatable {
    case identify(json: [UInt8])
    case subscribe(topic: String, channel: String)
    case ready(count: Int)
    case finish(messageID: String)
    /// `delayMilliseconds` is how long nsqd waits before redelivering.
    case requeue(messageID: String, delayMilliseconds: Int64)
    case touch(messageID: String)
    case nop
    case close
    case publish(topic: String, body: ByteBuffer)
    case multiPublish(topic: String, bodies: [ByteBuffer])
    case deferredPublish(topic: String, body: ByteBuffer, delayMilliseconds: Int64)

    /// Whether nsqd answers this command with a response or error frame on success.
    ///
    /// RDY, FIN, REQ, TOUCH and NOP are fire-and-forget: nsqd only ever answers them with an error.
    var expectsResponse: Bool {
        switch self {
        case .identify, .subscribe, .close, .publish, .multiPublish, .deferredPublish:
            return true
        case .ready, .finish, .requeue, .touch, .nop:
            return false
        }
    }
}

/// Turns commands into their exact wire bytes.
enum NSQCommandEncoder {
    /// The 4-byte protocol magic `"  V2"` a client sends first on every connection.
    static let magicV2: [UInt8] = Array("  V2".utf8)

    static func writeMagic(into buffer: inout ByteBuffer) {
        buffer.writeBytes(magicV2)
    }

    static func write(_ command: NSQCommand, into buffer: inout ByteBuffer) {
        switch command {
        case .identify(let json):
            buffer.writeStaticString("IDENTIFY\n")
            buffer.writeInteger(UInt32(json.count))
            buffer.writeBytes(json)
        case .subscribe(let topic, let channel):
            buffer.writeStaticString("SUB ")
            buffer.writeString(topic)
            buffer.writeStaticString(" ")
            buffer.writeString(channel)
            buffer.writeStaticString("\n")
        case .ready(let count):
            buffer.writeStaticString("RDY ")
            buffer.writeString(String(count))
            buffer.writeStaticString("\n")
        case .finish(let messageID):
            buffer.writeStaticString("FIN ")
            buffer.writeString(messageID)
            buffer.writeStaticString("\n")
        case .requeue(let messageID, let delayMilliseconds):
            buffer.writeStaticString("REQ ")
            buffer.writeString(messageID)
            buffer.writeStaticString(" ")
            buffer.writeString(String(delayMilliseconds))
            buffer.writeStaticString("\n")
        case .touch(let messageID):
            buffer.writeStaticString("TOUCH ")
            buffer.writeString(messageID)
            buffer.writeStaticString("\n")
        case .nop:
            buffer.writeStaticString("NOP\n")
        case .close:
            buffer.writeStaticString("CLS\n")
        case .publish(let topic, var body):
            buffer.writeStaticString("PUB ")
            buffer.writeString(topic)
            buffer.writeStaticString("\n")
            buffer.writeInteger(UInt32(body.readableBytes))
            buffer.writeBuffer(&body)
        case .multiPublish(let topic, let bodies):
            buffer.writeStaticString("MPUB ")
            buffer.writeString(topic)
            buffer.writeStaticString("\n")
            // The size covers everything after itself: the message count and every size-prefixed message.
            let payloadSize = bodies.reduce(4) { $0 + 4 + $1.readableBytes }
            buffer.writeInteger(UInt32(payloadSize))
            buffer.writeInteger(UInt32(bodies.count))
            for var body in bodies {
                buffer.writeInteger(UInt32(body.readableBytes))
                buffer.writeBuffer(&body)
            }
        case .deferredPublish(let topic, var body, let delayMilliseconds):
            buffer.writeStaticString("DPUB ")
            buffer.writeString(topic)
            buffer.writeStaticString(" ")
            buffer.writeString(String(delayMilliseconds))
            buffer.writeStaticString("\n")
            buffer.writeInteger(UInt32(body.readableBytes))
            buffer.writeBuffer(&body)
        }
    }

    /// Bytes `command` occupies on the wire, so callers can reserve capacity up front.
    static func encodedSize(of command: NSQCommand) -> Int {
        switch command {
        case .identify(let json): return 9 + 4 + json.count
        case .publish(let topic, let body): return 5 + topic.utf8.count + 4 + body.readableBytes
        case .multiPublish(let topic, let bodies):
            return 6 + topic.utf8.count + 8 + bodies.reduce(0) { $0 + 4 + $1.readableBytes }
        case .deferredPublish(let topic, let body, _): return 6 + topic.utf8.count + 21 + 4 + body.readableBytes
        default: return 64
        }
    }
}
