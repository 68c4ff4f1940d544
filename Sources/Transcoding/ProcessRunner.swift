import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a child process's stdout is consumed.
enum StdoutHandling: Sendable {
    /// Keep everything up to `limit` bytes (ffprobe JSON); more is an error.
    case collect(limit: Int)
    /// Hand each line to the closure on the reader thread (ffmpeg -progress).
    case lines(@Sendable (Substring) -> Void)
}

/// What a finished child process left behind.
struct ProcessOutcome: Sendable {
    var pid: Int32
    var exitStatus: Int32
    var killedBySignal: Bool
    var stdout: Data
    var stdoutOverflowed: Bool
    /// Last lines of stderr, oldest first.
    var stderrTail: [String]
    /// Wall time from launch until the exit was seen.
    var runTime: Duration = .zero

    var succeeded: Bool { exitStatus == 0 && !killedBySignal }
}

/// Runs one external tool with bounded output buffering, a timeout, and Swift task cancellation.
///
/// Blocking work (pipe reads) happens on dedicated threads and completion arrives through Process's
/// termination handler, so no cooperative-pool thread ever waits on the child.
struct ProcessRunner: Sendable {
    var stderrLines = 50
    var terminationGrace: Duration = .seconds(2)
    /// Test hook: sees each child's pid right after launch.
    var onLaunch: (@Sendable (Int32) -> Void)?
    /// Limits each child runs under, through prlimit and nice; nil starts tools directly.
    var limits: ToolLimits?
    /// prlimit's path, consulted only when `limits` is set.
    var prlimitPath = ToolPaths.onPath.prlimit
    /// nice's path, consulted only when `limits` is set.
    var nicePath = ToolPaths.onPath.nice

