import ServiceLifecycle

/// A background loop as a `Service`: waits for start-up, then runs `tick` again and again, pausing as long as each
/// tick asks, until graceful shutdown interrupts the pause (a running tick is never interrupted halfway: it sees
/// cancellation only at its own suspension points). `State` is carried from one tick to the next.
public struct PeriodicService<State: Sendable>: Service {
    let initialState: State
    let startup: StartupGate
    let tick: @Sendable (inout State) async -> Duration
    let onShutdown: @Sendable () async -> Void

    /// `tick` returns the pause before the next tick; `.zero` runs it again at once.
    public init(
        initialState: State, startup: StartupGate = StartupGate(open: true),
        onShutdown: @escaping @Sendable () async -> Void = {},
        tick: @escaping @Sendable (inout State) async -> Duration
    ) {
        self.initialState = initialState
        self.startup = startup
        self.tick = tick
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                await startup.wait()
                var state = initialState
                while !Task.isCancelled {
                    let pause = await tick(&state)
                    if pause > .zero { try await Task.sleep(for: pause) }
                }
            }
        } catch is CancellationError {
            // Shutdown interrupted the pause between ticks.
        }
        await onShutdown()
    }
}

extension PeriodicService where State == Void {
    /// A loop without state between ticks.
    public init(
        startup: StartupGate = StartupGate(open: true), onShutdown: @escaping @Sendable () async -> Void = {},
        tick: @escaping @Sendable () async -> Duration
    ) {
        self.init(initialState: (), startup: startup, onShutdown: onShutdown) { _ in await tick() }
    }
}
