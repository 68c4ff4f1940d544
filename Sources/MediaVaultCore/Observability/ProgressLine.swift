import Foundation

/// Progress of a long command-line run: on a terminal a bar redrawn in place (at most ten times a second), otherwise
/// (a log file, CI) a plain line every few seconds, so logs stay readable.
public final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let output: FileHandle
    private let isTerminal: Bool
    private let interval: TimeInterval
    private let started = Date()
    private var lastDrawn = Date.distantPast
    private var last: (done: Int, total: Int) = (0, 0)
    private let lock = NSLock()

    public init(
        label: String, output: FileHandle = .standardError, isTerminal: Bool? = nil, interval: TimeInterval = 5
    ) {
        self.label = label
        self.output = output
        self.isTerminal = isTerminal ?? (isatty(output.fileDescriptor) != 0)
        self.interval = interval
    }

    public func update(done: Int, total: Int) {
        lock.withLock {
            last = (done, total)
            let now = Date()
            guard now.timeIntervalSince(lastDrawn) >= (isTerminal ? 0.1 : interval) else { return }
            lastDrawn = now
            draw(now: now)
        }
    }

    /// Draws the final state and ends the line.
    public func finish() {
        lock.withLock {
            draw(now: Date())
            if isTerminal { output.write(Data("\n".utf8)) }
        }
    }

    private func draw(now: Date) {
        let line = Self.line(
            label: label, done: last.done, total: last.total, elapsed: now.timeIntervalSince(started),
            bar: isTerminal)
        output.write(Data((isTerminal ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    }

    /// `label [#####-----] 50/100 50% 12.5/s ETA 0:04`; without `bar`, the same without the bar.
    public static func line(label: String, done: Int, total: Int, elapsed: TimeInterval, bar: Bool, width: Int = 30)
        -> String
    {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        var text = label
        if bar {
            let filled = Int((fraction * Double(width)).rounded(.down))
            text += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        }
        text += " \(done)/\(total) \(Int((fraction * 100).rounded(.down)))%"
        if elapsed > 0, done > 0 {
            let rate = Double(done) / elapsed
            text += " " + (rate >= 10 ? String(Int(rate.rounded())) : String(Double(Int(rate * 10)) / 10)) + "/s"
            if total > done { text += " ETA " + clock(Double(total - done) / rate) }
        }
        return text
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return total >= 3600
            ? "\(total / 3600):\(twoDigits(total / 60 % 60)):\(twoDigits(total % 60))"
            : "\(total / 60):\(twoDigits(total % 60))"
    }
}
