import Logging
import NIOCore

/// A command on its way to nsqd; the write promise completes when nsqd accepted it (or it was written, for
/// commands nsqd never answers).
struct NSQOutboundRequest: Sendable {
    var command: NSQCommand
    /// For FIN and REQ: what to report to the consumer once written, for its backoff.
    var outcome: NSQMessageOutcome? = nil
}

/// A request waiting in the handler for nsqd's answer.
struct NSQPendingRequest {
    var promise: EventLoopPromise<Void>?
    /// When the answer is overdue.
    var deadline: NIODeadline
}

/// Asks the handler how many delivered messages still wait for FIN or REQ.
struct NSQInFlightQuery: Sendable {
    var promise: EventLoopPromise<Int>
}

/// Receives what a consumer connection hands to the application.
protocol NSQConnectionDelegate: Sendable {
    /// Called on the connection's event loop for every message frame.
    func connection(_ address: NSQAddress, received message: NSQMessage)
    /// Called once FIN or REQ for a message has been written; feeds the consumer's backoff.
    func connection(_ address: NSQAddress, respondedWith outcome: NSQMessageOutcome)
}

/// Runs ``NSQConnectionStateMachine`` on a NIO channel: encodes commands, answers heartbeats and completes
/// write promises when nsqd answers.
final class NSQConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = NSQFrame
    typealias OutboundIn = NSQOutboundRequest
    typealias OutboundOut = ByteBuffer

    private var stateMachine: NSQConnectionStateMachine<NSQPendingRequest>
    private let handshakePromise: EventLoopPromise<NSQNegotiatedSettings>
    private let handshakeTimeout: TimeAmount
    private let responseTimeout: TimeAmount
    private var responseTimeoutTask: Scheduled<Void>?
    private var timedOut = false
    private let address: NSQAddress
    private let delegate: (any NSQConnectionDelegate)?
    private let logger: Logger
    private var handshakeTimeoutTask: Scheduled<Void>?
    private var flushScheduled = false

    init(
        identify: NSQIdentifyRequest,
        subscription: (topic: String, channel: String)?,
        address: NSQAddress,
        handshakePromise: EventLoopPromise<NSQNegotiatedSettings>,
        handshakeTimeout: TimeAmount,
        responseTimeout: TimeAmount,
        delegate: (any NSQConnectionDelegate)?,
        logger: Logger
    ) {
        self.stateMachine = NSQConnectionStateMachine(identify: identify, subscription: subscription)
        self.handshakePromise = handshakePromise
        self.handshakeTimeout = handshakeTimeout
        self.responseTimeout = responseTimeout
        self.address = address
        self.delegate = delegate
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        let action = stateMachine.connected()
        guard case .sendHandshake(let identify) = action else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        NSQCommandEncoder.writeMagic(into: &buffer)
        NSQCommandEncoder.write(identify, into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        handshakeTimeoutTask = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            let (handler, context) = bound.value
            handler.failHandshake(NSQError.timeout.with(message: "no answer to IDENTIFY/SUB"), context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch stateMachine.frameReceived(frame) {
        case .none, .sendHandshake, .write, .writeAwaitingResponse:
            break
        case .sendHandshakeCommand(let command):
            writeCommand(command, context: context, promise: nil)
            context.flush()
        case .handshakeSucceeded(let settings):
            handshakeTimeoutTask?.cancel()
            handshakePromise.succeed(settings)
        case .handshakeFailed(let error):
            failHandshake(error, context: context)
        case .sendNOP:
            writeCommand(.nop, context: context, promise: nil)
            scheduleFlush(context: context)
        case .deliverMessage(let raw):
            let message = NSQMessage(raw: raw, channel: context.channel, address: address)
            delegate?.connection(address, received: message)
        case .succeedRequest(let request):
            request?.promise?.succeed()
        case .failRequest(let request, let error):
            request?.promise?.fail(error)
        case .failRequestAndClose(let request, let error, let notExecuted):
            request?.promise?.fail(error)
            for request in notExecuted { request?.promise?.fail(NSQError.notSent) }
            context.close(promise: nil)
        case .reportError(let error):
            logger.warning("nsqd reported an error", metadata: ["nsqd": "\(address)", "error": "\(error)"])
        case .closeConnection(let error):
            logger.error("closing nsqd connection", metadata: ["nsqd": "\(address)", "error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        let pending = NSQPendingRequest(promise: promise, deadline: .now() + responseTimeout)
        switch stateMachine.sendRequested(request.command, token: pending) {
        case .write(let command, let completeOnWrite):
            writeCommand(command, context: context, promise: completeOnWrite?.promise)
            if case .requeue = request.outcome,
                case .write(let ready, _) = stateMachine.sendRequested(.ready(count: 0), token: nil)
            {
                // A failure always backs the consumer off to RDY 0 everywhere (or finds it there already). Sending
                // it right behind the REQ, rather than after the consumer's bookkeeping caught up, keeps nsqd from
                // handing out more messages, or this one again once its REQ delay passed, in between.
                writeCommand(ready, context: context, promise: nil)
            }
            if let outcome = request.outcome { delegate?.connection(address, respondedWith: outcome) }
        case .writeAwaitingResponse(let command):
            writeCommand(command, context: context, promise: nil)
            if responseTimeoutTask == nil { scheduleResponseCheck(at: pending.deadline, context: context) }
        case .succeedRequest(let request):
            request?.promise?.succeed()
        case .failRequest(let request, let error):
            request?.promise?.fail(error)
        default:
            break
        }
    }

    /// One timer per connection rather than per request: it fires at the oldest request's deadline and re-arms
    /// for the next one, so pipelined publishes cost no timer each.
    private func scheduleResponseCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        responseTimeoutTask = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.responseTimeoutTask = nil
            guard let oldest = handler.stateMachine.oldestWaitingToken else { return }
            if oldest.deadline <= .now() {
                // Answers come strictly in order, so every later request is stuck behind this one.
                handler.timedOut = true
                handler.logger.warning("nsqd did not answer in time, closing", metadata: ["nsqd": "\(handler.address)"])
                context.close(promise: nil)
            } else {
                handler.scheduleResponseCheck(at: oldest.deadline, context: context)
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        scheduleFlush(context: context)
    }

    /// Defers the flush to the end of the current event-loop tick, so a burst of pipelined publishes queued on
    /// the loop goes out in one system call instead of one each.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushScheduled = false
            context.flush()
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let query = event as? NSQInFlightQuery {
            query.promise.succeed(stateMachine.inFlightMessageIDs.count)
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // nsqd heartbeats at least once per interval; silence for two means the peer is gone.
            logger.warning("nsqd missed heartbeats, closing", metadata: ["nsqd": "\(address)"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimeoutTask?.cancel()
        responseTimeoutTask?.cancel()
        let (_, waiting) = stateMachine.closed()
        handshakePromise.fail(NSQError.connectionClosed.with(message: "closed during handshake with \(address)"))
        let error = timedOut ? NSQError.timeout.with(message: "nsqd did not answer in time") : .connectionClosed
        for request in waiting { request?.promise?.fail(error) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("nsqd connection error", metadata: ["nsqd": "\(address)", "error": "\(error)"])
        if error is NSQFrameDecodingError || error is ByteToMessageDecoderError {
            handshakePromise.fail(NSQError.protocolError.with(message: "\(error)"))
        }
        context.close(promise: nil)
    }

    private func failHandshake(_ error: NSQError, context: ChannelHandlerContext) {
        handshakeTimeoutTask?.cancel()
        handshakePromise.fail(error)
        context.close(promise: nil)
    }

    private func writeCommand(_ command: NSQCommand, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        var buffer = context.channel.allocator.buffer(capacity: NSQCommandEncoder.encodedSize(of: command))
        NSQCommandEncoder.write(command, into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
