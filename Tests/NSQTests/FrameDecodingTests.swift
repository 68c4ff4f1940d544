import NIOCore
import Testing

@testable import NSQ

@Suite("Frame decoding")
struct FrameDecodingTests {
    private func frame(type: Int32, data: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(4 + data.count))
        buffer.writeInteger(type)
        buffer.writeBytes(data)
        return Array(buffer.readableBytesView)
    }

    private func messageData(id: String = "0123456789abcdef", attempts: UInt16 = 3, body: String = "payload") -> [UInt8]
    {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int64(1_700_000_000_123_456_789))
        buffer.writeInteger(attempts)
        buffer.writeString(id)
        buffer.writeString(body)
        return Array(buffer.readableBytesView)
    }

    @Test func responseFrame() throws {
        var buffer = ByteBuffer(bytes: frame(type: 0, data: Array("OK".utf8)))
        let decoded = try NSQFrameDecoder.decodeFrame(from: &buffer)
        #expect(decoded == .response(ByteBuffer(string: "OK")))
        #expect(buffer.readableBytes == 0)
    }

    @Test func errorFrameMapsToTypedError() throws {
        let text = #"E_BAD_TOPIC PUB topic name "a b" is not valid"#
        var buffer = ByteBuffer(bytes: frame(type: 1, data: Array(text.utf8)))
        guard case .error(let data) = try NSQFrameDecoder.decodeFrame(from: &buffer) else {
            Issue.record("expected an error frame")
            return
        }
        let error = NSQError(serverErrorText: String(buffer: data))
        #expect(error == .badTopic)
        #expect(error.message == text)
        #expect(NSQError(serverErrorText: "E_SOMETHING_NEW text") == .serverError)
        #expect(NSQError(serverErrorText: "E_FIN_FAILED FIN x failed").isConnectionFatal == false)
        #expect(NSQError(serverErrorText: "E_INVALID invalid command").isConnectionFatal)
    }

    @Test func messageFrame() throws {
        var buffer = ByteBuffer(bytes: frame(type: 2, data: messageData()))
        let decoded = try NSQFrameDecoder.decodeFrame(from: &buffer)
        let expected = NSQRawMessage(
            timestamp: 1_700_000_000_123_456_789,
            attempts: 3,
            id: "0123456789abcdef",
            body: ByteBuffer(string: "payload")
        )
        #expect(decoded == .message(expected))
    }

    @Test func partialInputByteByByteConsumesNothingUntilComplete() throws {
        let bytes = frame(type: 2, data: messageData(body: "partial reads"))
        var buffer = ByteBuffer()
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            let readerIndex = buffer.readerIndex
            let decoded = try NSQFrameDecoder.decodeFrame(from: &buffer)
            if index < bytes.count - 1 {
                #expect(decoded == nil)
                #expect(buffer.readerIndex == readerIndex)
            } else {
                guard case .message(let message) = decoded else {
                    Issue.record("expected a message after the last byte")
                    return
                }
                #expect(String(buffer: message.body) == "partial reads")
            }
        }
    }

    @Test func severalFramesInOneBuffer() throws {
        let bytes =
            frame(type: 0, data: Array("_heartbeat_".utf8))
            + frame(type: 2, data: messageData(id: "aaaaaaaaaaaaaaaa", body: "one"))
            + frame(type: 1, data: Array("E_INVALID nope".utf8))
            + frame(type: 0, data: Array("CLOSE_WAIT".utf8))
            + Array(frame(type: 0, data: Array("OK".utf8)).prefix(5))
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [NSQFrame] = []
        while let frame = try NSQFrameDecoder.decodeFrame(from: &buffer) { frames.append(frame) }
        #expect(frames.count == 4)
        #expect(frames[0] == .response(ByteBuffer(string: "_heartbeat_")))
        guard case .message(let message) = frames[1] else {
            Issue.record("expected a message second")
            return
        }
        #expect(message.id == "aaaaaaaaaaaaaaaa")
        #expect(frames[2] == .error(ByteBuffer(string: "E_INVALID nope")))
        #expect(frames[3] == .response(ByteBuffer(string: "CLOSE_WAIT")))
        #expect(buffer.readableBytes == 5)
    }

    @Test func malformedFramesAreRejected() {
        var tooSmall = ByteBuffer(bytes: [0, 0, 0, 2, 0, 0])
        #expect(throws: NSQFrameDecodingError.frameTooSmall(size: 2)) {
            try NSQFrameDecoder.decodeFrame(from: &tooSmall)
        }
        var unknownType = ByteBuffer(bytes: frame(type: 7, data: [1]))
        #expect(throws: NSQFrameDecodingError.unknownFrameType(7)) {
            try NSQFrameDecoder.decodeFrame(from: &unknownType)
        }
        var shortMessage = ByteBuffer(bytes: frame(type: 2, data: [1, 2, 3]))
        #expect(throws: NSQFrameDecodingError.messageTooShort(size: 3)) {
            try NSQFrameDecoder.decodeFrame(from: &shortMessage)
        }
        var huge = ByteBuffer(bytes: [0x7F, 0, 0, 0])
        #expect(throws: NSQFrameDecodingError.frameTooLarge(size: 0x7F00_0000)) {
            try NSQFrameDecoder.decodeFrame(from: &huge, maximumFrameSize: 1024)
        }
    }
}
