import Foundation

// Pure parsing of ffmpeg's output streams; the process layer feeds bytes in, nothing here does I/O.

/// Turns `-progress pipe:1` key=value lines into a monotonic, clamped percentage.
struct ProgressTracker: Sendable {
    /// Expected output duration in microseconds; nil when unknown (then only the end is reported).
    let durationMicroseconds: Double?
    private(set) var percent: Double = 0
    private(set) var ended = false
    // ffmpeg (before 7.x) prints out_time_ms in microseconds too, but out_time_us is the honest key: prefer it.
    private var sawMicrosecondsKey = false

    init(durationSeconds: Double?) {
        if let durationSeconds, durationSeconds.isFinite, durationSeconds > 0 {
            durationMicroseconds = durationSeconds * 1_000_000
        } else {
            durationMicroseconds = nil
        }
    }

    /// Consumes one line; returns true when the percentage grew.
    mutating func consume(_ line: Substring) -> Bool {
        guard let equals = line.firstIndex(of: "=") else { return false }
        let key = line[..<equals].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        switch key {
        case "out_time_us":
            sawMicrosecondsKey = true
            return update(microseconds: Double(value))
        case "out_time_ms" where !sawMicrosecondsKey:
            return update(microseconds: Double(value))
        case "out_time" where !sawMicrosecondsKey:
            return update(microseconds: Self.clockMicroseconds(value))
        case "progress":
            if value == "end" { ended = true }
            return false
        default:
            return false
        }
    }

    private mutating func update(microseconds: Double?) -> Bool {
        // "N/A" and negative values (audio priming before the first video frame) are ignored.
        guard let microseconds, microseconds.isFinite, microseconds >= 0, let total = durationMicroseconds else {
            return false
        }
        let value = min(100, max(0, microseconds / total * 100))
        guard value > percent else { return false }
        percent = value
        return true
    }

    /// Parses "HH:MM:SS.ffffff" into microseconds.
    static func clockMicroseconds(_ text: String) -> Double? {
        let parts = text.split(separator: ":")
        guard parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]) else {
            return nil
        }
        return ((h * 60 + m) * 60 + s) * 1_000_000
    }
}

/// Splits a byte stream into lines on "\n" or "\r", with a hard cap on line length so output can't balloon.
struct LineSplitter: Sendable {
    let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var overflowed = false

    init(maxLineBytes: Int = 4096) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds bytes and returns every completed line (without terminators, empty lines dropped).
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
                pending.removeAll(keepingCapacity: true)
                overflowed = false
            } else if pending.count < maxLineBytes {
                pending.append(byte)
            } else {
                overflowed = true  // rest of an over-long line is dropped
            }
        }
        return lines
    }

    /// Returns the unterminated last line, if any.
    mutating func finish() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}

/// Keeps the last `capacity` items; older ones are overwritten so memory stays bounded.
struct RingBuffer<Element: Sendable>: Sendable {
    let capacity: Int
    private var storage: [Element] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(self.capacity)
    }

    mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[head] = element
            head = (head + 1) % capacity
        }
    }

    /// Items oldest first.
    var elements: [Element] { Array(storage[head...] + storage[..<head]) }
}

/// Distils ffmpeg's stderr into a one-line reason.
enum FFmpegDiagnostics {
    /// Lines that only say "it failed" and never why.
    private static let genericLines: [String] = [
        "conversion failed!",
        "exiting normally",
        "received signal",
        "received > 3 system signals",
    ]

    /// Removes "[mov,mp4,... @ 0x55d...] " component prefixes and a leading "<path>: ".
    static func clean(_ line: String, paths: [String]) -> String {
        var text = Substring(line).trimmingCharacters(in: .whitespaces)[...]
        while text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[..<close].contains(" @ ") {
            text = text[text.index(after: close)...].drop { $0 == " " }
        }
        for path in paths where !path.isEmpty && text.hasPrefix(path + ": ") {
            text = text.dropFirst(path.count + 2)
        }
        return String(text).trimmingCharacters(in: .whitespaces)
    }

    /// Cleaned, non-empty, non-generic lines, oldest first.
    static func meaningfulLines(_ lines: [String], paths: [String]) -> [String] {
        lines.map { clean($0, paths: paths) }.filter { line in
            let lower = line.lowercased()
            return !line.isEmpty && !genericLines.contains { lower.hasPrefix($0) }
        }
    }

    /// The last meaningful line, e.g. "Invalid data found when processing input"; nil when stderr was silent.
    static func reason(from lines: [String], paths: [String]) -> String? {
        meaningfulLines(lines, paths: paths).last
    }
}
