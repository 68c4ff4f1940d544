import Foundation
import Testing

@testable import MediaVaultCore

@Suite("withTimeout")
struct TimeoutTests {
    @Test("returns the result when the operation is in time")
    func inTime() async throws {
        #expect(try await withTimeout(.seconds(5)) { 42 } == 42)
    }

    @Test("passes the operation's own error on")
    func failure() async {
        struct Broken: Error {}
        await #expect(throws: Broken.self) { try await withTimeout(.seconds(5)) { throw Broken() } }
    }

    @Test("a cancelled caller gets CancellationError at once, and the operation is cancelled too")
    func cancelledCaller() async {
        let sawCancellation = ManagedFlag()
        let caller = Task {
            try await withTimeout(.seconds(30)) {
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    sawCancellation.set()
                    throw error
                }
            }
        }
        try? await Task.sleep(for: .milliseconds(100))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        for _ in 0..<50 where !sawCancellation.value { try? await Task.sleep(for: .milliseconds(20)) }
        #expect(sawCancellation.value, "the operation was told to stop")
    }

    @Test("answers at the deadline even when the operation ignores cancellation")
    func stubbornOperation() async {
        let started = ContinuousClock.now
        await #expect(throws: TimeoutError.self) {
            try await withTimeout(.milliseconds(200)) {
                // A query on a dead connection behaves like this: it neither finishes nor notices cancellation.
                let until = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
        // Far below the operation's ten seconds: the caller was not made to wait for it.
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}

/// A flag set from another task.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set_ = false
    var value: Bool { lock.withLock { set_ } }
    func set() { lock.withLock { set_ = true } }
}
