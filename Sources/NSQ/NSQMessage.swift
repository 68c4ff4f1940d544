import NIOCore

/// A message delivered to a consumer.
///
/// It must be answered exactly once with ``finish()`` or ``requeue(delay:backoff:)`` (or by returning an
/// ``NSQMessageOutcome`` from the consumer's handler). Answers go to the connection that delivered the message;
/// if that connection is gone nsqd redelivers the message after its timeout.
public struct NSQMessage: Sendable {
    /// The 16-character hex id nsqd assigned.
    public let id: String
    /// How many times nsqd has delivered this message, this delivery included.
    public let attempts: UInt16
    /// When nsqd received the message, in nanoseconds since the Unix epoch.
    public let timestamp: Int64
    /// The payload as published.
    public let body: ByteBuffer

    private let channel: any Channel
    private let address: NSQAddress

    init(raw: NSQRawMessage, channel: any Channel, address: NSQAddress) {
        self.id = raw.id
        self.attempts = raw.attempts
        self.timestamp = raw.timestamp
        self.body = raw.body
        self.channel = channel
        self.address = address
    }

    /// The payload copied into an array.
    public var bodyBytes: [UInt8] { Array(body.readableBytesView) }

    /// The nsqd (`host:port`) that delivered this message.
    public var nsqdAddress: String { address.description }

    /// Tells nsqd the message was processed (FIN). Throws ``NSQError/alreadyResponded`` if it was already answered.
    public func finish() async throws {
        try await send(.finish(messageID: id), outcome: .finish)
    }

    /// Gives the message back to nsqd for redelivery after `delay` (REQ).
    ///
    /// - Parameter backoff: whether this counts as a processing failure that slows the consumer down.
    public func requeue(delay: Duration = .zero, backoff: Bool = true) async throws {
        let outcome: NSQMessageOutcome = backoff ? .requeue(delay: delay) : .requeueWithoutBackoff(delay: delay)
        try await send(.requeue(messageID: id, delayMilliseconds: delay.nsqMilliseconds), outcome: outcome)
    }

    /// Resets nsqd's timeout for this message (TOUCH), for handlers that need longer than `msg_timeout`.
    public func touch() async throws {
        try await send(.touch(messageID: id), outcome: nil)
    }

    /// Answers with `outcome` (FIN or REQ) instead of a method, for the consumer's handler result.
    func respond(with outcome: NSQMessageOutcome) async throws {
        switch outcome {
        case .finish: try await finish()
        case .requeue(let delay): try await requeue(delay: delay, backoff: true)
        case .requeueWithoutBackoff(let delay): try await requeue(delay: delay, backoff: false)
        }
    }

    private func send(_ command: NSQCommand, outcome: NSQMessageOutcome?) async throws {
        do {
            try await NSQConnection.send(NSQOutboundRequest(command: command, outcome: outcome), on: channel).get()
        } catch let error as NSQError {
            throw error.surfaced
        }
    }
}

/// How a consumer's handler answers a message.
public enum NSQMessageOutcome: Sendable, Equatable {
    /// FIN: processed, never deliver again.
    case finish
    /// REQ: deliver again after `delay`, and slow the consumer down (backoff).
    case requeue(delay: Duration)
    /// REQ without counting as a failure, e.g. when the message is merely not due yet.
    case requeueWithoutBackoff(delay: Duration)
}

extension Duration {
    /// Whole milliseconds, as nsqd's REQ, DPUB and IDENTIFY expect; negative durations become 0.
    var nsqMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
