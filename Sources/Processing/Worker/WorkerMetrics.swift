import Prometheus

/// The worker's Prometheus metrics.
public struct WorkerMetrics: Sendable {
    /// How a job attempt ended, as the `outcome` label of `mediavault_jobs_total`.
    public enum JobOutcome: String, Sendable, CaseIterable {
        case succeeded, failed, retried, released, duplicate
    }

    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func job(outcome: JobOutcome) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "mediavault", metricName: "jobs", unitName: "total",
                helpText: "Processing jobs by outcome (succeeded, failed, retried, released, duplicate)"),
            labels: [("outcome", outcome.rawValue)]
        ).increment()
    }

    func transcodeFinished(after duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "mediavault", metricName: "transcode_duration", unitName: "seconds",
                helpText: "Wall time of ffmpeg transcodes"),
            buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]
        ).record(seconds)
    }

    func queueLag(_ seconds: Double) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "mediavault", metricName: "queue_lag", unitName: "seconds",
                helpText: "Age of the oldest job waiting to be processed")
        ).set(seconds)
    }
}
