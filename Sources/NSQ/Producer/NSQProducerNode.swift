import Logging
import NIOCore

/// The producer's single, lazily opened connection to one nsqd.
actor NSQProducerNode {
    private enum State {
        case idle
        case connecting(Task<NSQConnection, any Error>)
        case connected(NSQConnection)
        case backingOff(until: ContinuousClock.Instant, lastError: NSQError)
        case closed
    }

    let address: NSQAddress
    private let settings: NSQConnectionSettings
    private let backoff: NSQReconnectBackoff
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private var state: State = .idle
    private var consecutiveFailures = 0

    init(
        address: NSQAddress,
        settings: NSQConnectionSettings,
        backoff: NSQReconnectBackoff,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.address = address
        self.settings = settings
        self.backoff = backoff
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The open connection, connecting first if needed.
    ///
    /// While a previous attempt's backoff runs this fails at once, so the producer can move on to another nsqd
    /// instead of waiting.
    func connection() async throws -> NSQConnection {
        switch state {
        case .connected(let connection):
            if connection.isActive { return connection }
            state = .idle
        case .connecting(let task):
            return try await task.value
        case .backingOff(let until, let lastError):
            if ContinuousClock.now < until { throw lastError }
        case .closed:
            throw NSQError.shutdown
        case .idle:
            break
        }
        let task = Task { [address, settings, eventLoopGroup, logger] in
            try await NSQConnection.connect(
                to: address,
                settings: settings,
                eventLoopGroup: eventLoopGroup,
                logger: logger
            )
        }
        state = .connecting(task)
        do {
            let connection = try await task.value
            guard case .connecting = state else {
                connection.close()
                throw NSQError.shutdown
            }
            consecutiveFailures = 0
            state = .connected(connection)
            connection.closeFuture.whenComplete { _ in
                Task { await self.connectionClosed(connection) }
            }
            logger.debug("producer connected", metadata: ["nsqd": "\(address)"])
            return connection
        } catch {
            guard case .connecting = state else { throw NSQError.shutdown }
            consecutiveFailures += 1
            let nsqError = (error as? NSQError) ?? NSQError.connectionFailed.with(message: "\(address): \(error)")
            let delay = backoff.delay(afterFailures: consecutiveFailures)
            state = .backingOff(until: .now + delay, lastError: nsqError)
            logger.warning(
                "producer could not connect",
                metadata: ["nsqd": "\(address)", "error": "\(nsqError)", "retry_in": "\(delay)"]
            )
            throw nsqError
        }
    }

    private func connectionClosed(_ closed: NSQConnection) {
        // A fresh connection is opened by the next publish, not eagerly, so an idle producer holds no socket.
        if case .connected(let current) = state, current === closed { state = .idle }
    }

    func close() {
        switch state {
        case .connected(let connection): connection.close()
        case .connecting(let task): task.cancel()
        case .idle, .backingOff, .closed: break
        }
        state = .closed
    }
}
