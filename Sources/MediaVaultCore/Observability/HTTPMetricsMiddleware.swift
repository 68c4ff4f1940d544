import Foundation
import Hummingbird
import Logging
import Prometheus

/// Counts requests and records latency by route pattern and status, and writes one access-log line each.
public struct HTTPMetricsMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let registry: PrometheusCollectorRegistry
    static var requestsTotal: MetricNameDescriptor {
        MetricNameDescriptor(
        metricName: "http_requests", unitName: "total", helpText: "HTTP requests by method, route and status")
    }
    static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
        metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency in seconds")
    }
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // Route patterns, not raw paths, keep label cardinality bounded.
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        let method = request.method.rawValue
        let status = String(response.status.code)
        registry.makeCounter(
            descriptor: Self.requestsTotal, labels: [("method", method), ("route", route), ("status", status)]
        ).increment()
        registry.makeValueHistogram(
            descriptor: Self.requestDuration, labels: [("method", method), ("route", route)],
            buckets: Self.latencyBuckets
        ).record(seconds)
        if route != "/healthz" && route != "/metrics" {
            context.logger.info(
                "request",
                metadata: [
                    "method": .string(method), "path": .string(request.uri.path), "status": .string(status),
                    "duration_ms": .string(String(format: "%.1f", seconds * 1000)),
                ])
        }
        return response
    }
}
