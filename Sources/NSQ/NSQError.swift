/// An error from nsqd or from this client.
///
/// Compare against the static members (`error == .badTopic`); equality looks at the kind only, so the server's
/// text in ``message`` does not get in the way of matching.
public struct NSQError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable, Hashable {
        case invalid = "E_INVALID"
        case badTopic = "E_BAD_TOPIC"
        case badChannel = "E_BAD_CHANNEL"
        case badBody = "E_BAD_BODY"
        case badMessage = "E_BAD_MESSAGE"
        case publishFailed = "E_PUB_FAILED"
        case multiPublishFailed = "E_MPUB_FAILED"
        case deferredPublishFailed = "E_DPUB_FAILED"
        case finishFailed = "E_FIN_FAILED"
        case requeueFailed = "E_REQ_FAILED"
        case touchFailed = "E_TOUCH_FAILED"
        case authFailed = "E_AUTH_FAILED"
        case unauthorized = "E_UNAUTHORIZED"
        case serverError = "server error"
        case connectionFailed = "connection failed"
        case connectionClosed = "connection closed"
        case timeout = "timeout"
        case protocolError = "protocol error"
        case alreadyResponded = "already responded"
        case shutdown = "shut down"
        case notSent = "connection closed before sending"
    }

    private let code: Code

    /// The server's error text (for example `E_BAD_TOPIC PUB topic name "a b" is not valid`) or a
    /// description of the local failure.
    public let message: String?

    private init(_ code: Code, message: String? = nil) {
        self.code = code
        self.message = message
    }

    /// `E_INVALID`: nsqd did not accept the command in the connection's current state or with these parameters.
    public static let invalid = NSQError(.invalid)
    /// `E_BAD_TOPIC`: the topic name is not valid.
    public static let badTopic = NSQError(.badTopic)
    /// `E_BAD_CHANNEL`: the channel name is not valid.
    public static let badChannel = NSQError(.badChannel)
    /// `E_BAD_BODY`: a size-prefixed body was malformed (IDENTIFY JSON, MPUB framing).
    public static let badBody = NSQError(.badBody)
    /// `E_BAD_MESSAGE`: a message body was empty or larger than nsqd accepts.
    public static let badMessage = NSQError(.badMessage)
    /// `E_PUB_FAILED`: nsqd could not store a PUB.
    public static let publishFailed = NSQError(.publishFailed)
    /// `E_MPUB_FAILED`: nsqd could not store an MPUB.
    public static let multiPublishFailed = NSQError(.multiPublishFailed)
    /// `E_DPUB_FAILED`: nsqd could not store a DPUB.
    public static let deferredPublishFailed = NSQError(.deferredPublishFailed)
    /// `E_FIN_FAILED`: the message id is unknown to nsqd, or in flight on another connection.
    public static let finishFailed = NSQError(.finishFailed)
    /// `E_REQ_FAILED`: the message id is unknown to nsqd, or in flight on another connection.
    public static let requeueFailed = NSQError(.requeueFailed)
    /// `E_TOUCH_FAILED`: the message id is unknown to nsqd, or in flight on another connection.
    public static let touchFailed = NSQError(.touchFailed)
    /// `E_AUTH_FAILED`: nsqd's auth server rejected the credentials.
    public static let authFailed = NSQError(.authFailed)
    /// `E_UNAUTHORIZED`: the connection is not authorised for this command.
    public static let unauthorized = NSQError(.unauthorized)
    /// An `E_…` code this client does not know; the text is in ``message``.
    public static let serverError = NSQError(.serverError)
    /// No TCP connection could be made to any configured nsqd.
    public static let connectionFailed = NSQError(.connectionFailed)
    /// The connection closed before nsqd answered.
    public static let connectionClosed = NSQError(.connectionClosed)
    /// nsqd did not answer in time.
    public static let timeout = NSQError(.timeout)
    /// nsqd sent bytes that do not follow the protocol.
    public static let protocolError = NSQError(.protocolError)
    /// The message was already finished or requeued, or its connection is gone.
    public static let alreadyResponded = NSQError(.alreadyResponded)
    /// The producer or consumer has been shut down.
    public static let shutdown = NSQError(.shutdown)

    /// The connection was already closed, so the command never reached nsqd and may safely be retried elsewhere.
    /// Never surfaces to users: it becomes ``connectionClosed`` at the API boundary.
    static let notSent = NSQError(.notSent)

    /// ``notSent`` turned into what users see.
    var surfaced: NSQError {
        code == .notSent ? NSQError(.connectionClosed, message: message) : self
    }

    /// The same kind of error with a more specific description.
    func with(message: String) -> NSQError {
        NSQError(code, message: message)
    }

    /// Maps an error frame's text (`E_CODE description`) to its typed error.
    init(serverErrorText text: String) {
        let codeText = text.split(separator: " ", maxSplits: 1).first.map(String.init) ?? text
        if let code = Code(rawValue: codeText), codeText.hasPrefix("E_") {
            self.init(code, message: text)
        } else {
            self.init(.serverError, message: text)
        }
    }

    /// Whether nsqd keeps the connection open after this error.
    ///
    /// nsqd closes the connection after every error except failed FIN, REQ and TOUCH, which only concern one message.
    var isConnectionFatal: Bool {
        switch code {
        case .finishFailed, .requeueFailed, .touchFailed: return false
        default: return true
        }
    }

    public static func == (lhs: NSQError, rhs: NSQError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
    }

    public var description: String {
        if let message { return "NSQError(\(code.rawValue)): \(message)" }
        return "NSQError(\(code.rawValue))"
    }
}