    /// Runs `executable` to completion; throws `.toolMissing`, `.timedOut`, `.cancelled`, `.resourceLimit` (a limit
    /// stopped it) or `.invalidInput` (invalid limits), else returns the outcome.
    func run(
        executable: String, arguments: [String], stdout: StdoutHandling, timeout: Duration
    ) async throws -> ProcessOutcome {
        let control = RunControl(grace: terminationGrace)
        try Task.checkCancellation(orThrow: .cancelled)
        let invocation = try command(executable: executable, arguments: arguments)
        let outcome = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutcome, Error>) in
                // Launch from a fresh thread with an empty signal mask. On Linux, Foundation's Process passes the
                // calling thread's mask to the child, and Dispatch/cooperative-pool threads block SIGTERM, SIGINT
                // and most others: ffmpeg would then ignore our SIGTERM and always need the SIGKILL fallback.
                // This also keeps fork/exec off the cooperative pool.
                let launcher = Thread {
                    Self.unblockAllSignals()
                    launch(
                        executable: invocation.executable, arguments: invocation.arguments, stdout: stdout,
                        timeout: timeout, control: control
                    ) { continuation.resume(with: $0) }
                }
                launcher.name = "tool-launch"
                launcher.start()
            }
        } onCancel: {
            control.stop(.cancelled)
        }
        switch control.stopReason {
        case .timedOut?:
            throw TranscodingError.timedOut.with(
                reason: "\(Self.toolName(executable)) exceeded its timeout of \(timeout)")
        case .cancelled?:
            throw TranscodingError.cancelled.with(reason: "\(Self.toolName(executable)) was cancelled")
        case nil:
            if let limits { try Self.checkLimits(outcome, tool: Self.toolName(executable), limits: limits) }
            return outcome
        }
    }

    /// What is really started: the tool itself, or prlimit, which execs nice, which execs the tool.
    func command(executable: String, arguments: [String]) throws -> (executable: String, arguments: [String]) {
        guard let limits else { return (executable, arguments) }
        // Checked here because once wrapped, a missing tool would only surface as nice's exit status 127.
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw Self.missing(executable) }
        _ = try limits.validated()
        for wrapper in [prlimitPath, nicePath] where !FileManager.default.isExecutableFile(atPath: wrapper) {
            throw TranscodingError.toolMissing.with(
                reason: "\(Self.toolName(wrapper)) not found at \"\(wrapper)\"; it applies the tool limits: install "
                    + "util-linux and coreutils, configure ToolPaths, or run without limits")
        }
        let wrapped = ToolSandbox.arguments(
            limits: limits, nice: nicePath, executable: executable, arguments: arguments)
        return (prlimitPath, wrapped)
    }

    /// Throws when the outcome shows a limit stopping the tool, or prlimit/nice failing to start it.
    private static func checkLimits(_ outcome: ProcessOutcome, tool: String, limits: ToolLimits) throws {
        let processors = ProcessInfo.processInfo.activeProcessorCount
        if let reason = ToolSandbox.limitReason(tool: tool, outcome: outcome, limits: limits, processors: processors) {
            let details = FFmpegDiagnostics.meaningfulLines(outcome.stderrTail, paths: []).suffix(10)
            throw TranscodingError.resourceLimit.with(
                reason: reason, details: Array(details), exitStatus: outcome.exitStatus)
        }
        if let complaint = ToolSandbox.wrapperFailure(outcome) {
            throw TranscodingError.toolMissing.with(
                reason: "could not start \(tool) under its limits: \(complaint)", exitStatus: outcome.exitStatus)
        }
    }

    private func launch(
        executable: String, arguments: [String], stdout: StdoutHandling, timeout: Duration, control: RunControl,
        completion: @escaping @Sendable (Result<ProcessOutcome, Error>) -> Void
    ) {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            completion(.failure(Self.missing(executable)))
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe

        let group = DispatchGroup()
        let stdoutSink = StdoutSink(stdout)
        let stderrSink = StderrSink(capacity: stderrLines)

        if control.stopReason != nil {
            // Cancelled while we were getting ready: don't start a child only to kill it.
            completion(.success(ProcessOutcome(
                pid: 0, exitStatus: -1, killedBySignal: false, stdout: Data(), stdoutOverflowed: false,
                stderrTail: [])))
            return
        }
        group.enter()
        process.terminationHandler = { finished in
            control.didExit(
                status: finished.terminationStatus, signalled: finished.terminationReason == .uncaughtSignal)
            group.leave()
        }
        let started = ContinuousClock.now
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            group.leave()
            completion(.failure(Self.missing(executable, detail: "\(error)")))
            return
        }
        let pid = process.processIdentifier
        onLaunch?(pid)
        control.didLaunch(pid: pid)

        // Readers start only after a successful launch: before it, our own write ends would keep them blocked.
        Self.startReader(outPipe.fileHandleForReading, control: control, group: group, name: "tool-stdout") {
            stdoutSink.consume($0)
        }
        Self.startReader(errPipe.fileHandleForReading, control: control, group: group, name: "tool-stderr") {
            stderrSink.consume($0)
        }

        let timer = DispatchWorkItem { control.stop(.timedOut) }
        // Clamped so absurd timeouts (e.g. .seconds(Int64.max)) can't overflow Dispatch's nanosecond arithmetic.
        let seconds = min(max(timeout.timeInterval, 0), 10 * 365 * 86400)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: timer)

        group.notify(queue: .global()) {
            timer.cancel()
            // The group orders these reads after the reader threads' last writes.
            let (status, signalled) = control.exitInfo
            let collected = stdoutSink.finish()
            completion(
                .success(
                    ProcessOutcome(
                        pid: pid, exitStatus: status, killedBySignal: signalled, stdout: collected.data,
                        stdoutOverflowed: collected.overflowed, stderrTail: stderrSink.finish(),
                        runTime: control.runTime(since: started))))
            // Keep the Process object alive until here; some Foundation versions stop monitoring a freed one.
            withExtendedLifetime(process) {}
        }
    }

    private static func startReader(
        _ handle: FileHandle, control: RunControl, group: DispatchGroup, name: String,
        consume: @escaping @Sendable (UnsafeRawBufferPointer) -> Void
    ) {
        group.enter()
        let thread = Thread {
            let fd = handle.fileDescriptor
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
            defer {
                buffer.deallocate()
                try? handle.close()
                group.leave()
            }
            while true {
                // poll instead of a bare read: if a grandchild inherited the pipe and outlives the child,
                // EOF would never come, so stop once the child is gone and the pipe has stayed quiet a while.
                // (ffmpeg spawns no children; on Linux, Foundation itself reports exit only after descendants
                // close their inherited fds, so this matters mostly on Darwin.)
                var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&request, 1, 200)
                if ready == 0 {
                    if control.exitedLongerThan(drainAfterExit) { break }
                    continue
                }
                if ready < 0 {
                    if errno == EINTR { continue }
                    break
                }
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count > 0 {
                    consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                } else if count < 0 && (errno == EINTR || errno == EAGAIN) {
                    continue
                } else {
                    break  // EOF: every writer closed the pipe
                }
            }
        }
        thread.name = name
        thread.start()
    }

    /// How long readers wait for more output after the child exited (only matters if a grandchild holds the pipe).
    private static let drainAfterExit: Duration = .seconds(1)

    /// Clears the calling thread's signal mask (only ever called on our own launcher threads).
    private static func unblockAllSignals() {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
    }

    static func toolName(_ executable: String) -> String {
        URL(fileURLWithPath: executable).lastPathComponent
    }

    static func missing(_ executable: String, detail: String? = nil) -> TranscodingError {
        var reason = "\(toolName(executable)) not found or not executable at \(executable)"
        if let detail { reason += " (\(detail))" }
        return TranscodingError.toolMissing.with(reason: reason)
    }
}

