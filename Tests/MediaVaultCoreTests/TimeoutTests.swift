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
