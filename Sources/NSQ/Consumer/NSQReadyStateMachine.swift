/// Decides the RDY count of each of a consumer's connections, free of I/O.
///
/// Normally `maxInFlight` is split across the connections (at least 1 each, capped by each nsqd's
/// `max_rdy_count`). After a processing failure the consumer backs off: RDY 0 everywhere for a backoff period,
/// then RDY 1 on a single connection to test the waters; each success while testing steps the backoff down
/// until full RDY is restored, each failure steps it up. Successes and failures that arrive while the backoff
/// timer runs are ignored, so a burst of in-flight results cannot jump straight to maximum or normal speed.
struct NSQReadyStateMachine {
    typealias ConnectionID = Int

    struct ReadyUpdate: Equatable {
        var connection: ConnectionID
        var count: Int
    }

    struct Output: Equatable {
        var updates: [ReadyUpdate] = []
        /// When set, call ``backoffTimerFired()`` after this long.
        var startBackoffTimer: Duration?
    }

    enum BackoffState: Equatable {
        case none
        /// RDY is 0 everywhere until the timer fires.
        case waiting(level: Int)
        /// One connection has RDY 1; the next result decides where to go.
        case testing(level: Int)
    }

    private let maxInFlight: Int
    private let initialBackoff: Duration
    private let maximumBackoff: Duration
    private let maximumLevel: Int
    /// In connection order, so distribution and the choice of test connection are deterministic.
    private var connections: [(id: ConnectionID, maxReadyCount: Int)] = []
    private var sentReady: [ConnectionID: Int] = [:]
    private var testConnectionIndex = 0
    private(set) var backoff: BackoffState = .none
    private(set) var isDraining = false

    init(maxInFlight: Int, initialBackoff: Duration, maximumBackoff: Duration) {
        self.maxInFlight = max(1, maxInFlight)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = max(initialBackoff, maximumBackoff)
        var level = 1
        var duration = initialBackoff
        while duration < maximumBackoff, level < 32 {
            duration *= 2
            level += 1
        }
        self.maximumLevel = level
    }

    /// The RDY last sent to `connection`.
    func readyCount(of connection: ConnectionID) -> Int { sentReady[connection] ?? 0 }

    func backoffDuration(level: Int) -> Duration {
        guard level > 0 else { return .zero }
        var duration = initialBackoff
        for _ in 1..<level { duration *= 2 }
        return min(duration, maximumBackoff)
    }

    mutating func connectionAdded(_ id: ConnectionID, maxReadyCount: Int) -> Output {
        connections.append((id, max(1, maxReadyCount)))
        sentReady[id] = 0
        return Output(updates: redistribute())
    }

    mutating func connectionRemoved(_ id: ConnectionID) -> Output {
        connections.removeAll { $0.id == id }
        sentReady[id] = nil
        return Output(updates: redistribute())
    }

    mutating func messageSucceeded() -> Output {
        guard !isDraining, case .testing(let level) = backoff else { return Output() }
        if level <= 1 {
            backoff = .none
            return Output(updates: redistribute())
        }
        return enterBackoff(level: level - 1)
    }

    mutating func messageFailed() -> Output {
        guard !isDraining else { return Output() }
        switch backoff {
        case .waiting:
            return Output()
        case .none:
            return enterBackoff(level: 1)
        case .testing(let level):
            return enterBackoff(level: min(level + 1, maximumLevel))
        }
    }

    mutating func backoffTimerFired() -> Output {
        guard !isDraining, case .waiting(let level) = backoff else { return Output() }
        backoff = .testing(level: level)
        testConnectionIndex += 1
        return Output(updates: redistribute())
    }

    /// RDY 0 everywhere, for good: the consumer is shutting down.
    mutating func drain() -> Output {
        isDraining = true
        return Output(updates: redistribute())
    }

    private mutating func enterBackoff(level: Int) -> Output {
        backoff = .waiting(level: level)
        return Output(updates: redistribute(), startBackoffTimer: backoffDuration(level: level))
    }

    private func targetCounts() -> [ConnectionID: Int] {
        var targets: [ConnectionID: Int] = [:]
        for connection in connections { targets[connection.id] = 0 }
        guard !isDraining, !connections.isEmpty else { return targets }
        switch backoff {
        case .waiting:
            break
        case .testing:
            let tester = connections[testConnectionIndex % connections.count]
            targets[tester.id] = 1
        case .none:
            let share = maxInFlight / connections.count
            let remainder = maxInFlight % connections.count
            for (index, connection) in connections.enumerated() {
                let wanted = max(1, share + (index < remainder ? 1 : 0))
                targets[connection.id] = min(wanted, connection.maxReadyCount)
            }
        }
        return targets
    }

    private mutating func redistribute() -> [ReadyUpdate] {
        var updates: [ReadyUpdate] = []
        let targets = targetCounts()
        for connection in connections {
            let target = targets[connection.id] ?? 0
            if sentReady[connection.id] != target {
                sentReady[connection.id] = target
                updates.append(ReadyUpdate(connection: connection.id, count: target))
            }
        }
        return updates
    }
}
