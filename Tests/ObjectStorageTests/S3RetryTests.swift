import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import ObjectStorage

/// A loopback TCP server that answers each HTTP request with the next canned response (then closes the
/// connection), and counts the requests. Enough HTTP to exercise the client's retry and timeout paths.
final class ScriptedHTTPServer: @unchecked Sendable {
    enum Reply: Sendable {
        case status(Int, body: String = "", headers: [String: String] = [:])
        /// Read the request and never answer.
        case silence
    }

    private let lock = NSLock()
    private var replies: [Reply]
    private var requestLines: [String] = []
    private let channel: any Channel
    let port: Int

    init(_ replies: [Reply]) async throws {
        self.replies = replies
        let state = Box()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        state.server = self
    }

    /// The request lines received so far (`HEAD /bucket/key HTTP/1.1`).
    var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return requestLines
    }

    func close() async throws { try await channel.close() }

    fileprivate func nextReply(for requestLine: String) -> Reply {
        lock.lock()
        defer { lock.unlock() }
        requestLines.append(requestLine)
        return replies.isEmpty ? .status(500) : replies.removeFirst()
    }

    /// Lets handlers reach the server once it exists.
    fileprivate final class Box: @unchecked Sendable {
        weak var server: ScriptedHTTPServer?
    }

    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private let server: Box
        private var received = ""
        private var answered = false

        init(server: Box) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
            guard !answered, received.contains("\r\n\r\n"), let server = server.server else { return }
            answered = true
            let requestLine = received.components(separatedBy: "\r\n").first ?? ""
            guard case .status(let status, let body, let headers) = server.nextReply(for: requestLine) else { return }
            var head = "HTTP/1.1 \(status) Scripted\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            // A HEAD answer announces the length of the body it does not send.
            let payload = requestLine.hasPrefix("HEAD") ? "" : body
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head + "\r\n" + payload)))
                .whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

@Suite("S3 client retries, timeouts and error mapping (scripted server)")
struct S3RetryTests {
    static let retryPolicy = RetryPolicy(
        maximumAttempts: 3, initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(20))

    static func client(
        port: Int, requestTimeout: Duration = .seconds(5), retry: RetryPolicy = retryPolicy
    ) throws -> S3Client {
        try S3Client(
            configuration: S3Configuration(
                endpoint: S3Endpoint(host: "127.0.0.1", port: port, useTLS: false), bucket: "bucket",
                credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK"),
                requestTimeout: requestTimeout, retryPolicy: retry),
            httpClient: .shared)
    }

    static func errorXML(_ code: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>scripted</Message></Error>"
    }

    @Test("5xx answers to an idempotent call are retried until one succeeds")
    func retriesServerErrors() async throws {
        let server = try await ScriptedHTTPServer([
            .status(503, body: Self.errorXML("SlowDown")), .status(500),
            .status(
                200,
                headers: [
                    "ETag": "\"abc\"", "Content-Type": "text/plain", "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT",
                ]),
        ])
        let info = try await Self.client(port: server.port).head(ObjectKey("dir/a b.txt"))
        #expect(info?.etag == "abc")
        #expect(info?.contentType == "text/plain")
        #expect(server.requests == Array(repeating: "HEAD /bucket/dir/a%20b.txt HTTP/1.1", count: 3))
        try await server.close()
    }

    @Test("retries stop after the policy's attempts and surface the last typed error")
    func exhaustsRetries() async throws {
        let server = try await ScriptedHTTPServer(
            Array(repeating: .status(503, body: Self.errorXML("SlowDown")), count: 5))
        await #expect {
            try await Self.client(port: server.port).delete(ObjectKey("k"))
        } throws: { error in
            (error as? S3Error)?.code == .slowDown
        }
        #expect(server.requests.count == 3)
        try await server.close()
    }

    @Test("4xx answers are never retried")
    func noRetryOnClientErrors() async throws {
        let server = try await ScriptedHTTPServer([.status(403, body: Self.errorXML("AccessDenied")), .status(204)])
        await #expect {
            try await Self.client(port: server.port).delete(ObjectKey("k"))
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.code == .accessDenied && error.httpStatus == 403 && error.message == "scripted"
        }
        #expect(server.requests.count == 1)
        try await server.close()
    }

    @Test("non-idempotent calls (CreateMultipartUpload) are not retried even on 5xx")
    func noRetryForNonIdempotent() async throws {
        let server = try await ScriptedHTTPServer([.status(500, body: Self.errorXML("InternalError")), .status(200)])
        await #expect {
            try await Self.client(port: server.port).createMultipartUpload(for: ObjectKey("k"), contentType: "a/b")
        } throws: { error in
            (error as? S3Error)?.code == .internalError
        }
        #expect(server.requests == ["POST /bucket/k?uploads= HTTP/1.1"])
        try await server.close()
    }

    @Test("CompleteMultipartUpload's 200 answer with an <Error> body is an error")
    func completeWithErrorBody() async throws {
        let server = try await ScriptedHTTPServer([.status(200, body: "   \n" + Self.errorXML("InternalError"))])
        await #expect {
            try await Self.client(port: server.port).completeMultipartUpload(
                for: ObjectKey("k"), uploadID: MultipartUploadID("u"), parts: [CompletedPart(partNumber: 1, etag: "e")])
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.code == .internalError && error.httpStatus == 200
        }
        try await server.close()
    }

    @Test("a server that never answers hits the request timeout (and is retried, being idempotent)")
    func timeout() async throws {
        let server = try await ScriptedHTTPServer([.silence, .silence])
        let client = try Self.client(
            port: server.port, requestTimeout: .milliseconds(300),
            retry: RetryPolicy(maximumAttempts: 2, initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(5)))
        await #expect(throws: ObjectStorageError.timedOut) {
            try await client.head(ObjectKey("k"))
        }
        #expect(server.requests.count == 2)
        try await server.close()
    }

    @Test("a refused connection is a typed transport error")
    func connectionRefused() async throws {
        // Bind and close a server to get a port nothing listens on.
        let server = try await ScriptedHTTPServer([])
        let port = server.port
        try await server.close()
        // AsyncHTTPClient keeps retrying a refused connect until the deadline, so keep the deadline short.
        let client = try Self.client(
            port: port, requestTimeout: .milliseconds(300),
            retry: RetryPolicy(maximumAttempts: 2, initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(5)))
        // Which of the two surfaces depends on how fast the refusals come back on a loaded machine.
        do {
            _ = try await client.head(ObjectKey("k"))
            Issue.record("expected a typed error")
        } catch let error as ObjectStorageError {
            #expect(error == .transport || error == .timedOut)
        }
    }
}
