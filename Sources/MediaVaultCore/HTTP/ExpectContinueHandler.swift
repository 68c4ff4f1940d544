import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue` as soon as the request head arrives.
///
/// curl and most S3 tools send large bodies only after `100 Continue` (or after giving up waiting, a second by
/// default); the HTTP server itself never sends one, so every upload to the filesystem store would start a second
/// late. Answering at once is what RFC 9110 §10.1.1 allows an origin server that reads the body anyway; a request
/// refused afterwards still gets its final answer. Other expectations are left for the application (none is met).
public final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundOut = HTTPResponsePart

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), Self.expectsContinue(head) {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }

    /// Whether `head` asks for `100 Continue` (`Expect: 100-continue`, case-insensitive).
    static func expectsContinue(_ head: HTTPRequest) -> Bool {
        head.headerFields[values: .expect].contains {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "100-continue"
        }
    }
}
