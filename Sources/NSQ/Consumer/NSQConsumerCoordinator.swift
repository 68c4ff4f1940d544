import Logging
import NIOCore

/// The consumer's shared state: which connections are open, their RDY, the backoff timer and the shutdown signal.
actor NSQConsumerCoordinator {
    private var ready: NSQReadyStateMachine
    private var connections: [NSQReadyStateMachine.ConnectionID: NSQConnection] = [:]
    private var nextConnectionID = 0
    private var backoffTimer: Task<Void, Never>?
    private var shutdownRequested = false
    private var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    private let logger: Logger

    init(configuration: NSQConsumerConfiguration, logger: Logger) {
        self.ready = NSQReadyStateMachine(
            maxInFlight: configuration.maxInFlight,
            initialBackoff: configuration.initialBackoff,
            maximumBackoff: configuration.maximumBackoff
        )
        self.logger = logger
    }

    var isDraining: Bool { ready.isDraining }

    /// Adds a freshly subscribed connection and gives it its share of RDY; `nil` when shutting down.
    func register(_ connection: NSQConnection) -> NSQReadyStateMachine.ConnectionID? {
        guard !ready.isDraining else { return nil }
        let id = nextConnectionID
        nextConnectionID += 1
        connections[id] = connection
        apply(ready.connectionAdded(id, maxReadyCount: connection.settings.maxReadyCount))
        return id
    }

    func unregister(_ id: NSQReadyStateMachine.ConnectionID) {
        connections[id] = nil
        apply(ready.connectionRemoved(id))
    }

    func record(_ outcome: NSQMessageOutcome) {
        switch outcome {
        case .finish: apply(ready.messageSucceeded())
        case .requeue: apply(ready.messageFailed())
        case .requeueWithoutBackoff: break
        }
    }

    /// Stops all message flow (RDY 0) and returns the connections that still need CLS.
    func beginDrain() -> [NSQConnection] {
        backoffTimer?.cancel()
        apply(ready.drain())
        return Array(connections.values)
    }

    func requestShutdown() {
        shutdownRequested = true
        for waiter in shutdownWaiters { waiter.resume() }
        shutdownWaiters.removeAll()
    }

    func waitForShutdownRequest() async {
        if shutdownRequested { return }
        await withCheckedContinuation { shutdownWaiters.append($0) }
    }

    private func backoffTimerFired() {
        apply(ready.backoffTimerFired())
    }

    private func apply(_ output: NSQReadyStateMachine.Output) {
        for update in output.updates {
            guard let connection = connections[update.connection] else { continue }
            connection.send(.ready(count: update.count)).whenFailure { [logger] error in
                logger.debug("RDY not sent", metadata: ["nsqd": "\(connection.address)", "error": "\(error)"])
            }
        }
        if let delay = output.startBackoffTimer {
            logger.info("backing off after a failed message", metadata: ["duration": "\(delay)"])
            backoffTimer?.cancel()
            backoffTimer = Task {
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return
                }
                self.backoffTimerFired()
            }
        }
    }
}
