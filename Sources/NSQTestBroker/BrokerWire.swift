import NIOCore

/// Server-side framing: `[4-byte size][4-byte frame type][data]`, size counting type and data.
enum BrokerFrameType: UInt32 {
    case response = 0
    case error = 1
    case message = 2
}

enum BrokerWire {
    static let magicV2: [UInt8] = Array("  V2".utf8)

    static func writeFrame(_ type: BrokerFrameType, _ text: String, into buffer: inout ByteBuffer) {
        let bytes = text.utf8
        buffer.writeInteger(UInt32(4 + bytes.count))
        buffer.writeInteger(type.rawValue)
        buffer.writeString(text)
    }

    static func writeFrame(_ type: BrokerFrameType, bytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(4 + bytes.count))
        buffer.writeInteger(type.rawValue)
        buffer.writeBytes(bytes)
    }

    /// Message frame data: 8-byte timestamp (ns), 2-byte attempts, 16-byte ASCII id, body.
    static func writeMessage(_ message: BrokerMessage, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(4 + 8 + 2 + 16 + message.body.readableBytes))
        buffer.writeInteger(BrokerFrameType.message.rawValue)
        buffer.writeInteger(message.timestamp)
        buffer.writeInteger(message.attempts)
        buffer.writeString(message.id)
        var body = message.body
        buffer.writeBuffer(&body)
    }
}

/// One unit of client input, as the broker's command decoder sees it.
enum BrokerInbound: Sendable {
    case magic(valid: Bool)
    /// A command line split at spaces (name first), with its size-prefixed body for IDENTIFY/PUB/MPUB/DPUB/AUTH.
    case command(name: String, parameters: [String], body: ByteBuffer?)
    /// Input that nsqd would reject before looking at the command's meaning; always fatal.
    case rejected(code: String, text: String)
}

/// Splits the client byte stream into the magic and commands, waiting (and consuming nothing) until a whole
/// command with its body has arrived.
struct BrokerCommandDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = BrokerInbound

    let maximumMessageSize: Int
    let maximumBodySize: Int
    private var magicSeen = false
    private var failed = false
    private static let maximumLineLength = 64 * 1024

    init(maximumMessageSize: Int, maximumBodySize: Int) {
        self.maximumMessageSize = maximumMessageSize
        self.maximumBodySize = maximumBodySize
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> BrokerInbound? {
        // After a fatal rejection the connection is closing; ignore whatever else was already sent.
        if failed {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        if !magicSeen {
            guard let magic = buffer.readBytes(length: 4) else { return nil }
            magicSeen = true
            if magic != BrokerWire.magicV2 { failed = true }
            return .magic(valid: magic == BrokerWire.magicV2)
        }
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLineLength {
                return reject("E_INVALID", "command line too long")
            }
            return nil
        }
        let lineLength = newline - view.startIndex
        var lineBytes = Array(view[view.startIndex..<newline])
        if lineBytes.last == UInt8(ascii: "\r") { lineBytes.removeLast() }
        let parts = lineBytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let name = parts.first ?? ""
        let parameters = Array(parts.dropFirst())

        guard ["IDENTIFY", "PUB", "MPUB", "DPUB", "AUTH"].contains(name) else {
            buffer.moveReaderIndex(forwardBy: lineLength + 1)
            return .command(name: name, parameters: parameters, body: nil)
        }
        let sizeIndex = buffer.readerIndex + lineLength + 1
        guard let declaredSize = buffer.getInteger(at: sizeIndex, as: Int32.self) else { return nil }
        let size = Int(declaredSize)
        // nsqd judges the declared size before reading the body.
        switch name {
        case "PUB", "DPUB":
            if size <= 0 || size > maximumMessageSize {
                return reject("E_BAD_MESSAGE", "\(name) invalid message body size \(size)")
            }
        default:
            if size <= 0 || size > maximumBodySize {
                return reject("E_BAD_BODY", "\(name) invalid body size \(size)")
            }
        }
        guard buffer.readableBytes >= lineLength + 1 + 4 + size else { return nil }
        buffer.moveReaderIndex(forwardBy: lineLength + 1 + 4)
        let body = buffer.readSlice(length: size)
        return .command(name: name, parameters: parameters, body: body)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> BrokerInbound? {
        try decode(buffer: &buffer)
    }

    private mutating func reject(_ code: String, _ text: String) -> BrokerInbound {
        failed = true
        return .rejected(code: code, text: text)
    }
}
