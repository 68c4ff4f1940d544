import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue` when the request head arrives, for the requests the
/// application will read the body of.
///
/// curl and most S3 tools send large bodies only after `100 Continue` (or after giving up waiting, a second by
/// default); the HTTP server itself never sends one, so every upload to the filesystem store would start a second
/// late. `willReadBody` decides from the head alone (for a storage PUT: a valid signature and an allowed length).
/// Everything else gets no interim answer: a request that will be refused gets its final answer instead, before the
/// client has sent a byte of the body (RFC 9110 §10.1.1), and other routes keep waiting clients' usual behaviour.
///
/// A pipelined request that arrives while an earlier one is still being answered gets no interim answer either: the
/// client would take it for the earlier request's. (The HTTP version is not visible here; HTTP/1.0 clients, which
/// must not be sent a 100, do not send `Expect` in practice.)
public final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let willReadBody: @Sendable (HTTPRequest) -> Bool
    /// Requests whose final answer has not been written to the end yet.
    private var unanswered = 0

    public init(willReadBody: @escaping @Sendable (HTTPRequest) -> Bool) {
        self.willReadBody = willReadBody
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            if unanswered == 0, Self.expectsContinue(head), willReadBody(head) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
            unanswered += 1
        }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered = max(0, unanswered - 1) }
        context.write(data, promise: promise)
    }

    /// Whether `head` asks for `100 Continue` (`Expect: 100-continue`, case-insensitive).
    static func expectsContinue(_ head: HTTPRequest) -> Bool {
        head.headerFields[values: .expect].contains {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "100-continue"
        }
    }
}
