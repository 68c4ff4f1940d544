import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Kernel resource limits and scheduling priority for each ffmpeg/ffprobe run, so that a hostile upload can exhaust
/// only its own tool process, never the worker.
///
/// They are applied to the child alone, through util-linux `prlimit` and coreutils `nice`; a `nil` limit leaves the
/// one the worker itself runs under. Hitting a limit makes the run throw `TranscodingError.resourceLimit`.
public struct ToolLimits: Sendable, Equatable {
    /// CPU time in seconds, summed over all of the tool's threads; the kernel kills the tool with SIGKILL when it is
    /// used up. Size it as the wall-clock budget times the cores the tool may use.
    public var cpuSeconds: Int?
    /// Virtual address space in bytes; allocations beyond it fail inside the tool.
    ///
    /// It counts reservations, not resident memory: thread stacks and glibc's per-thread malloc arenas grow it with
    /// the thread count, so hosts with many cores may need more than the default.
    public var addressSpaceBytes: Int64?
    /// Largest file the tool may write, in bytes; a bigger write kills it with SIGXFSZ. Pipes are not counted.
    public var fileSizeBytes: Int64?
    /// Niceness added to the tool's own (0...19): higher lets the worker's event loops and health checks go first.
    public var niceness: Int

    /// 4 h of CPU per core, 8 GiB of address space, 64 GiB per written file, niceness 10.
    ///
    /// The CPU budget scales with the cores because every thread draws on it: a transcode using all of them for the
    /// worker's whole default job timeout (3 h) still fits, while a tool spinning out of control is stopped.
    public static let `default` = ToolLimits()

    /// Creates limits; every parameter has the production default.
    public init(
        cpuSeconds: Int? = 4 * 3600 * max(1, ProcessInfo.processInfo.activeProcessorCount),
        addressSpaceBytes: Int64? = Int64(8) << 30, fileSizeBytes: Int64? = Int64(64) << 30, niceness: Int = 10
    ) {
        self.cpuSeconds = cpuSeconds
        self.addressSpaceBytes = addressSpaceBytes
        self.fileSizeBytes = fileSizeBytes
        self.niceness = niceness
    }

    /// Problems with these limits, each naming its field; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        if let cpuSeconds, !(1...Self.maxCPUSeconds).contains(cpuSeconds) {
            problems.append("cpuSeconds must be in 1...\(Self.maxCPUSeconds) or nil (got \(cpuSeconds))")
        }
        // Below 64 MiB ffmpeg cannot even map its shared libraries, so such a value is a typo, not a policy.
        if let addressSpaceBytes, !(Self.minAddressSpaceBytes...Self.maxBytes).contains(addressSpaceBytes) {
            problems.append(
                "addressSpaceBytes must be in \(Self.minAddressSpaceBytes)...\(Self.maxBytes) or nil "
                    + "(got \(addressSpaceBytes))")
        }
        if let fileSizeBytes, !(Self.minFileSizeBytes...Self.maxBytes).contains(fileSizeBytes) {
            problems.append(
                "fileSizeBytes must be in \(Self.minFileSizeBytes)...\(Self.maxBytes) or nil (got \(fileSizeBytes))")
        }
        // Negative values would need privileges the worker should not have; nice caps anything above 19 anyway.
        if !(0...19).contains(niceness) {
            problems.append("niceness must be in 0...19 (got \(niceness))")
        }
        return problems
    }

    /// Throws `TranscodingError.invalidInput` listing every problem when the limits are invalid.
    public func validated() throws -> ToolLimits {
        let problems = validate()
        guard problems.isEmpty else {
            throw TranscodingError.invalidInput.with(reason: "invalid tool limits: " + problems.joined(separator: "; "))
        }
        return self
    }

    static let maxCPUSeconds = 366 * 86400
    static let minAddressSpaceBytes: Int64 = 64 << 20
    static let minFileSizeBytes: Int64 = 1 << 20
    static let maxBytes: Int64 = 1 << 50
}

