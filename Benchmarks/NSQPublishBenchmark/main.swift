import Logging
import NIOCore
import NSQ
import NSQTestBroker

/// Publishes N messages to an in-process test broker, once with MPUB batches and once with pipelined PUBs, and
/// prints the throughput of each. Usage: `NSQPublishBenchmark [messageCount] [bodySize]`.

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let messageCount = arguments.first ?? 200_000
let bodySize = arguments.dropFirst().first ?? 1024
let batchSize = 100
let batchesInFlight = 8
let publishesInFlight = 512

var logger = Logger(label: "nsq.benchmark")
logger.logLevel = .error

let broker = try await NSQTestBroker.started(logger: logger)
let producer = NSQProducer(
    configuration: NSQProducerConfiguration(addresses: [try await broker.address]),
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

// Warm up the connection and code paths.
try await producer.publish(topic: "warmup", body: body)

let batch = Array(repeating: body, count: batchSize)
let batchesPerSecond = try await measure(count: messageCount / batchSize, window: batchesInFlight) { _ in
    try await producer.multiPublish(topic: "bench-mpub", bodies: batch)
}
let mpubRate = batchesPerSecond * Double(batchSize)
let mpubStored = try await broker.publishedCount(topic: "bench-mpub")

let pubRate = try await measure(count: messageCount, window: publishesInFlight) { _ in
    try await producer.publish(topic: "bench-pub", body: body)
}
let pubStored = try await broker.publishedCount(topic: "bench-pub")

func format(_ rate: Double) -> String {
    let rounded = Int(rate.rounded())
    let megabytes = rate * Double(bodySize) / 1_048_576
    return "\(rounded) msg/s (\(Int(megabytes.rounded())) MiB/s)"
}

print("NSQ publish benchmark: \(messageCount) messages of \(bodySize) bytes to the in-process test broker")
print(
    "  MPUB, batches of \(batchSize), \(batchesInFlight) batches in flight: \(format(mpubRate)); stored \(mpubStored)"
)
print("  PUB, pipelined, \(publishesInFlight) in flight:                 \(format(pubRate)); stored \(pubStored)")

await producer.close()
await broker.stop()
