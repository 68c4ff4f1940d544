import NIOCore

/// The protocol side of one nsqd connection, free of I/O so it can be tested on its own.
///
/// It follows a connection through magic + IDENTIFY → (SUB) → ready → closing, matches response and error
/// frames to requests in the order they were sent (nsqd answers strictly in order), and knows which messages
/// are in flight so a FIN, REQ or TOUCH is only ever written for a message this connection still owns.
/// `Token` is whatever the I/O layer needs to complete a request; the state machine only stores it.
struct NSQConnectionStateMachine<Token> {
    enum State: Equatable {
        case initial
        case identifying
        case subscribing
        case ready
        case closing
        case closed
    }

    /// What the I/O layer must do after an event.
    enum Action {
        case none
        /// Write the protocol magic followed by IDENTIFY.
        case sendHandshake(NSQCommand)
        /// Write a command as part of the handshake (SUB).
        case sendHandshakeCommand(NSQCommand)
        case handshakeSucceeded(NSQNegotiatedSettings)
        /// The handshake failed; the connection must be closed.
        case handshakeFailed(NSQError)
        /// Answer a heartbeat.
        case sendNOP
        case deliverMessage(NSQRawMessage)
        /// Write a command; `completeOnWrite` is completed when the write is done, because nsqd never answers it.
        case write(NSQCommand, completeOnWrite: Token?)
        /// Write a command whose token waits for nsqd's answer.
        case writeAwaitingResponse(NSQCommand)
        case succeedRequest(Token?)
        case failRequest(Token?, NSQError)
        /// nsqd rejected a request with a fatal error and is closing the connection; every later request was
        /// never executed (nsqd stops reading), so those fail with ``NSQError/notSent`` and may be retried.
        case failRequestAndClose(Token?, NSQError, notExecuted: [Token?])
        /// An error not tied to a waiting request, such as `E_FIN_FAILED`.
        case reportError(NSQError)
        /// Close the connection after a protocol violation.
        case closeConnection(NSQError)
    }

    private enum Pending {
        case identify
        case subscribe
        case request(Token?)
    }

    private(set) var state: State = .initial
    private(set) var negotiatedSettings: NSQNegotiatedSettings?
    private(set) var readyCount = 0
    private(set) var inFlightMessageIDs: Set<String> = []
    private var pending = CircularBuffer<Pending>()
    private let identify: NSQIdentifyRequest
    private let subscription: (topic: String, channel: String)?

    init(identify: NSQIdentifyRequest, subscription: (topic: String, channel: String)?) {
        self.identify = identify
        self.subscription = subscription
    }

    var pendingRequestCount: Int { pending.count }

    /// The token of the request nsqd must answer next, if that is an application request.
    var oldestWaitingToken: Token? {
        guard case .request(let token) = pending.first else { return nil }
        return token
    }

    mutating func connected() -> Action {
        guard state == .initial else { return .none }
        state = .identifying
        pending.append(.identify)
        return .sendHandshake(.identify(json: identify.encodedJSON()))
    }

    mutating func frameReceived(_ frame: NSQFrame) -> Action {
        guard state != .closed else { return .none }
        switch frame {
        case .response(let data):
            if data.readableBytesView.elementsEqual(NSQFrame.heartbeat.utf8) { return .sendNOP }
            return responseReceived(Array(data.readableBytesView))
        case .error(let data):
            let error = NSQError(serverErrorText: String(buffer: data))
            // Per-message failures answer fire-and-forget commands, so they never belong to a waiting request.
            if !error.isConnectionFatal { return .reportError(error) }
            return errorReceived(error)
        case .message(let message):
            guard state == .ready || state == .closing, subscription != nil else {
                return .closeConnection(NSQError.protocolError.with(message: "message received before SUB"))
            }
            inFlightMessageIDs.insert(message.id)
            return .deliverMessage(message)
        }
    }

    private mutating func responseReceived(_ bytes: [UInt8]) -> Action {
        guard let oldest = pending.popFirst() else {
            return .closeConnection(NSQError.protocolError.with(message: "response without a request"))
        }
        switch oldest {
        case .identify:
            let settings: NSQNegotiatedSettings
            do {
                settings = try NSQNegotiatedSettings.parse(identifyResponse: bytes)
            } catch {
                state = .closed
                return .handshakeFailed(error)
            }
            negotiatedSettings = settings
            if let subscription {
                state = .subscribing
                pending.append(.subscribe)
                return .sendHandshakeCommand(.subscribe(topic: subscription.topic, channel: subscription.channel))
            }
            state = .ready
            return .handshakeSucceeded(settings)
        case .subscribe:
            state = .ready
            return .handshakeSucceeded(negotiatedSettings ?? .unnegotiated)
        case .request(let token):
            return .succeedRequest(token)
        }
    }

    /// Only called for fatal errors: nsqd closes the connection after sending one.
    private mutating func errorReceived(_ error: NSQError) -> Action {
        guard let oldest = pending.popFirst() else {
            state = .closed
            return .closeConnection(error)
        }
        switch oldest {
        case .identify, .subscribe:
            state = .closed
            return .handshakeFailed(error)
        case .request(let token):
            let notExecuted = closed().waiting
            return .failRequestAndClose(token, error, notExecuted: notExecuted)
        }
    }

    /// The application wants `command` written; `token` completes when nsqd has accepted it.
    mutating func sendRequested(_ command: NSQCommand, token: Token?) -> Action {
        switch state {
        case .initial, .identifying, .subscribing:
            return .failRequest(token, NSQError.invalid.with(message: "connection is not ready yet"))
        case .closed:
            return .failRequest(token, .notSent)
        case .closing, .ready:
            break
        }
        switch command {
        case .finish(let id), .requeue(let id, _):
            // Removing the id first makes a second FIN/REQ for the same message impossible.
            guard inFlightMessageIDs.remove(id) != nil else { return .failRequest(token, .alreadyResponded) }
            return .write(command, completeOnWrite: token)
        case .touch(let id):
            guard inFlightMessageIDs.contains(id) else { return .failRequest(token, .alreadyResponded) }
            return .write(command, completeOnWrite: token)
        case .ready(let count):
            guard state == .ready else { return .succeedRequest(token) }
            let maximum = negotiatedSettings?.maxReadyCount ?? NSQNegotiatedSettings.unnegotiated.maxReadyCount
            let count = min(max(count, 0), maximum)
            // nsqd keeps the last RDY; saying it again changes nothing (the consumer's backoff can ask for a
            // RDY 0 the handler already sent behind the failed message's REQ).
            guard count != readyCount else { return .succeedRequest(token) }
            readyCount = count
            return .write(.ready(count: readyCount), completeOnWrite: token)
        case .close:
            state = .closing
            readyCount = 0
            pending.append(.request(token))
            return .writeAwaitingResponse(command)
        case .identify, .subscribe:
            return .failRequest(token, NSQError.invalid.with(message: "IDENTIFY and SUB are sent during the handshake"))
        default:
            if command.expectsResponse {
                pending.append(.request(token))
                return .writeAwaitingResponse(command)
            }
            return .write(command, completeOnWrite: token)
        }
    }

    /// The connection is gone; returns every token still waiting so it can be failed.
    mutating func closed() -> (wasHandshaking: Bool, waiting: [Token?]) {
        let wasHandshaking = state == .identifying || state == .subscribing
        state = .closed
        inFlightMessageIDs.removeAll()
        var waiting: [Token?] = []
        while let oldest = pending.popFirst() {
            if case .request(let token) = oldest { waiting.append(token) }
        }
        return (wasHandshaking, waiting)
    }
}
