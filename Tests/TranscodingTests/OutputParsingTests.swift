import Foundation
import Testing

@testable import Transcoding

@Suite("ffmpeg output parsing")
struct OutputParsingTests {
    @Test func progressUsesMicrosecondsMonotonicAndClamped() {
        var tracker = ProgressTracker(durationSeconds: 10)
        func feed(_ line: String) -> Bool { tracker.consume(Substring(line)) }
        #expect(!feed("frame=10"))
        #expect(!feed("out_time_us=N/A"))
        #expect(feed("out_time_us=2500000"))
        #expect(tracker.percent == 25)
        // out_time_ms is ignored once out_time_us was seen (both carry microseconds anyway).
        #expect(!feed("out_time_ms=9000000"))
        #expect(!feed("out_time_us=1000000"))  // never goes backwards
        #expect(tracker.percent == 25)
        #expect(feed("out_time_us=99000000"))
        #expect(tracker.percent == 100)
        #expect(!tracker.ended)
        _ = feed("progress=end")
        #expect(tracker.ended)
    }

    @Test func progressFallsBackToOutTimeMsAndClock() {
        var ms = ProgressTracker(durationSeconds: 4)
        let msGrew = ms.consume("out_time_ms=1000000")  // microseconds despite the name
        #expect(msGrew)
        #expect(ms.percent == 25)
        var clock = ProgressTracker(durationSeconds: 100)
        let clockGrew = clock.consume("out_time=00:00:50.000000")
        #expect(clockGrew)
        #expect(clock.percent == 50)
        #expect(ProgressTracker.clockMicroseconds("01:02:03.5") == 3_723_500_000)
        var unknown = ProgressTracker(durationSeconds: nil)
        let unknownGrew = unknown.consume("out_time_us=5000000")
        #expect(!unknownGrew)
        #expect(unknown.percent == 0)
    }

    @Test func reporterThrottlesAndEndsAtHundred() {
        let received = Box<[Double]>([])
        let reporter = ProgressReporter(durationSeconds: 10, interval: .seconds(60)) { value in
            received.mutate { $0.append(value) }
        }
        for step in 1...10 {
            reporter.consume(Substring("out_time_us=\(step * 1_000_000)"))
        }
        // First value passes, the rest fall inside the interval; 100 is only sent by finish().
        #expect(received.value == [10])
        reporter.finish()
        #expect(received.value == [10, 100])

        let eager = Box<[Double]>([])
        let unthrottled = ProgressReporter(durationSeconds: 10, interval: .zero) { value in
            eager.mutate { $0.append(value) }
        }
        for step in [1, 3, 2, 10, 12] {
            unthrottled.consume(Substring("out_time_us=\(step * 1_000_000)"))
        }
        unthrottled.finish()
        #expect(eager.value == [10, 30, 100])
    }

    @Test func lineSplitterHandlesChunksCarriageReturnsAndHugeLines() {
        var splitter = LineSplitter(maxLineBytes: 8)
        func feed(_ text: String) -> [String] {
            Array(text.utf8).withUnsafeBytes { splitter.feed($0) }
        }
        #expect(feed("key=va") == [])
        #expect(feed("lue\nnext\r\n\nx") == ["key=valu", "next"])  // capped at 8 bytes
        #expect(feed("0123456789abcdef\n") == ["x0123456"])
        #expect(splitter.finish() == nil)
        #expect(feed("tail") == [])
        #expect(splitter.finish() == "tail")
    }

    @Test func ringBufferKeepsOnlyTheLastItems() {
        var ring = RingBuffer<Int>(capacity: 3)
        #expect(ring.elements.isEmpty)
        ring.append(1)
        ring.append(2)
        #expect(ring.elements == [1, 2])
        for value in 3...1000 { ring.append(value) }
        #expect(ring.elements == [998, 999, 1000])
    }

    @Test func reasonIsTheLastMeaningfulLineWithoutPrefixes() {
        let stderr = [
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5615f45b7900] moov atom not found",
            "/tmp/x/bad.mp4: Invalid data found when processing input",
        ]
        #expect(FFmpegDiagnostics.reason(from: stderr, paths: ["/tmp/x/bad.mp4"])
            == "Invalid data found when processing input")
        #expect(FFmpegDiagnostics.reason(from: Array(stderr.prefix(1)), paths: []) == "moov atom not found")

        let encoderFailure = [
            "[libx265 @ 0x55d0c1f2a1c0] Error: x265 failed to open encoder",
            "Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0",
            "Conversion failed!",
            "   ",
        ]
        #expect(FFmpegDiagnostics.reason(from: encoderFailure, paths: [])
            == "Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0")
        #expect(FFmpegDiagnostics.clean("[h264 @ 0x1] [swscaler @ 0x2] bad thing", paths: []) == "bad thing")
        #expect(FFmpegDiagnostics.clean("[not a component] text", paths: []) == "[not a component] text")
        #expect(FFmpegDiagnostics.reason(from: ["Conversion failed!"], paths: []) == nil)
    }

    @Test func errorEqualityIgnoresReason() {
        let error = TranscodingError.timedOut.with(reason: "ffmpeg exceeded 1 s", details: ["x"], exitStatus: 255)
        #expect(error == .timedOut)
        #expect(error != .cancelled)
        #expect(error.kind == "timedOut")
        #expect(error.reason == "ffmpeg exceeded 1 s")
        #expect(error.details == ["x"])
        #expect(error.exitStatus == 255)
        #expect("\(error)" == "TranscodingError.timedOut: ffmpeg exceeded 1 s")
    }
}

/// Tiny lock-protected box for collecting values from @Sendable callbacks.
final class Box<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        stored = value
    }

    var value: Value { lock.withLock { stored } }

    func mutate(_ body: (inout Value) -> Void) {
        lock.withLock { body(&stored) }
    }
}
