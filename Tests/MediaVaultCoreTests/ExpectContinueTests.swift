import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import MediaVaultCore

/// The `100 Continue` decision, on an in-memory channel: which heads get one, and when.
@Suite("Expect: 100-continue")
struct ExpectContinueTests {
    static func head(_ path: String, expect: String? = "100-continue") -> HTTPRequest {
        var request = HTTPRequest(method: .put, scheme: nil, authority: "vault", path: path)
        if let expect { request.headerFields[.expect] = expect }
        return request
    }

    /// A channel with the handler that reads bodies only for paths under `/ok/`.
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ExpectContinueHandler(willReadBody: { $0.path?.hasPrefix("/ok/") == true }))
        return channel
    }

    /// The interim and final heads written so far.
    static func written(_ channel: EmbeddedChannel) throws -> [Int] {
        var statuses: [Int] = []
        while let part = try channel.readOutbound(as: HTTPResponsePart.self) {
            if case .head(let head) = part { statuses.append(head.status.code) }
        }
        return statuses
    }

    @Test("an accepted head gets 100 Continue before it is passed on; others get none")
    func decision() throws {
        let channel = try Self.channel()
        try channel.writeInbound(HTTPRequestPart.head(Self.head("/ok/a")))
        #expect(try Self.written(channel) == [100])
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == .head(Self.head("/ok/a")), "passed on unchanged")
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try Self.written(channel) == [200])

        for refused in [Self.head("/no/a"), Self.head("/ok/b", expect: nil), Self.head("/ok/c", expect: "something")] {
            try channel.writeInbound(HTTPRequestPart.head(refused))
            #expect(try Self.written(channel).isEmpty, "\(refused)")
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .forbidden)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            _ = try Self.written(channel)
        }
        // Case and spaces do not matter.
        try channel.writeInbound(HTTPRequestPart.head(Self.head("/ok/d", expect: " 100-Continue ")))
        #expect(try Self.written(channel) == [100])
        _ = try channel.finish()
    }

    @Test("a pipelined head arriving before the previous answer is complete gets no interim answer")
    func pipelined() throws {
        let channel = try Self.channel()
        try channel.writeInbound(HTTPRequestPart.head(Self.head("/ok/first", expect: nil)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeInbound(HTTPRequestPart.head(Self.head("/ok/second")))
        #expect(try Self.written(channel).isEmpty, "the client would read it as the first request's")
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try Self.written(channel) == [200, 200])
        // Once everything is answered, the next request is treated normally again.
        try channel.writeInbound(HTTPRequestPart.head(Self.head("/ok/third")))
        #expect(try Self.written(channel) == [100])
        _ = try channel.finish()
    }
}
