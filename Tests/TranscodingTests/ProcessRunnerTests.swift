import Foundation
import Testing

@testable import Transcoding

/// The process layer against /bin/sh stand-ins, so edge cases don't depend on ffmpeg's behaviour.
@Suite("ProcessRunner")
struct ProcessRunnerTests {
    private func shell(
        _ script: String, runner: ProcessRunner = ProcessRunner(), timeout: Duration = .seconds(20),
        stdout: StdoutHandling = .collect(limit: 1 << 20)
    ) async throws -> ProcessOutcome {
        try await runner.run(executable: "/bin/sh", arguments: ["-c", script], stdout: stdout, timeout: timeout)
    }

    @Test func collectsStdoutAndExitStatus() async throws {
        let outcome = try await shell("printf 'hello'; echo oops >&2; exit 3")
        #expect(String(decoding: outcome.stdout, as: UTF8.self) == "hello")
        #expect(outcome.exitStatus == 3)
        #expect(!outcome.succeeded)
        #expect(outcome.stderrTail == ["oops"])
    }

    @Test func stderrKeepsOnlyTheTail() async throws {
        let outcome = try await shell("i=0; while [ $i -lt 5000 ]; do i=$((i+1)); echo \"line $i\" >&2; done")
        #expect(outcome.stderrTail.count == 50)
        #expect(outcome.stderrTail.first == "line 4951")
        #expect(outcome.stderrTail.last == "line 5000")
    }

    @Test func stdoutLimitIsEnforced() async throws {
        let outcome = try await shell("head -c 10000 /dev/zero", stdout: .collect(limit: 1000))
        #expect(outcome.stdoutOverflowed)
        #expect(outcome.stdout.count <= 1000)
    }

    @Test func linesAreDeliveredInOrder() async throws {
        let lines = Box<[String]>([])
        _ = try await shell("echo a=1; echo b=2; printf c=3", stdout: .lines { line in
            lines.mutate { $0.append(String(line)) }
        })
        #expect(lines.value == ["a=1", "b=2", "c=3"])
    }

    @Test func sigtermIgnoringChildIsKilledAfterGrace() async throws {
        let pids = Box<[Int32]>([])
        var runner = ProcessRunner(terminationGrace: .milliseconds(300))
        runner.onLaunch = { pid in pids.mutate { $0.append(pid) } }
        let started = ContinuousClock.now
        // The ignored SIGTERM disposition survives exec, so sleep itself ignores it and has no children.
        await #expect(throws: TranscodingError.timedOut) {
            _ = try await shell("trap '' TERM; exec sleep 30", runner: runner, timeout: .milliseconds(200))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        let pid = try #require(pids.value.first)
        #expect(TestMedia.processIsGone(pid))
    }

    @Test func sigtermIsDeliverableAndEndsTheChildGracefully() async throws {
        // A long grace: finishing well before it proves SIGTERM (not the SIGKILL fallback) ended the child.
        let runner = ProcessRunner(terminationGrace: .seconds(20))
        let started = ContinuousClock.now
        await #expect(throws: TranscodingError.timedOut) {
            _ = try await shell("trap 'exit 7' TERM; while :; do :; done", runner: runner, timeout: .milliseconds(200))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    #if os(Linux)
    @Test func childStartsWithNoBlockedSignals() async throws {
        let outcome = try await shell("grep SigBlk /proc/self/status")
        let line = String(decoding: outcome.stdout, as: UTF8.self)
        #expect(line.hasPrefix("SigBlk:"))
        #expect(line.hasSuffix("0000000000000000\n"), "\(line)")
    }
    #endif

    @Test func cancelledBeforeStartNeverLaunches() async throws {
        let pids = Box<[Int32]>([])
        var runner = ProcessRunner()
        runner.onLaunch = { pid in pids.mutate { $0.append(pid) } }
        let job = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await runner.run(
                executable: "/bin/sh", arguments: ["-c", "exit 0"], stdout: .collect(limit: 10), timeout: .seconds(5))
        }
        let result = await job.result
        #expect(throws: TranscodingError.cancelled) { try result.get() }
        #expect(pids.value.isEmpty)
    }

    @Test func missingExecutableIsToolMissing() async {
        await #expect(throws: TranscodingError.toolMissing) {
            _ = try await ProcessRunner().run(
                executable: "/nonexistent/ffmpeg", arguments: [], stdout: .collect(limit: 10), timeout: .seconds(5))
        }
    }
}
