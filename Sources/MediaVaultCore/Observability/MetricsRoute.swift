import Hummingbird
import NIOCore
import Prometheus

/// Serves the registry in the Prometheus text format at `/metrics`.
public enum MetricsRoute {
    public static func register(on router: AccessRouter, registry: PrometheusCollectorRegistry) {
        // Open: Prometheus cannot sign in. Keep it off the public proxy (see the deployment guide).
        router.get("/metrics", .open) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
