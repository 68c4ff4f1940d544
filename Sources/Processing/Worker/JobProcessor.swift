import Foundation
import Logging
import MediaVaultCore
import ObjectStorage
import Transcoding

/// Turns one claimed job into results: downloads the original to a scratch folder, probes it, transcodes videos to
/// HEVC with a poster, thumbnails images, keeps other files as they are, and uploads what it made to the keys the job
/// names.
public struct JobProcessor: JobProcessing {
    let store: any ObjectStore
    let transcoder: Transcoder
    let settings: TranscodeSettings
    let scratchRoot: URL
    let timeout: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    public init(
        store: any ObjectStore, transcoder: Transcoder, settings: TranscodeSettings, scratchRoot: URL,
        timeout: Duration, metrics: WorkerMetrics, logger: Logger
    ) {
        self.store = store
        self.transcoder = transcoder
        self.settings = settings
        self.scratchRoot = scratchRoot
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
    }

    public func process(_ job: ClaimedJob, progress: @escaping @Sendable (Double) -> Void) async throws -> ProcessedMedia {
        let scratch = scratchRoot.appendingPathComponent("mediavault-job-\(job.id.uuidString.lowercased())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        // Scratch files never outlive the job, whatever happens.
        defer { try? FileManager.default.removeItem(at: scratch) }

        let original = scratch.appendingPathComponent("original")
        try await store.download(ObjectKey(job.objectKey), to: original)
        let probe: ProbeResult
        do {
            probe = try await transcoder.probe(original)
        } catch let error as TranscodingError where error == .invalidInput {
            if job.mimeType.hasPrefix("video/") || job.mimeType.hasPrefix("image/") { throw error }
            // Not media ffprobe understands (a document, say): stored as it is.
            return ProcessedMedia()
        }
        if probe.isStillImage {
            return try await thumbnail(job, original: original, scratch: scratch, probe: probe)
        }
        guard probe.video != nil else {
            // Audio (or cover-art audio): kept as uploaded; its duration is still useful.
            return ProcessedMedia(durationSeconds: probe.durationSeconds, audioCodec: probe.audio?.codecName)
        }
        return try await transcodeVideo(job, original: original, scratch: scratch, probe: probe, progress: progress)
    }

    func thumbnail(_ job: ClaimedJob, original: URL, scratch: URL, probe: ProbeResult) async throws -> ProcessedMedia {
        let thumbnail = scratch.appendingPathComponent("thumbnail.jpg")
        _ = try await transcoder.makeImageThumbnail(input: original, output: thumbnail, width: settings.thumbnailWidth)
        let key = job.outputs.thumbnail
        _ = try await store.upload(from: thumbnail, to: ObjectKey(key), contentType: "image/jpeg")
        return ProcessedMedia(
            thumbnailKey: key, width: probe.video?.displayWidth, height: probe.video?.displayHeight,
            videoCodec: probe.video?.codecName)
    }

    func transcodeVideo(
        _ job: ClaimedJob, original: URL, scratch: URL, probe: ProbeResult,
        progress: @escaping @Sendable (Double) -> Void
    ) async throws -> ProcessedMedia {
        let output = scratch.appendingPathComponent("processed.mp4")
        let plan = try TranscodePlan(probe: probe, settings: settings, input: original, output: output)
        let started = ContinuousClock.now
        try await transcoder.transcode(
            plan: plan, durationSeconds: probe.durationSeconds, progress: progress, timeout: timeout)
        metrics.transcodeFinished(after: ContinuousClock.now - started)
        let poster = scratch.appendingPathComponent("poster.jpg")
        _ = try await transcoder.makePoster(
            input: output, output: poster, durationSeconds: probe.durationSeconds, width: settings.posterWidth)
        let result = try await transcoder.probe(output)

        let processedKey = job.outputs.processed
        let thumbnailKey = job.outputs.thumbnail
        let uploaded = try await store.upload(from: output, to: ObjectKey(processedKey), contentType: "video/mp4")
        _ = try await store.upload(from: poster, to: ObjectKey(thumbnailKey), contentType: "image/jpeg")
        return ProcessedMedia(
            processedKey: processedKey, processedSizeBytes: uploaded.size, thumbnailKey: thumbnailKey,
            durationSeconds: result.durationSeconds ?? probe.durationSeconds,
            width: result.video?.displayWidth, height: result.video?.displayHeight,
            videoCodec: result.video?.codecName, audioCodec: result.audio?.codecName)
    }
}
