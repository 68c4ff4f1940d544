import Foundation

/// Debian's `chromium` in headless mode: loads a page like a viewer's browser would (CSP, redirects, cookies).
struct HeadlessBrowser {
    let executable: String

    static var installed: HeadlessBrowser? {
        let names = ["chromium", "chromium-browser", "google-chrome"]
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in names {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return HeadlessBrowser(executable: "\(directory)/\(name)")
            }
        }
        return nil
    }

    struct Result {
        let stdout: String
        let stderr: String
        let status: Int32
    }

    /// The DOM after load, and the browser's log (console messages, refused loads).
    func dumpDOM(_ url: String) async throws -> Result {
        try await run(["--dump-dom", url])
    }

    func screenshot(_ url: String, to path: String, width: Int = 1280, height: Int = 900) async throws -> Result {
        try await run(["--screenshot=\(path)", "--window-size=\(width),\(height)", url])
    }

    /// Loads a local page that may play media by script (muted autoplay allowed, file pages may load others).
    func runPage(_ file: URL) async throws -> Result {
        try await run(
            ["--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files", "--dump-dom", file.absoluteString])
    }

    private func run(_ arguments: [String]) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("browser-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        let flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--no-first-run", "--user-data-dir=\(scratch.path)/profile", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=8000", "--window-size=1280,2000",
        ]
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = ["120", executable] + flags + arguments
            process.standardOutput = stdout
            process.standardError = stderr
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try stdout.close()
        try stderr.close()
        return Result(
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8), status: status)
    }
}