/// Pure pieces of running a tool under `ToolLimits`: the wrapped command line and reading a limit off an outcome.
enum ToolSandbox {
    /// prlimit's arguments for running `executable` under `limits`; prlimit itself is the program started.
    ///
    /// `prlimit --cpu=N --as=N --fsize=N --core=0 -- nice -n K -- <tool> <args>`. Without `--pid`, prlimit sets the
    /// limits on itself and execs nice, which execs the tool: the pid Foundation reports stays the tool's own, so
    /// SIGTERM/SIGKILL reach the tool directly. One value sets soft and hard limit alike, so the CPU limit ends in
    /// the kernel's SIGKILL: ffmpeg catches SIGXCPU and would otherwise exit quietly with status 255.
    static func arguments(limits: ToolLimits, nice: String, executable: String, arguments: [String]) -> [String] {
        var wrapped: [String] = []
        if let cpu = limits.cpuSeconds { wrapped.append("--cpu=\(cpu)") }
        if let bytes = limits.addressSpaceBytes { wrapped.append("--as=\(bytes)") }
        if let bytes = limits.fileSizeBytes { wrapped.append("--fsize=\(bytes)") }
        // A crash on hostile input must not leave a multi-GiB core file holding the user's media behind.
        wrapped.append("--core=0")
        wrapped += ["--", nice, "-n", String(limits.niceness), "--", executable]
        return wrapped + arguments
    }

    /// The reason a run ended at one of `limits`, naming the limit; nil when the outcome shows none.
    ///
    /// `processors` bounds how much CPU time the run can have used in its wall time: a SIGKILL that came too early
    /// for the CPU limit (the OOM killer, an operator) is not blamed on it.
    static func limitReason(tool: String, outcome: ProcessOutcome, limits: ToolLimits, processors: Int) -> String? {
        if outcome.killedBySignal {
            switch outcome.exitStatus {
            case SIGXFSZ:
                if let bytes = limits.fileSizeBytes {
                    return "\(tool) exceeded its file size limit of \(Self.describe(bytes: bytes))"
                }
            case SIGXCPU, SIGKILL:
                if let seconds = limits.cpuSeconds {
                    // One second of slack for the kernel's tick accounting and our launch/exit timestamps.
                    let couldHaveUsed = outcome.runTime.timeInterval * Double(max(1, processors)) + 1
                    if outcome.exitStatus == SIGXCPU || couldHaveUsed >= Double(seconds) {
                        return "\(tool) exceeded its CPU time limit of \(seconds) s"
                    }
                }
            default:
                break
            }
        }
        if let bytes = limits.addressSpaceBytes, !outcome.succeeded,
            outcome.stderrTail.contains(where: Self.isAllocationFailure)
        {
            return "\(tool) exceeded its address-space limit of \(Self.describe(bytes: bytes))"
                + " (a memory allocation failed)"
        }
        return nil
    }

    /// prlimit's or nice's own complaint when one of them, not the tool, failed; nil otherwise.
    static func wrapperFailure(_ outcome: ProcessOutcome) -> String? {
        guard !outcome.killedBySignal, outcome.exitStatus != 0 else { return nil }
        // prlimit prints only when it cannot set a limit (e.g. above the worker's hard limit) or cannot start nice.
        if let line = outcome.stderrTail.first(where: { $0.hasPrefix("prlimit: ") }) { return line }
        // 125-127: nice itself failed, or could not find or execute the tool.
        if (125...127).contains(outcome.exitStatus),
            let line = outcome.stderrTail.first(where: { $0.hasPrefix("nice: ") })
        {
            return line
        }
        return nil
    }

    /// ENOMEM as ffmpeg, x265, the C++ runtime and the dynamic loader report it.
    static func isAllocationFailure(_ line: String) -> Bool {
        let lower = line.lowercased()
        return Self.allocationFailureMarkers.contains { lower.contains($0) }
    }

    private static let allocationFailureMarkers = [
        "cannot allocate memory", "malloc of size", "memory allocation failure", "std::bad_alloc", "out of memory",
        "failed to map segment from shared object",
    ]

    /// "64 GiB", "512 MiB", or plain bytes when neither divides evenly.
    static func describe(bytes: Int64) -> String {
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        return "\(bytes) bytes"
    }
}
