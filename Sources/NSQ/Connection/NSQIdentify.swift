#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The JSON body of IDENTIFY. Durations are in milliseconds, as nsqd expects.
struct NSQIdentifyRequest: Encodable, Sendable, Equatable {
    var clientID: String
    var hostname: String
    var userAgent: String
    /// `-1` disables heartbeats, `0` keeps nsqd's default.
    var heartbeatIntervalMilliseconds: Int64
    /// `0` keeps nsqd's default.
    var messageTimeoutMilliseconds: Int64
    var featureNegotiation = true
    // Sent explicitly so nsqd never tries to upgrade the connection to something this client cannot speak.
    var tlsV1 = false
    var snappy = false
    var deflate = false

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
        case hostname
        case userAgent = "user_agent"
        case heartbeatIntervalMilliseconds = "heartbeat_interval"
        case messageTimeoutMilliseconds = "msg_timeout"
        case featureNegotiation = "feature_negotiation"
        case tlsV1 = "tls_v1"
        case snappy
        case deflate
    }

    func encodedJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a struct of strings, integers and booleans cannot fail.
        return (try? Array(encoder.encode(self))) ?? Array("{}".utf8)
    }
}

/// What nsqd agreed to in its IDENTIFY response.
struct NSQNegotiatedSettings: Sendable, Equatable {
    /// The largest RDY this nsqd accepts.
    var maxReadyCount: Int = 2500
    var messageTimeout: Duration?
    var maxMessageTimeout: Duration?
    var version: String?
    var authRequired = false

    /// Settings of a server that answered IDENTIFY with a plain `OK` (no feature negotiation).
    static let unnegotiated = NSQNegotiatedSettings()

    private struct Response: Decodable {
        var max_rdy_count: Int?
        var msg_timeout: Int64?
        var max_msg_timeout: Int64?
        var version: String?
        var auth_required: Bool?
        var tls_v1: Bool?
        var snappy: Bool?
        var deflate: Bool?
    }

    /// Parses IDENTIFY's response: `OK`, or JSON when the server negotiated features.
    static func parse(identifyResponse bytes: [UInt8]) throws(NSQError) -> NSQNegotiatedSettings {
        if bytes == Array(NSQFrame.ok.utf8) { return .unnegotiated }
        guard let response = try? JSONDecoder().decode(Response.self, from: Data(bytes)) else {
            throw NSQError.protocolError.with(message: "IDENTIFY response is neither OK nor JSON")
        }
        // This client cannot speak an upgraded connection, and a real nsqd only upgrades when asked to.
        if response.tls_v1 == true || response.snappy == true || response.deflate == true {
            throw NSQError.protocolError.with(
                message: "nsqd enabled TLS or compression, which this client does not support"
            )
        }
        var settings = NSQNegotiatedSettings()
        if let maxReadyCount = response.max_rdy_count, maxReadyCount > 0 { settings.maxReadyCount = maxReadyCount }
        settings.messageTimeout = response.msg_timeout.map { .milliseconds($0) }
        settings.maxMessageTimeout = response.max_msg_timeout.map { .milliseconds($0) }
        settings.version = response.version
        settings.authRequired = response.auth_required ?? false
        return settings
    }
}
