import NIOCore
import Testing

@testable import NSQ

@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    private typealias Machine = NSQConnectionStateMachine<Int>
    private let identify = NSQIdentifyRequest(
        clientID: "c",
        hostname: "h",
        userAgent: "u",
        heartbeatIntervalMilliseconds: 1000,
        messageTimeoutMilliseconds: 0
    )

    private func response(_ text: String) -> NSQFrame { .response(ByteBuffer(string: text)) }
    private func error(_ text: String) -> NSQFrame { .error(ByteBuffer(string: text)) }

    private func readyProducer() -> Machine {
        var machine = Machine(identify: identify, subscription: nil)
        _ = machine.connected()
        _ = machine.frameReceived(response("OK"))
        return machine
    }

    @Test func negotiatedIdentifyResponseIsParsed() {
        var machine = Machine(identify: identify, subscription: nil)
        guard case .sendHandshake(.identify) = machine.connected() else {
            Issue.record("expected IDENTIFY first")
            return
        }
        let json =
            #"{"max_rdy_count":100,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":5000,"#
            + #""tls_v1":false,"deflate":false,"snappy":false,"auth_required":false,"output_buffer_size":16384}"#
        guard case .handshakeSucceeded(let settings) = machine.frameReceived(response(json)) else {
            Issue.record("expected the handshake to succeed")
            return
        }
        #expect(settings.maxReadyCount == 100)
        #expect(settings.messageTimeout == .seconds(5))
        #expect(settings.maxMessageTimeout == .seconds(900))
        #expect(settings.version == "1.3.0")
        #expect(machine.state == .ready)
    }

    @Test func plainOKMeansNoNegotiation() {
        let machine = readyProducer()
        #expect(machine.negotiatedSettings == .unnegotiated)
    }

    @Test func consumerSubscribesAfterIdentify() {
        var machine = Machine(identify: identify, subscription: ("t", "c"))
        _ = machine.connected()
        guard case .sendHandshakeCommand(.subscribe("t", "c")) = machine.frameReceived(response("OK")) else {
            Issue.record("expected SUB after IDENTIFY")
            return
        }
        guard case .handshakeSucceeded = machine.frameReceived(response("OK")) else {
            Issue.record("expected the handshake to finish after SUB")
            return
        }
        var rejected = Machine(identify: identify, subscription: ("t", "c"))
        guard case .handshakeFailed = rejected.failingSubscribe() else {
            Issue.record("expected E_BAD_TOPIC to fail the handshake")
            return
        }
    }

    @Test func responsesAreMatchedInOrderAndHeartbeatsAnswered() {
        var machine = readyProducer()
        guard
            case .writeAwaitingResponse = machine.sendRequested(
                .publish(topic: "t", body: ByteBuffer(string: "1")),
                token: 1
            ),
            case .writeAwaitingResponse = machine.sendRequested(
                .publish(topic: "t", body: ByteBuffer(string: "2")),
                token: 2
            ),
            case .writeAwaitingResponse = machine.sendRequested(
                .publish(topic: "t", body: ByteBuffer(string: "3")),
                token: 3
            )
        else {
            Issue.record("expected publishes to wait for answers")
            return
        }
        guard case .sendNOP = machine.frameReceived(response("_heartbeat_")) else {
            Issue.record("expected NOP for a heartbeat")
            return
        }
        guard case .succeedRequest(1) = machine.frameReceived(response("OK")),
            case .failRequestAndClose(2, let failure, let notExecuted) = machine.frameReceived(
                error("E_PUB_FAILED nope")
            )
        else {
            Issue.record("expected answers in request order")
            return
        }
        #expect(failure == .publishFailed)
        // nsqd stops reading after a fatal error, so the third publish was never executed and may be retried.
        #expect(notExecuted.map { $0 } == [3])
        #expect(machine.state == .closed)
        #expect(machine.pendingRequestCount == 0)
    }

    @Test func messageAnswersAreWrittenOnceAndOnlyForInFlightMessages() {
        var machine = Machine(identify: identify, subscription: ("t", "c"))
        _ = machine.connected()
        _ = machine.frameReceived(response("OK"))
        _ = machine.frameReceived(response("OK"))
        let raw = NSQRawMessage(timestamp: 0, attempts: 1, id: "0000000000000001", body: ByteBuffer())
        guard case .deliverMessage = machine.frameReceived(.message(raw)) else {
            Issue.record("expected the message to be delivered")
            return
        }
        guard case .write(.touch, 1) = machine.sendRequested(.touch(messageID: raw.id), token: 1),
            case .write(.finish, 2) = machine.sendRequested(.finish(messageID: raw.id), token: 2),
            case .failRequest(3, let second) = machine.sendRequested(.finish(messageID: raw.id), token: 3),
            case .failRequest(4, let unknown) = machine.sendRequested(
                .requeue(messageID: "ffffffffffffffff", delayMilliseconds: 0),
                token: 4
            )
        else {
            Issue.record("unexpected action")
            return
        }
        #expect(second == .alreadyResponded)
        #expect(unknown == .alreadyResponded)
        // E_FIN_FAILED answers a fire-and-forget command; it must not be taken as the answer to CLS.
        guard case .writeAwaitingResponse(.close) = machine.sendRequested(.close, token: 5),
            case .reportError(let finFailed) = machine.frameReceived(error("E_FIN_FAILED FIN x failed")),
            case .succeedRequest(5) = machine.frameReceived(response("CLOSE_WAIT"))
        else {
            Issue.record("expected CLOSE_WAIT to answer CLS")
            return
        }
        #expect(finFailed == .finishFailed)
    }

    @Test func readyIsCappedByNegotiatedMaximum() {
        var machine = Machine(identify: identify, subscription: ("t", "c"))
        _ = machine.connected()
        _ = machine.frameReceived(response(#"{"max_rdy_count":10}"#))
        _ = machine.frameReceived(response("OK"))
        guard case .write(.ready(10), _) = machine.sendRequested(.ready(count: 50), token: nil) else {
            Issue.record("expected RDY capped at 10")
            return
        }
    }

    @Test func closingFailsWaitingRequests() {
        var machine = readyProducer()
        _ = machine.sendRequested(.publish(topic: "t", body: ByteBuffer(string: "x")), token: 7)
        let (wasHandshaking, waiting) = machine.closed()
        #expect(!wasHandshaking)
        #expect(waiting == [7])
        guard case .failRequest(8, let error) = machine.sendRequested(.nop, token: 8) else {
            Issue.record("expected writes after close to fail")
            return
        }
        #expect(error == .notSent)
    }
}

extension NSQConnectionStateMachine {
    fileprivate mutating func failingSubscribe() -> Action {
        _ = connected()
        _ = frameReceived(.response(ByteBuffer(string: "OK")))
        return frameReceived(.error(ByteBuffer(string: "E_BAD_TOPIC SUB topic name is not valid")))
    }
}

@Suite("RDY state machine")
struct ReadyStateMachineTests {
    @Test func maxInFlightIsSplitWithAtLeastOneEach() {
        var machine = NSQReadyStateMachine(maxInFlight: 5, initialBackoff: .seconds(1), maximumBackoff: .seconds(8))
        #expect(machine.connectionAdded(1, maxReadyCount: 2500).updates == [.init(connection: 1, count: 5)])
        #expect(
            machine.connectionAdded(2, maxReadyCount: 2500).updates == [
                .init(connection: 1, count: 3), .init(connection: 2, count: 2),
            ]
        )
        var small = NSQReadyStateMachine(maxInFlight: 1, initialBackoff: .seconds(1), maximumBackoff: .seconds(8))
        _ = small.connectionAdded(1, maxReadyCount: 2500)
        _ = small.connectionAdded(2, maxReadyCount: 2500)
        #expect(small.readyCount(of: 1) == 1)
        #expect(small.readyCount(of: 2) == 1)
        #expect(machine.connectionRemoved(1).updates == [.init(connection: 2, count: 5)])
    }

    @Test func backoffStopsThenTestsThenRestores() {
        var machine = NSQReadyStateMachine(maxInFlight: 4, initialBackoff: .seconds(1), maximumBackoff: .seconds(8))
        _ = machine.connectionAdded(1, maxReadyCount: 2500)
        _ = machine.connectionAdded(2, maxReadyCount: 2500)

        let failed = machine.messageFailed()
        #expect(failed.startBackoffTimer == .seconds(1))
        #expect(machine.readyCount(of: 1) == 0 && machine.readyCount(of: 2) == 0)
        // Results arriving while the timer runs are ignored.
        #expect(machine.messageFailed() == .init())
        #expect(machine.messageSucceeded() == .init())

        _ = machine.backoffTimerFired()
        #expect(machine.readyCount(of: 1) + machine.readyCount(of: 2) == 1)

        let failedAgain = machine.messageFailed()
        #expect(failedAgain.startBackoffTimer == .seconds(2))
        _ = machine.backoffTimerFired()
        let stepDown = machine.messageSucceeded()
        #expect(stepDown.startBackoffTimer == .seconds(1))
        _ = machine.backoffTimerFired()
        _ = machine.messageSucceeded()
        #expect(machine.backoff == .none)
        #expect(machine.readyCount(of: 1) == 2 && machine.readyCount(of: 2) == 2)
    }

    @Test func backoffIsCapped() {
        var machine = NSQReadyStateMachine(maxInFlight: 1, initialBackoff: .seconds(1), maximumBackoff: .seconds(4))
        _ = machine.connectionAdded(1, maxReadyCount: 2500)
        var last: Duration?
        for _ in 0..<10 {
            last = machine.messageFailed().startBackoffTimer
            _ = machine.backoffTimerFired()
        }
        #expect(last == .seconds(4))
    }

    @Test func drainingSetsZeroAndStays() {
        var machine = NSQReadyStateMachine(maxInFlight: 3, initialBackoff: .seconds(1), maximumBackoff: .seconds(4))
        _ = machine.connectionAdded(1, maxReadyCount: 2500)
        #expect(machine.drain().updates == [.init(connection: 1, count: 0)])
        #expect(machine.messageFailed() == .init())
        #expect(machine.connectionAdded(2, maxReadyCount: 2500).updates.isEmpty)
    }

    @Test func reconnectBackoffDoubles() {
        let backoff = NSQReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        #expect(backoff.delay(afterFailures: 0) == .zero)
        #expect(backoff.delay(afterFailures: 1) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 3) == .milliseconds(400))
        #expect(backoff.delay(afterFailures: 50) == .seconds(1))
    }
}
