// Compares bare ffmpeg with our runner on identical arguments, to show the wrapper adds no meaningful overhead.
//
// Usage: swift run -c release TranscodeBenchmark [rounds]   (default 3 rounds, alternating bare/ours)
// Wall times on a shared machine are noisy; the runner's own CPU time is the overhead that is really ours.

import Foundation
import Logging
import Transcoding

@main
struct TranscodeBenchmark {
    static func main() async throws {
        let rounds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 3
        let tools = ToolPaths()
        let report = try await Transcoding.checkTools(tools)
        print("ffmpeg: \(report.ffmpegVersion)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("transcode-benchmark-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let input = dir.appendingPathComponent("input-720p30.mp4")
        print("generating 20 s 1280x720 30 fps h264/aac input...")
        try runBlocking(
            tools.ffmpeg,
            [
                "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
                "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=30",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                "-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-shortest", input.path,
            ])

        var logger = Logger(label: "benchmark")
        logger.logLevel = .warning
        let transcoder = Transcoder(tools: tools, logger: logger)
        let probe = try await transcoder.probe(input)
        let settings = TranscodeSettings()
        let output = dir.appendingPathComponent("output.mp4")
        let plan = try TranscodePlan(probe: probe, settings: settings, input: input, output: output)
        print("settings: crf \(settings.crf), preset \(settings.preset); rounds: \(rounds)")
        print("ffmpeg \(plan.arguments.joined(separator: " "))")

        var bare: [Sample] = []
        var ours: [Sample] = []
        for round in 1...rounds {
            // ABBA order (bare first in odd rounds, ours first in even ones) so load drift hits both sides.
            var bareSample = Sample(wall: 0, childCPU: 0, selfCPU: 0)
            var ourSample = bareSample
            let callbacks = Counter()
            for runOursNow in round % 2 == 1 ? [false, true] : [true, false] {
                if runOursNow {
                    let started = Sample.Snapshot()
                    try await transcoder.transcode(
                        plan: plan, durationSeconds: probe.durationSeconds, progress: { _ in callbacks.increment() })
                    ourSample = Sample.Snapshot().since(started)
                } else {
                    bareSample = try Sample.measure { try runBlocking(tools.ffmpeg, plan.arguments) }
                }
                try? FileManager.default.removeItem(at: output)
            }
            bare.append(bareSample)
            ours.append(ourSample)
            print(
                String(
                    format: "round %ld: bare %.2f s wall (ffmpeg CPU %.2f s) | ours %.2f s wall (ffmpeg CPU %.2f s, "
                        + "runner CPU %.3f s, %ld progress callbacks)",
                    round, bareSample.wall, bareSample.childCPU, ourSample.wall, ourSample.childCPU, ourSample.selfCPU,
                    callbacks.value))
        }

        func summary(_ name: String, _ samples: [Sample]) {
            let walls = samples.map(\.wall)
            print(
                String(
                    format: "%@: wall mean %.2f s, median %.2f s, min %.2f s; ffmpeg CPU mean %.2f s", name,
                    mean(walls), median(walls), walls.min() ?? 0, mean(samples.map(\.childCPU))))
        }
        summary("bare", bare)
        summary("ours", ours)
        let bareWalls = bare.map(\.wall)
        let ourWalls = ours.map(\.wall)
        print(
            String(
                format: "ratio ours/bare wall: mean %.3f, median %.3f, min %.3f (goal <= 1.10)",
                mean(ourWalls) / mean(bareWalls), median(ourWalls) / median(bareWalls),
                (ourWalls.min() ?? 0) / (bareWalls.min() ?? 1)))
        print(
            String(
                format: "ratio ours/bare ffmpeg CPU: %.3f; runner's own CPU per job: %.3f s",
                mean(ours.map(\.childCPU)) / mean(bare.map(\.childCPU)), mean(ours.map(\.selfCPU))))
    }

    /// A plain blocking run, exactly as a naive caller would do it; progress output is discarded.
    static func runBlocking(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TranscodingError.ffmpegFailed.with(reason: "exit status \(process.terminationStatus)")
        }
    }

    static func mean(_ values: [Double]) -> Double {
        values.reduce(0, +) / Double(max(values.count, 1))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Counts progress callbacks, which arrive on a background thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// Wall time plus CPU time of reaped children (ffmpeg) and of this process (our runner's overhead).
struct Sample {
    var wall: Double
    var childCPU: Double
    var selfCPU: Double

    static func measure(_ body: () throws -> Void) rethrows -> Sample {
        let before = Snapshot()
        try body()
        return Snapshot().since(before)
    }

    struct Snapshot {
        let wall = ContinuousClock.now
        let children = cpuSeconds(children: true)
        let own = cpuSeconds(children: false)

        func since(_ start: Snapshot) -> Sample {
            let elapsed = (wall - start.wall).components
            return Sample(
                wall: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18,
                childCPU: children - start.children, selfCPU: own - start.own)
        }
    }

    private static func cpuSeconds(children: Bool) -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        let who = children ? RUSAGE_CHILDREN : RUSAGE_SELF
        getrusage(__rusage_who_t(who.rawValue), &usage)
        #else
        getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &usage)
        #endif
        func toSeconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return toSeconds(usage.ru_utime) + toSeconds(usage.ru_stime)
    }
}
