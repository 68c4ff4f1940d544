import Foundation
import Testing

@testable import MediaVaultCore

@Suite("Progress lines of command-line runs")
struct ProgressLineTests {
    @Test("a terminal gets a bar, counts, rate and time left")
    func bar() {
        let line = ProgressLine.line(label: "reprocess", done: 25, total: 100, elapsed: 5, bar: true, width: 20)
        #expect(line == "reprocess [#####---------------] 25/100 25% 5.0/s ETA 0:15")
    }

    @Test("logs get the same facts without the bar, and a finished run no estimate")
    func plain() {
        #expect(ProgressLine.line(label: "import", done: 300, total: 300, elapsed: 10, bar: false) == "import 300/300 100% 30/s")
        #expect(ProgressLine.line(label: "import", done: 0, total: 0, elapsed: 0, bar: false) == "import 0/0 100%")
        #expect(ProgressLine.clock(3725) == "1:02:05")
    }

    @Test("a plain log is written a line at a time, not redrawn")
    func writesLines() throws {
        let pipe = Pipe()
        let progress = ProgressLine(label: "x", output: pipe.fileHandleForWriting, isTerminal: false, interval: 0)
        progress.update(done: 1, total: 2)
        progress.update(done: 2, total: 2)
        progress.finish()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!text.contains("\r"))
        #expect(text.split(separator: "\n").last?.hasPrefix("x 2/2 100%") == true)
    }
}
