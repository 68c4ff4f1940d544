import Logging
import NIOCore
import NIOPosix

/// Consumes a topic's channel from one or more nsqd and hands each message to a handler.
///
/// ```swift
/// let consumer = NSQConsumer(configuration: config) { message in
///     try await process(message.body)
///     return .finish
/// }
/// try await consumer.run()      // until consumer.shutdown() or task cancellation
/// ```
///
/// The handler's result answers the message (FIN or REQ); a handler that throws requeues it with
/// ``NSQConsumerConfiguration/requeueDelayOnError``. A handler may also answer early itself with
/// ``NSQMessage/finish()`` or ``NSQMessage/requeue(delay:backoff:)``, in which case its returned outcome is
/// ignored; long handlers can call ``NSQMessage/touch()`` to keep the message from timing out.
public final class NSQConsumer: Sendable {
    /// Processes one message and says how to answer it.
    public typealias Handler = @Sendable (NSQMessage) async throws -> NSQMessageOutcome

    private let configuration: NSQConsumerConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let handler: Handler
    private let coordinator: NSQConsumerCoordinator
    private let runGuard = NSQRunOnce()

    /// Creates a consumer; nothing connects until ``run()``.
    public init(
        configuration: NSQConsumerConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "nsq.consumer"),
        handler: @escaping Handler
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.handler = handler
        self.coordinator = NSQConsumerCoordinator(configuration: configuration, logger: logger)
    }

    /// Connects to every nsqd, consumes until ``shutdown()`` is called, then drains and returns.
    ///
    /// A graceful shutdown sends RDY 0, waits up to ``NSQConsumerConfiguration/drainTimeout`` for in-flight
    /// messages to be answered, sends CLS and closes. Cancelling the calling task instead stops at once: RDY 0,
    /// CLS and close without waiting (unanswered messages are redelivered by nsqd after their timeout).
    /// Connections that drop are reopened with backoff. A consumer runs only once.
    public func run() async throws {
        guard await runGuard.claim() else {
            throw NSQError.invalid.with(message: "NSQConsumer.run() may only be called once")
        }
        guard NSQNames.isValidTopicName(configuration.topic) else {
            throw NSQError.badTopic.with(message: "topic name \"\(configuration.topic)\" is not valid")
        }
        guard NSQNames.isValidChannelName(configuration.channel) else {
            throw NSQError.badChannel.with(message: "channel name \"\(configuration.channel)\" is not valid")
        }
        let addresses = try configuration.addresses.map { text throws(NSQError) in try NSQAddress(parsing: text) }
        guard !addresses.isEmpty else {
            throw NSQError.connectionFailed.with(message: "no nsqd addresses configured")
        }

        let (messages, messageSink) = AsyncStream.makeStream(of: NSQMessage.self)
        let delegate = NSQConsumerDelegate(messages: messageSink, coordinator: coordinator)
        let supervision = Task {
            await withDiscardingTaskGroup { group in
                for address in addresses {
                    group.addTask { await self.superviseConnection(to: address, delegate: delegate) }
                }
            }
        }
        let dispatch = Task {
            await withDiscardingTaskGroup { group in
                for await message in messages {
                    group.addTask { await self.handle(message) }
                }
            }
        }

        let coordinator = self.coordinator
        await withTaskCancellationHandler {
            await coordinator.waitForShutdownRequest()
        } onCancel: {
            Task { await coordinator.requestShutdown() }
        }
        let graceful = !Task.isCancelled
        await drain(graceful: graceful)
        supervision.cancel()
        await supervision.value
        messageSink.finish()
        if !graceful { dispatch.cancel() }
        await dispatch.value
    }

    /// Asks ``run()`` to drain and return; safe to call from anywhere, any number of times.
    public func shutdown() {
        let coordinator = self.coordinator
        Task { await coordinator.requestShutdown() }
    }

    private func handle(_ message: NSQMessage) async {
        let outcome: NSQMessageOutcome
        do {
            outcome = try await handler(message)
        } catch {
            logger.warning(
                "message handler failed, requeueing",
                metadata: ["id": "\(message.id)", "error": "\(error)"]
            )
            outcome = .requeue(delay: configuration.requeueDelayOnError)
        }
        do {
            try await message.respond(with: outcome)
        } catch let error as NSQError where error == .alreadyResponded {
            // The handler answered the message itself.
        } catch {
            logger.warning("could not answer message", metadata: ["id": "\(message.id)", "error": "\(error)"])
        }
    }

    private func superviseConnection(to address: NSQAddress, delegate: NSQConsumerDelegate) async {
        let settings = NSQConnectionSettings(
            clientID: configuration.clientID,
            userAgent: configuration.userAgent,
            heartbeatInterval: configuration.heartbeatInterval,
            messageTimeout: configuration.messageTimeout,
            connectTimeout: configuration.connectTimeout
        )
        let backoff = NSQReconnectBackoff(
            initial: configuration.initialReconnectDelay,
            maximum: configuration.maximumReconnectDelay
        )
        var failures = 0
        while !Task.isCancelled, await !coordinator.isDraining {
            do {
                let connection = try await NSQConnection.connect(
                    to: address,
                    settings: settings,
                    subscription: (configuration.topic, configuration.channel),
                    delegate: delegate,
                    eventLoopGroup: eventLoopGroup,
                    logger: logger
                )
                failures = 0
                guard let id = await coordinator.register(connection) else {
                    connection.close()
                    return
                }
                logger.debug("consumer connected", metadata: ["nsqd": "\(address)"])
                try? await connection.closeFuture.get()
                await coordinator.unregister(id)
                logger.info("consumer connection closed", metadata: ["nsqd": "\(address)"])
            } catch {
                logger.warning("consumer could not connect", metadata: ["nsqd": "\(address)", "error": "\(error)"])
            }
            failures += 1
            do {
                try await Task.sleep(for: backoff.delay(afterFailures: failures))
            } catch {
                return
            }
        }
    }

    private func drain(graceful: Bool) async {
        let connections = await coordinator.beginDrain()
        if graceful {
            let deadline = ContinuousClock.now + configuration.drainTimeout
            while ContinuousClock.now < deadline {
                var inFlight = 0
                for connection in connections { inFlight += (try? await connection.inFlightCount().get()) ?? 0 }
                if inFlight == 0 { break }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    // CLOSE_WAIT confirms nsqd stopped sending; don't hang on an nsqd that never answers.
                    let closeWait = connection.send(.close)
                    let timeout = closeWait.eventLoop.scheduleTask(in: .seconds(1)) { connection.close() }
                    _ = try? await closeWait.get()
                    timeout.cancel()
                    connection.close()
                    _ = try? await connection.closeFuture.get()
                }
            }
        }
    }
}

/// Bridges connection events (on event loops) into the consumer's message stream and coordinator.
private final class NSQConsumerDelegate: NSQConnectionDelegate {
    private let messages: AsyncStream<NSQMessage>.Continuation
    private let coordinator: NSQConsumerCoordinator

    init(messages: AsyncStream<NSQMessage>.Continuation, coordinator: NSQConsumerCoordinator) {
        self.messages = messages
        self.coordinator = coordinator
    }

    func connection(_ address: NSQAddress, received message: NSQMessage) {
        messages.yield(message)
    }

    func connection(_ address: NSQAddress, respondedWith outcome: NSQMessageOutcome) {
        let coordinator = self.coordinator
        Task { await coordinator.record(outcome) }
    }
}

/// Lets exactly one caller through.
private actor NSQRunOnce {
    private var claimed = false

    func claim() -> Bool {
        defer { claimed = true }
        return !claimed
    }
}
