/// An nsqd TCP endpoint parsed from `"host:port"`.
struct NSQAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `"host:port"` or `"[ipv6]:port"`.
    init(parsing text: String) throws(NSQError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw NSQError.connectionFailed.with(message: "address \"\(text)\" is not host:port") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw NSQError.connectionFailed.with(message: "address \"\(text)\" has no host") }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
