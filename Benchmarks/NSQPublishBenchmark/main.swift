import Foundation
import Logging
import NIOCore
import NSQ
import NSQTestBroker

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Publishes N messages, once with MPUB batches and once with pipelined PUBs, and prints the throughput of each.
///
/// Usage: `NSQPublishBenchmark [messageCount] [bodySize] [--nsqd HOST:PORT] [--nsqd-http HOST:PORT]`.
/// Without `--nsqd` it publishes to an in-process test broker; with it, to that running nsqd (its TCP port), so the
/// figures compare with go-nsq's `to_nsq` against the same nsqd. The stored counts are then read from nsqd's HTTP
/// `/stats` (`--nsqd-http`, by default the same host on port 4151).

var numbers: [Int] = []
var nsqdAddress: String?
var nsqdHTTPAddress: String?
var remaining = CommandLine.arguments.dropFirst()[...]
while let argument = remaining.popFirst() {
    switch argument {
    case "--nsqd": nsqdAddress = remaining.popFirst()
    case "--nsqd-http": nsqdHTTPAddress = remaining.popFirst()
    default:
        guard let number = Int(argument), number > 0 else {
            print("usage: NSQPublishBenchmark [messageCount] [bodySize] [--nsqd HOST:PORT] [--nsqd-http HOST:PORT]")
            exit(64)
        }
        numbers.append(number)
    }
}
let messageCount = numbers.first ?? 200_000
let bodySize = numbers.dropFirst().first ?? 1024
let batchSize = 100
let batchesInFlight = 8
let publishesInFlight = 512

var logger = Logger(label: "nsq.benchmark")
logger.logLevel = .error

/// Where the messages go, and how many a topic holds there afterwards.
enum Target {
    case testBroker(NSQTestBroker)
    case nsqd(tcp: String, http: String)

    var address: String {
        get async throws {
            switch self {
            case .testBroker(let broker): return try await broker.address
            case .nsqd(let tcp, _): return tcp
            }
        }
    }

    var name: String {
        switch self {
        case .testBroker: return "the in-process test broker"
        case .nsqd(let tcp, _): return "nsqd at \(tcp)"
        }
    }

    /// Messages the topic has received; `nil` when nsqd's HTTP API does not answer.
    func storedCount(topic: String) async -> Int? {
        switch self {
        case .testBroker(let broker):
            return try? await broker.publishedCount(topic: topic)
        case .nsqd(_, let http):
            guard let url = URL(string: "http://\(http)/stats?format=json&topic=\(topic)"),
                let (data, _) = try? await URLSession.shared.data(from: url),
                let stats = try? JSONDecoder().decode(NSQDStats.self, from: data)
            else { return nil }
            return stats.topics.first { $0.name == topic }?.messageCount
        }
    }

    /// Stops the in-process broker; on a real nsqd, deletes this run's topics, so nothing piles up in its queues.
    func stop(topics: [String]) async {
        switch self {
        case .testBroker(let broker):
            await broker.stop()
        case .nsqd(_, let http):
            for topic in topics {
                guard let url = URL(string: "http://\(http)/topic/delete?topic=\(topic)") else { continue }
                var request = URLRequest(url: url)
                request.httpMethod = "POST"
                _ = try? await URLSession.shared.data(for: request)
            }
        }
    }
}

/// The part of nsqd's `/stats?format=json` read here (nsqd 1.x answers without an envelope).
struct NSQDStats: Decodable {
    struct Topic: Decodable {
        let name: String
        let messageCount: Int

        enum CodingKeys: String, CodingKey {
            case name = "topic_name"
            case messageCount = "message_count"
        }
    }
    let topics: [Topic]
}

let target: Target
if let nsqdAddress {
    let host = nsqdAddress.split(separator: ":").dropLast().joined(separator: ":")
    target = .nsqd(tcp: nsqdAddress, http: nsqdHTTPAddress ?? "\(host.isEmpty ? "127.0.0.1" : host):4151")
} else {
    target = .testBroker(try await NSQTestBroker.started(logger: logger))
}
// A real nsqd keeps topics between runs: this run's topics are its own, so the stored counts are this run's.
let runSuffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
let producer = NSQProducer(
    configuration: NSQProducerConfiguration(addresses: [try await target.address]),
    logger: logger
)
let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: bodySize)

/// Runs `count` operations with at most `window` in flight and returns operations per second.
func measure(count: Int, window: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws
    -> Double
{
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<count {
            if index >= window { try await group.next() }
            group.addTask { try await operation(index) }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(count) / seconds
}

// Warm up the connection and code paths; an nsqd that does not answer ends the run with one line.
do {
    try await producer.publish(topic: "bench-warmup-\(runSuffix)", body: body)
} catch {
    FileHandle.standardError.write(Data("cannot publish to \(target.name): \(error)\n".utf8))
    exit(69)
}

let batch = Array(repeating: body, count: batchSize)
let batchesPerSecond = try await measure(count: messageCount / batchSize, window: batchesInFlight) { _ in
    try await producer.multiPublish(topic: "bench-mpub-\(runSuffix)", bodies: batch)
}
let mpubRate = batchesPerSecond * Double(batchSize)
let mpubStored = await target.storedCount(topic: "bench-mpub-\(runSuffix)")

let pubRate = try await measure(count: messageCount, window: publishesInFlight) { _ in
    try await producer.publish(topic: "bench-pub-\(runSuffix)", body: body)
}
let pubStored = await target.storedCount(topic: "bench-pub-\(runSuffix)")

func format(_ rate: Double) -> String {
    let rounded = Int(rate.rounded())
    let megabytes = rate * Double(bodySize) / 1_048_576
    return "\(rounded) msg/s (\(Int(megabytes.rounded())) MiB/s)"
}

print("NSQ publish benchmark: \(messageCount) messages of \(bodySize) bytes to \(target.name)")
func stored(_ count: Int?) -> String { count.map(String.init) ?? "not checked (no answer from nsqd's HTTP API)" }
print(
    "  MPUB, batches of \(batchSize), \(batchesInFlight) batches in flight: \(format(mpubRate)); stored \(stored(mpubStored))"
)
print("  PUB, pipelined, \(publishesInFlight) in flight:                 \(format(pubRate)); stored \(stored(pubStored))")

await producer.close()
await target.stop(topics: ["bench-warmup-\(runSuffix)", "bench-mpub-\(runSuffix)", "bench-pub-\(runSuffix)"])
