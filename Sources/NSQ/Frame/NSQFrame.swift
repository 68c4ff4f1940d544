import NIOCore

/// A frame sent by nsqd: `[4-byte size][4-byte frame type][data]`, size counting the type and data.
enum NSQFrame: Sendable, Equatable {
    /// Frame type 0: `OK`, `CLOSE_WAIT`, `_heartbeat_` or IDENTIFY's JSON.
    case response(ByteBuffer)
    /// Frame type 1: `E_CODE description`.
    case error(ByteBuffer)
    /// Frame type 2: a message pushed to a subscribed client.
    case message(NSQRawMessage)

    static let heartbeat = "_heartbeat_"
    static let ok = "OK"
    static let closeWait = "CLOSE_WAIT"
}

/// The fields of a message frame, before it is bound to the connection that must acknowledge it.
struct NSQRawMessage: Sendable, Equatable {
    /// Nanoseconds since the Unix epoch at which nsqd created the message.
    var timestamp: Int64
    /// How many times nsqd has delivered this message, this delivery included.
    var attempts: UInt16
    /// 16 ASCII hex characters.
    var id: String
    var body: ByteBuffer
}

/// Why a byte stream could not be read as NSQ frames; the connection cannot continue after any of these.
enum NSQFrameDecodingError: Error, Equatable {
    case frameTooLarge(size: Int)
    case frameTooSmall(size: Int)
    case unknownFrameType(Int32)
    case messageTooShort(size: Int)
}

/// Reads frames from a byte stream that may arrive split at any byte.
enum NSQFrameDecoder {
    static let frameTypeResponse: Int32 = 0
    static let frameTypeError: Int32 = 1
    static let frameTypeMessage: Int32 = 2

    /// Bytes in a message frame's data before the body: timestamp, attempts and id.
    static let messageHeaderSize = 8 + 2 + 16

    /// Decodes the first complete frame in `buffer`.
    ///
    /// Returns `nil` and leaves `buffer` untouched when it does not yet hold a whole frame, so the caller can
    /// simply append more bytes and ask again.
    static func decodeFrame(
        from buffer: inout ByteBuffer,
        maximumFrameSize: Int = 16 * 1024 * 1024
    ) throws(NSQFrameDecodingError) -> NSQFrame? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let frameSize = Int(size)
        guard frameSize >= 4 else { throw .frameTooSmall(size: frameSize) }
        guard frameSize <= maximumFrameSize else { throw .frameTooLarge(size: frameSize) }
        guard buffer.readableBytes >= 4 + frameSize else { return nil }

        // Validate everything before moving the reader index, so a throw also consumes nothing.
        let frameType = buffer.getInteger(at: buffer.readerIndex + 4, as: Int32.self) ?? -1
        let dataSize = frameSize - 4
        switch frameType {
        case frameTypeResponse, frameTypeError:
            break
        case frameTypeMessage:
            guard dataSize >= messageHeaderSize else { throw .messageTooShort(size: dataSize) }
        default:
            throw .unknownFrameType(frameType)
        }

        buffer.moveReaderIndex(forwardBy: 8)
        // Slices share storage with the read buffer, so no copy is made here.
        guard var data = buffer.readSlice(length: dataSize) else { return nil }
        switch frameType {
        case frameTypeResponse:
            return .response(data)
        case frameTypeError:
            return .error(data)
        default:
            guard let timestamp = data.readInteger(as: Int64.self),
                let attempts = data.readInteger(as: UInt16.self),
                let id = data.readString(length: 16)
            else { throw .messageTooShort(size: dataSize) }
            return .message(NSQRawMessage(timestamp: timestamp, attempts: attempts, id: id, body: data))
        }
    }
}

/// Adapts ``NSQFrameDecoder`` to a NIO pipeline.
struct NSQFrameByteDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = NSQFrame

    var maximumFrameSize: Int

    mutating func decode(buffer: inout ByteBuffer) throws -> NSQFrame? {
        try NSQFrameDecoder.decodeFrame(from: &buffer, maximumFrameSize: maximumFrameSize)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> NSQFrame? {
        try decode(buffer: &buffer)
    }
}
