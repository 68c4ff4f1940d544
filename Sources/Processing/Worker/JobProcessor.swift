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
        if let expected = job.originalSHA256 {
            // Before anything decodes it: bytes that changed on the way are not the file the user meant to keep.
            let actual = try await OriginalChecksum.sha256(of: original)
            guard actual == expected else { throw ContentChecksumMismatch(declared: expected, stored: actual) }
        }
        if ScriptableContent.isScriptCapable(job.mimeType) {
            // Allowed by the operator, kept exactly as uploaded: nothing decodes or renders it.
            return ProcessedMedia()
        }
        if job.mimeType.hasPrefix("image/") {
            return try await photo(job, original: original, scratch: scratch)
        }
        let probe: ProbeResult
        do {
            probe = try await transcoder.probe(original)
        } catch let error as TranscodingError where error == .invalidInput {
            if job.mimeType.hasPrefix("video/") || job.mimeType.hasPrefix("image/") { throw error }
            // Not media ffprobe understands (a document, say): stored as it is.
            return ProcessedMedia()
        }
        var result: ProcessedMedia
        if probe.isStillImage {
            result = try await thumbnail(job, original: original, scratch: scratch, probe: probe)
        } else if probe.video == nil {
            // Audio (or cover-art audio): kept as uploaded; its duration is still useful.
            result = ProcessedMedia(durationSeconds: probe.durationSeconds, audioCodec: probe.audio?.codecName)
        } else {
            result = try await transcodeVideo(job, original: original, scratch: scratch, probe: probe, progress: progress)
        }
        if probe.video != nil { result.metadata = await captureMetadata(original) }
        return result
    }

    /// What the original says about its capture. Best effort: a file exiftool cannot read (or a missing exiftool) is
    /// still a photo or a video, and loses only its capture details.
    func captureMetadata(_ original: URL) async -> CaptureMetadata? {
        do {
            let read = try await transcoder.readMetadata(original)
            return CaptureMetadata(
                takenAt: read.takenAt, takenAtSource: read.takenAtSource?.rawValue, latitude: read.latitude,
                longitude: read.longitude, altitude: read.altitude,
                details: .init(
                    cameraMake: read.cameraMake, cameraModel: read.cameraModel, lens: read.lens, iso: read.iso,
                    aperture: read.aperture, exposureTime: read.exposureTime, focalLength: read.focalLength,
                    orientation: read.orientation, width: read.width, height: read.height))
        } catch {
            logger.warning("capture metadata not read", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Photos go through libvips, which reads HEIC and AVIF too: the content must be an accepted image (whatever the
    /// upload claimed) within the pixel cap, checked from the header before anything is decoded; then a thumbnail and
    /// a preview, both upright, sRGB and stripped of every metadata block.
    func photo(_ job: ClaimedJob, original: URL, scratch: URL) async throws -> ProcessedMedia {
        let header = try await transcoder.inspectImage(original)
        guard header.pixels <= settings.maxImagePixels else {
            throw TranscodingError.invalidInput.with(
                reason: "the image has \(header.width)×\(header.height) pixels, more than the \(settings.maxImagePixels) "
                    + "accepted")
        }
        let thumbnail = scratch.appendingPathComponent("thumbnail.jpg")
        let preview = scratch.appendingPathComponent("preview.jpg")
        async let metadata = captureMetadata(original)
        // The thumbnail comes from the preview (already upright, sRGB and stripped): the original, which for HEIC
        // is costly to decode, is decoded once.
        try await transcoder.makeImageDerivative(input: original, output: preview, longEdge: settings.previewSize)
        try await transcoder.makeImageDerivative(input: preview, output: thumbnail, longEdge: settings.thumbnailWidth)
        async let thumbnailUploaded = store.upload(
            from: thumbnail, to: ObjectKey(job.outputs.thumbnail), contentType: "image/jpeg")
        async let previewUploaded = store.upload(
            from: preview, to: ObjectKey(job.outputs.preview), contentType: "image/jpeg")
        _ = try await (thumbnailUploaded, previewUploaded)
        // libvips' own view of the orientation: its HEIF loader has applied it already where EXIF still says 6.
        return ProcessedMedia(
            thumbnailKey: job.outputs.thumbnail, previewKey: job.outputs.preview, width: header.shownWidth,
            height: header.shownHeight, metadata: await metadata)
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
        let primary = TranscodePlan.makesPrimary(settings) ? scratch.appendingPathComponent("processed.mp4") : nil
        let compatibility =
            TranscodePlan.makesCompatibility(probe, originalMimeType: job.mimeType, settings: settings)
            ? scratch.appendingPathComponent("compatibility.mp4") : nil
        if primary != nil || compatibility != nil {
            // One ffmpeg run writes both files: the source is decoded once.
            let plan = try TranscodePlan(
                probe: probe, settings: settings, input: original, primary: primary, compatibility: compatibility)
            let started = ContinuousClock.now
            try await transcoder.transcode(
                plan: plan, durationSeconds: probe.durationSeconds, progress: progress, timeout: timeout)
            metrics.transcodeFinished(after: ContinuousClock.now - started)
        }
        // The poster comes from the smallest output (its decode is the cheapest) while the outputs are probed and
        // uploaded: the steps after ffmpeg run side by side.
        // ffmpeg cuts the frame at full size; the photo code (libvips) sizes it, so posters and photo thumbnails are
        // made alike.
        let frame = scratch.appendingPathComponent("frame.jpg")
        let poster = scratch.appendingPathComponent("poster.jpg")
        async let posterMade: Void = {
            _ = try await transcoder.makePoster(
                input: compatibility ?? primary ?? original, output: frame, durationSeconds: probe.durationSeconds,
                width: 7680)
            try await transcoder.makeImageDerivative(input: frame, output: poster, longEdge: settings.posterWidth)
        }()
        async let primaryStored = storeOutput(primary, as: .primary, key: job.outputs.processed)
        async let compatibilityStored = storeOutput(compatibility, as: .compatibility, key: job.outputs.compatibility)
        try await posterMade
        async let posterUploaded = store.upload(
            from: poster, to: ObjectKey(job.outputs.thumbnail), contentType: "image/jpeg")
        let (primaryResult, compatibilityResult) = try await (primaryStored, compatibilityStored)
        _ = try await posterUploaded

        var renditions = [primaryResult?.rendition, compatibilityResult?.rendition].compactMap { $0 }
        if TranscodePlan.isBrowserSafe(probe, mimeType: job.mimeType, settings: settings) {
            let size = Int64((try? FileManager.default.attributesOfItem(atPath: original.path)[.size] as? Int) ?? 0)
            // Best effort: without its codec string the original is simply not offered as a fallback.
            do {
                renditions.append(
                    try Self.rendition(.original, file: original, key: job.objectKey, probe: probe, size: size))
            } catch {
                logger.warning("the original is not listed as playable", metadata: ["error": "\(error)"])
            }
        }
        let shown = primaryResult?.probe ?? probe
        return ProcessedMedia(
            processedKey: primary == nil ? nil : job.outputs.processed,
            processedSizeBytes: primaryResult?.rendition.sizeBytes, thumbnailKey: job.outputs.thumbnail,
            durationSeconds: shown.durationSeconds ?? probe.durationSeconds,
            width: shown.video?.displayWidth, height: shown.video?.displayHeight,
            videoCodec: shown.video?.codecName, audioCodec: shown.audio?.codecName, renditions: renditions)
    }

    /// Probes an output, uploads it under `key` and describes it; nothing when the run made no such output.
    func storeOutput(_ file: URL?, as kind: RenditionKind, key: String) async throws
        -> (rendition: MediaRendition, probe: ProbeResult)?
    {
        guard let file else { return nil }
        let probed = try await transcoder.probe(file)
        let info = try await store.upload(from: file, to: ObjectKey(key), contentType: "video/mp4")
        return (try Self.rendition(kind, file: file, key: key, probe: probed, size: info.size), probed)
    }

    /// A playable file as the API lists it: the codecs come from the file's own MP4 boxes, exactly.
    static func rendition(_ kind: RenditionKind, file: URL, key: String, probe: ProbeResult, size: Int64) throws
        -> MediaRendition
    {
        let codecs: CodecStrings
        do {
            codecs = try CodecStrings.read(mp4: file)
        } catch {
            throw TranscodingError.ffmpegFailed.with(reason: "the \(kind.rawValue) file is not a readable MP4: \(error)")
        }
        return MediaRendition(
            kind: kind, objectKey: key, mimeType: codecs.mimeType, videoCodec: probe.video?.codecName ?? "unknown",
            width: probe.video?.displayWidth, height: probe.video?.displayHeight, bitRate: probe.bitRate,
            sizeBytes: size, isHDR: probe.video?.isHDR ?? false)
    }
}
