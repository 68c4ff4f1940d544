import NIOCore
import Testing

@testable import NSQ

@Suite("Command encoding")
struct CommandEncodingTests {
    private func bytes(of command: NSQCommand) -> [UInt8] {
        var buffer = ByteBuffer()
        NSQCommandEncoder.write(command, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    private func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    @Test func magicIsTwoSpacesV2() {
        var buffer = ByteBuffer()
        NSQCommandEncoder.writeMagic(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0x20, 0x20, 0x56, 0x32])
    }

    @Test func identifyIsSizePrefixedJSON() {
        let json = ascii(#"{"client_id":"c"}"#)
        #expect(bytes(of: .identify(json: json)) == ascii("IDENTIFY\n") + bigEndian(UInt32(json.count)) + json)
    }

    @Test func identifyJSONCarriesNegotiationFields() throws {
        let request = NSQIdentifyRequest(
            clientID: "worker-1",
            hostname: "host.example",
            userAgent: "swift-nsq/1.0",
            heartbeatIntervalMilliseconds: 5000,
            messageTimeoutMilliseconds: 60000
        )
        let json = String(decoding: request.encodedJSON(), as: UTF8.self)
        #expect(
            json == #"{"client_id":"worker-1","deflate":false,"feature_negotiation":true,"heartbeat_interval":5000,"#
                + #""hostname":"host.example","msg_timeout":60000,"snappy":false,"tls_v1":false,"#
                + #""user_agent":"swift-nsq\/1.0"}"#
        )
    }

    @Test func subscribe() {
        #expect(
            bytes(of: .subscribe(topic: "events", channel: "archive#ephemeral"))
                == ascii("SUB events archive#ephemeral\n")
        )
    }

    @Test func ready() {
        #expect(bytes(of: .ready(count: 2500)) == ascii("RDY 2500\n"))
        #expect(bytes(of: .ready(count: 0)) == ascii("RDY 0\n"))
    }

    @Test func finishRequeueTouch() {
        let id = "0123456789abcdef"
        #expect(bytes(of: .finish(messageID: id)) == ascii("FIN 0123456789abcdef\n"))
        #expect(bytes(of: .requeue(messageID: id, delayMilliseconds: 1500)) == ascii("REQ 0123456789abcdef 1500\n"))
        #expect(bytes(of: .touch(messageID: id)) == ascii("TOUCH 0123456789abcdef\n"))
    }

    @Test func nopAndClose() {
        #expect(bytes(of: .nop) == ascii("NOP\n"))
        #expect(bytes(of: .close) == ascii("CLS\n"))
    }

    @Test func publish() {
        let body = ByteBuffer(string: "hello")
        #expect(
            bytes(of: .publish(topic: "events", body: body)) == ascii("PUB events\n") + bigEndian(5) + ascii("hello")
        )
    }

    @Test func multiPublishSizeCoversCountAndEveryPrefixedMessage() {
        let bodies = [ByteBuffer(string: "a"), ByteBuffer(string: "bcd")]
        let expected =
            ascii("MPUB events\n")
            + bigEndian(4 + (4 + 1) + (4 + 3))  // count + each size-prefixed message
            + bigEndian(2)
            + bigEndian(1) + ascii("a")
            + bigEndian(3) + ascii("bcd")
        #expect(bytes(of: .multiPublish(topic: "events", bodies: bodies)) == expected)
    }

    @Test func deferredPublish() {
        let body = ByteBuffer(string: "later")
        #expect(
            bytes(of: .deferredPublish(topic: "events", body: body, delayMilliseconds: 3000))
                == ascii("DPUB events 3000\n") + bigEndian(5) + ascii("later")
        )
    }

    @Test func encodedSizeIsEnoughForBodies() {
        let command = NSQCommand.multiPublish(topic: "t", bodies: Array(repeating: ByteBuffer(string: "xyz"), count: 3))
        #expect(NSQCommandEncoder.encodedSize(of: command) >= bytes(of: command).count)
        let deferred = NSQCommand.deferredPublish(topic: "t", body: ByteBuffer(string: "x"), delayMilliseconds: .max)
        #expect(NSQCommandEncoder.encodedSize(of: deferred) >= bytes(of: deferred).count)
    }

    @Test func durationsBecomeWholeMilliseconds() {
        #expect(Duration.milliseconds(1500).nsqMilliseconds == 1500)
        #expect(Duration.microseconds(2999).nsqMilliseconds == 2)
        #expect(Duration.seconds(-1).nsqMilliseconds == 0)
    }
}