/// Why a run was stopped early.
enum StopReason: Sendable {
    case timedOut
    case cancelled
}

/// Shared, lock-protected state of one child process: launch, exit and stop requests can race from any thread.
final class RunControl: @unchecked Sendable {
    private let lock = NSLock()
    private let grace: Duration
    private var pid: Int32 = 0
    private var launched = false
    private var exited = false
    private var exitTime: ContinuousClock.Instant?
    private var status: Int32 = -1
    private var signalled = false
    private var reason: StopReason?

    init(grace: Duration) {
        self.grace = grace
    }

    var stopReason: StopReason? { lock.withLock { reason } }
    var exitInfo: (Int32, Bool) { lock.withLock { (status, signalled) } }

    /// Time from `start` until the exit was seen (or until now, if it wasn't yet).
    func runTime(since start: ContinuousClock.Instant) -> Duration {
        lock.withLock { (exitTime ?? ContinuousClock.now) - start }
    }

    /// True when the child exited more than `interval` ago.
    func exitedLongerThan(_ interval: Duration) -> Bool {
        lock.withLock { exitTime.map { ContinuousClock.now - $0 > interval } ?? false }
    }

    func didLaunch(pid: Int32) {
        let pending: Bool = lock.withLock {
            self.pid = pid
            launched = true
            return reason != nil && !exited
        }
        // A stop requested before launch finished is honoured now.
        if pending { terminate(pid) }
    }

    func didExit(status: Int32, signalled: Bool) {
        lock.withLock {
            exited = true
            exitTime = .now
            self.status = status
            self.signalled = signalled
        }
    }

    /// Records the first stop reason and sends SIGTERM, then SIGKILL if the child outlives the grace period.
    func stop(_ newReason: StopReason) {
        let target: Int32? = lock.withLock {
            // A child that already exited finished on its own: its real result stands.
            guard reason == nil, !exited else { return nil }
            reason = newReason
            return launched ? pid : nil
        }
        if let target { terminate(target) }
    }

    private func terminate(_ pid: Int32) {
        kill(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace.timeInterval) { [self] in
            // Checked under the lock so a reaped (and possibly reused) pid is never signalled.
            let alive = lock.withLock { !exited }
            if alive { kill(pid, SIGKILL) }
        }
    }
}

/// Reader-thread-confined stdout consumer; read only after the reader finished.
private final class StdoutSink: @unchecked Sendable {
    private let handling: StdoutHandling
    private var data = Data()
    private var overflowed = false
    private var splitter = LineSplitter()

    init(_ handling: StdoutHandling) {
        self.handling = handling
    }

    func consume(_ bytes: UnsafeRawBufferPointer) {
        switch handling {
        case .collect(let limit):
            if data.count + bytes.count <= limit {
                data.append(contentsOf: bytes)
            } else {
                overflowed = true
            }
        case .lines(let handler):
            for line in splitter.feed(bytes) { handler(Substring(line)) }
        }
    }

    func finish() -> (data: Data, overflowed: Bool) {
        if case .lines(let handler) = handling, let last = splitter.finish() {
            handler(Substring(last))
        }
        return (data, overflowed)
    }
}

/// Reader-thread-confined stderr consumer that keeps only the last lines.
private final class StderrSink: @unchecked Sendable {
    private var splitter = LineSplitter()
    private var lines: RingBuffer<String>

    init(capacity: Int) {
        lines = RingBuffer(capacity: capacity)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) {
        for line in splitter.feed(bytes) { lines.append(line) }
    }

    func finish() -> [String] {
        if let last = splitter.finish() { lines.append(last) }
        return lines.elements
    }
}

extension Duration {
    /// Seconds as a Double, for Dispatch deadlines.
    var timeInterval: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

extension Task where Success == Never, Failure == Never {
    /// Like `checkCancellation()` but throws our typed error.
    static func checkCancellation(orThrow error: TranscodingError) throws {
        if isCancelled { throw error.with(reason: "cancelled before start") }
    }
}
