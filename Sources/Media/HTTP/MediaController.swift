import Foundation
import Hummingbird
import Logging
import MediaVaultCore
import ObjectStorage
import Prometheus

/// `/media/*`: presigned uploads (single and multipart), confirmation, tags, listing, reading and deletion.
public struct MediaController: Sendable {
    let configuration: MediaConfiguration
    let repository: MediaRepository
    let store: any ObjectStore
    let scheduler: any ProcessingScheduler
    let janitor: StorageJanitor
    let registry: PrometheusCollectorRegistry

    public func register(on router: AccessRouter) {
        let media = router.group("media")
        media.post("upload/sign", .scope(.mediaWrite), use: sign)
        media.post("checksums", .scope(.mediaRead), use: checksums)
        media.post("upload/confirm", .scope(.mediaWrite), use: confirm)
        media.post("upload/multipart", .scope(.mediaWrite), use: startMultipart)
        media.post("upload/multipart/:id/urls", .scope(.mediaWrite), use: partURLs)
        media.get("upload/multipart/:id/parts", .scope(.mediaWrite), use: uploadedParts)
        media.post("upload/multipart/:id/complete", .scope(.mediaWrite), use: completeMultipart)
        media.delete("upload/multipart/:id", .scope(.mediaWrite), use: abortMultipart)
        media.get(.scope(.mediaRead), use: list)
        media.get(":id", .scope(.mediaRead), use: get)
        media.get(":id/download", .scope(.mediaRead), use: download)
        media.patch(":id/tags", .scope(.mediaWrite), use: updateTags)
        media.post(":id/reprocess", .scope(.mediaWrite), use: reprocess)
        media.delete(":id", .scope(.mediaDelete), use: delete)
    }

    // MARK: Single upload

    @Sendable func sign(_ request: Request, context: AppRequestContext) async throws -> SignResponse {
        let user = try context.requireUser()
        let body = try await request.decodeJSON(as: SignRequest.self, context: context)
        let (filename, mimeType, title) = try validateNewUpload(
            filename: body.filename, mimeType: body.mimeType, size: body.sizeBytes, title: body.title)
        let sha256 = try body.sha256.map { try ContentChecksum.sha256($0) }
        let mediaID = UUID()
        let key = MediaObjectKeys.original(ownerID: user.id, mediaID: mediaID, filename: filename)
        // With the checksum signed in, the store itself refuses bytes that changed on the way.
        let presigned = try store.presignedPutURL(
            for: ObjectKey(key), contentType: mimeType, contentLength: body.sizeBytes, sha256: sha256,
            expiresIn: configuration.uploadURLTTL)
        try await repository.createUpload(
            .init(
                id: mediaID, ownerID: user.id, title: title, filename: filename, mimeType: mimeType,
                declaredSize: body.sizeBytes, objectKey: key, multipartUploadID: nil, partSize: nil, sha256: sha256,
                refusesDuplicates: !(body.allowDuplicate ?? false)))
        return SignResponse(
            uploadURL: presigned.url.absoluteString, s3Key: key, mediaID: mediaID.lowercasedString,
            expiresAt: presigned.expiresAt, method: presigned.method.rawValue, headers: presigned.headers)
    }

    func validateNewUpload(
        filename rawName: String, mimeType rawType: String, size: Int64?, title rawTitle: String?
    ) throws -> (filename: String, mimeType: String, title: String) {
        let filename = try FileName.validateDisplayName(rawName)
        guard let mimeType = MimeType.normalise(rawType) else {
            throw AppError.invalidArgument("mime_type must look like type/subtype")
        }
        guard MimeType.isAllowed(mimeType, by: configuration.allowedMimeTypes) else {
            throw AppError.invalidArgument(
                "mime_type \(mimeType) is not accepted (allowed: \(configuration.allowedMimeTypes.joined(separator: ", ")))")
        }
        if ScriptableContent.isScriptCapable(mimeType), !configuration.allowsScriptable {
            throw AppError.invalidArgument(
                "mime_type \(mimeType) can carry scripts and is not accepted (ALLOW_SCRIPTABLE_UPLOADS)")
        }
        if let size {
            guard size > 0 else { throw AppError.invalidArgument("size_bytes must be positive") }
            guard size <= configuration.maxUploadBytes else { throw tooLarge() }
        }
        return (filename, mimeType, try Self.validTitle(rawTitle) ?? filename)
    }

    static func validTitle(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= 200 else {
            throw AppError.invalidArgument("title must be 1 to 200 characters")
        }
        return title
    }

    func tooLarge() -> AppError {
        .resourceExhausted(
            "file is larger than the \(configuration.maxUploadBytes)-byte limit", status: .contentTooLarge,
            details: ["max_upload_bytes": .int(configuration.maxUploadBytes)])
    }

    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> ConfirmResponse {
        let user = try context.requireUser()
        let body = try await request.decodeJSON(as: ConfirmRequest.self, context: context)
        // As the original answers it: an empty id is a bad request, not an unknown item.
        guard !body.mediaID.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AppError.invalidArgument("media_id is required")
        }
        let title = try Self.validTitle(body.title)
        let media = try await ownedMedia(body.mediaID, user: user)
        if media.status != .uploading {
            return ConfirmResponse(mediaID: media.id.lowercasedString, status: media.status.rawValue)
        }
        guard media.multipartUploadID == nil else {
            throw AppError.failedPrecondition("this is a multipart upload: complete it instead of confirming")
        }
        return try await finishUpload(media, expectedSize: body.sizeBytes, title: title, context: context)
    }

    /// Verifies the stored object against what was promised (size, type and, where the store knows it, SHA-256), then
    /// confirms; a bad object is deleted. A SHA-256 mismatch also fails the item, so the library shows why.
    func finishUpload(
        _ media: MediaRecord, expectedSize: Int64?, title: String?, context: AppRequestContext
    ) async throws -> ConfirmResponse {
        let key = try ObjectKey(media.objectKey)
        guard let info = try await store.head(key) else {
            throw AppError.failedPrecondition("the file has not been uploaded yet: PUT it to upload_url first")
        }
        let realType = info.contentType.flatMap(MimeType.normalise) ?? media.mimeType
        var problem: AppError?
        if info.size > configuration.maxUploadBytes {
            problem = tooLarge()
        } else if let declared = media.declaredSizeBytes ?? expectedSize, declared != info.size {
            problem = .invalidArgument(
                "uploaded file is \(info.size) bytes, not the declared \(declared); upload it again",
                details: ["size_bytes": .int(info.size), "declared_size_bytes": .int(declared)])
        } else if !MimeType.isAllowed(realType, by: configuration.allowedMimeTypes)
            || ScriptableContent.isScriptCapable(realType) && !configuration.allowsScriptable
        {
            problem = .invalidArgument("uploaded file type \(realType) is not accepted")
        } else if info.size == 0 {
            problem = .invalidArgument("uploaded file is empty")
        }
        do {
            if let problem { throw problem }
            let outcome = try await repository.confirm(
                mediaID: media.id, ownerID: media.ownerID, realSize: info.size, realMimeType: realType, title: title,
                storedSHA256: info.sha256, scheduler: scheduler)
            switch outcome {
            case .confirmed(let status):
                registry.makeCounter(descriptor: Self.uploadsConfirmed).increment()
                context.logger.info(
                    "upload confirmed", metadata: ["media_id": .string(media.id.lowercasedString), "size": "\(info.size)"])
                return ConfirmResponse(mediaID: media.id.lowercasedString, status: status.rawValue)
            case .alreadyConfirmed(let status):
                return ConfirmResponse(mediaID: media.id.lowercasedString, status: status.rawValue)
            case .checksumMismatch(let mismatch):
                context.logger.notice(
                    "upload failed its checksum", metadata: ["media_id": .string(media.id.lowercasedString)])
                throw AppError.invalidArgument(
                    mismatch.reason,
                    details: [
                        "reason": "checksum_mismatch", "media_id": .string(media.id.lowercasedString),
                        "sha256": .string(Hex.encode(mismatch.stored)),
                        "declared_sha256": .string(Hex.encode(mismatch.declared)),
                    ])
            }
        } catch let error as AppError where error.code != .internal {
            // Nothing unconfirmed stays in storage: the caller re-signs or re-uploads.
            try? await store.delete(key)
            throw error
        }
    }

    static var uploadsConfirmed: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "mediavault", metricName: "uploads_confirmed", unitName: "total",
            helpText: "Uploads confirmed and queued for processing")
    }

    // MARK: Checksums

    /// Which of these SHA-256s the user already has, with the items: a bulk uploader skips what is there and
    /// resumes what it left half-sent.
    @Sendable func checksums(_ request: Request, context: AppRequestContext) async throws -> ChecksumsResponse {
        let user = try context.requireUser()
        let body = try await request.decodeJSON(as: ChecksumsRequest.self, context: context)
        guard (1...ContentChecksum.maxPerLookup).contains(body.checksums.count) else {
            throw AppError.invalidArgument(
                "checksums must list 1 to \(ContentChecksum.maxPerLookup) SHA-256s", details: ["field": "checksums"])
        }
        let wanted = try body.checksums.enumerated().map { index, hex in
            try ContentChecksum.sha256(hex, field: "checksums[\(index)]")
        }
        let found = try await repository.items(ownerID: user.id, withChecksums: wanted)
        return ChecksumsResponse(
            matches: found.map {
                .init(sha256: Hex.encode($0.sha256), mediaID: $0.id.lowercasedString, status: $0.status.rawValue,
                    multipart: $0.multipart)
            })
    }

    // MARK: Multipart

    @Sendable func startMultipart(_ request: Request, context: AppRequestContext) async throws -> MultipartStartResponse {
        let user = try context.requireUser()
        let body = try await request.decodeJSON(as: MultipartStartRequest.self, context: context)
        let (filename, mimeType, title) = try validateNewUpload(
            filename: body.filename, mimeType: body.mimeType, size: body.sizeBytes, title: body.title)
        let partSize = try MultipartRules.partSize(for: body.sizeBytes, requested: body.partSize)
        let sha256 = try body.sha256.map { try ContentChecksum.sha256($0) }
        let mediaID = UUID()
        let key = MediaObjectKeys.original(ownerID: user.id, mediaID: mediaID, filename: filename)
        let uploadID = try await store.createMultipartUpload(for: ObjectKey(key), contentType: mimeType)
        do {
            try await repository.createUpload(
                .init(
                    id: mediaID, ownerID: user.id, title: title, filename: filename, mimeType: mimeType,
                    declaredSize: body.sizeBytes, objectKey: key, multipartUploadID: uploadID.rawValue,
                    partSize: partSize, sha256: sha256, refusesDuplicates: !(body.allowDuplicate ?? false)))
        } catch {
            try? await store.abortMultipartUpload(for: ObjectKey(key), uploadID: uploadID)
            throw error
        }
        return MultipartStartResponse(
            mediaID: mediaID.lowercasedString, uploadID: uploadID.rawValue, s3Key: key, partSize: partSize,
            partCount: Int((body.sizeBytes + partSize - 1) / partSize))
    }

    /// The user's multipart upload still in progress, or `not_found`/`failed_precondition`.
    func openMultipart(_ context: AppRequestContext) async throws -> (MediaRecord, ObjectKey, MultipartUploadID) {
        let user = try context.requireUser()
        let media = try await ownedMedia(context.parameters.get("id") ?? "", user: user)
        guard media.status == .uploading, let uploadID = media.multipartUploadID else {
            throw AppError.failedPrecondition("no multipart upload is in progress for this media")
        }
        return (media, try ObjectKey(media.objectKey), MultipartUploadID(uploadID))
    }

    @Sendable func partURLs(_ request: Request, context: AppRequestContext) async throws -> PartURLsResponse {
        let (media, key, uploadID) = try await openMultipart(context)
        let body = try await request.decodeJSON(as: PartURLsRequest.self, context: context)
        let partCount = Int(((media.declaredSizeBytes ?? 0) + (media.partSize ?? 1) - 1) / (media.partSize ?? 1))
        guard !body.partNumbers.isEmpty, body.partNumbers.count <= 100 else {
            throw AppError.invalidArgument("part_numbers must list 1 to 100 parts")
        }
        let parts = try body.partNumbers.map { number in
            guard (1...max(1, partCount)).contains(number) else {
                throw AppError.invalidArgument("part number \(number) is outside 1...\(partCount)")
            }
            let presigned = try store.presignedUploadPartURL(
                for: key, uploadID: uploadID, partNumber: number, expiresIn: configuration.uploadURLTTL)
            return PartURLsResponse.Part(
                partNumber: number, uploadURL: presigned.url.absoluteString, expiresAt: presigned.expiresAt)
        }
        return PartURLsResponse(parts: parts)
    }

    @Sendable func uploadedParts(_ request: Request, context: AppRequestContext) async throws -> UploadedPartsResponse {
        let (media, key, uploadID) = try await openMultipart(context)
        let parts = try await store.listParts(for: key, uploadID: uploadID)
        return UploadedPartsResponse(
            partSize: media.partSize ?? MultipartRules.defaultPartSize,
            parts: parts.map { .init(partNumber: $0.partNumber, etag: $0.etag, sizeBytes: $0.size) })
    }

    @Sendable func completeMultipart(_ request: Request, context: AppRequestContext) async throws -> ConfirmResponse {
        let (media, key, uploadID) = try await openMultipart(context)
        let body = try await request.decodeJSON(as: CompleteRequest.self, context: context)
        let title = try Self.validTitle(body.title)
        guard !body.parts.isEmpty, body.parts.count <= MultipartRules.maximumParts else {
            throw AppError.invalidArgument("parts must list the uploaded parts")
        }
        let numbers = body.parts.map(\.partNumber)
        guard numbers == Array(1...numbers.count) else {
            throw AppError.invalidArgument("parts must be numbered 1, 2, 3 … in order")
        }
        do {
            _ = try await store.completeMultipartUpload(
                for: key, uploadID: uploadID,
                parts: body.parts.map { CompletedPart(partNumber: $0.partNumber, etag: $0.etag) })
        } catch let error as S3Error where error.httpStatus < 500 {
            throw AppError.failedPrecondition("the parts do not complete the upload: \(error.code.rawValue)")
        } catch let error as ObjectStorageError where error == .invalidPart || error == .uploadNotFound {
            throw AppError.failedPrecondition("the parts do not complete the upload")
        }
        try await repository.clearMultipart(mediaID: media.id)
        let completed = try await ownedMedia(media.id.lowercasedString, user: try context.requireUser())
        return try await finishUpload(completed, expectedSize: nil, title: title, context: context)
    }

    @Sendable func abortMultipart(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let (media, _, _) = try await openMultipart(context)
        let pending = try await repository.delete(mediaID: media.id, ownerID: media.ownerID)
        await janitor.remove(pending)
        return SuccessResponse()
    }

    // MARK: Reading

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse {
        let user = try context.requireUser()
        var parameters: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key), default: []].append(String(value)) }
        let query = try Self.listQuery(parameters)
        let (records, total) = try await repository.list(ownerID: user.id, query: query)
        return ListResponse(
            items: try records.map { try item($0, withStreamURL: false) }, totalCount: total, page: query.page,
            pageSize: query.pageSize)
    }

    static func listQuery(_ parameters: [String: [String]]) throws -> MediaListQuery {
        let status = try parameters["status"]?.last.map { raw -> MediaStatus in
            guard let status = MediaStatus(rawValue: raw) else {
                throw AppError.invalidArgument(
                    "status must be one of \(MediaStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return status
        }
        let tags = try (parameters["tags"] ?? []).flatMap { $0.split(separator: ",") }.map { try Tag.normalise(String($0)) }
        let search = parameters["q"]?.last.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        if let search, search.count > 200 { throw AppError.invalidArgument("q must be at most 200 characters") }
        let sort = try parameters["sort"]?.last.map { raw -> MediaSort in
            guard let sort = MediaSort(rawValue: raw) else {
                throw AppError.invalidArgument(
                    "sort must be one of \(MediaSort.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return sort
        } ?? .newest
        guard tags.count <= 20 else { throw AppError.invalidArgument("at most 20 tags may be filtered on") }
        func date(_ name: String) throws -> Date? {
            guard let raw = parameters[name]?.last else { return nil }
            guard let date = RFC3339.date(from: raw) else {
                throw AppError.invalidArgument("\(name) must be an RFC 3339 time such as 2024-05-01T00:00:00Z")
            }
            return date
        }
        // The original frontend relies on the original's leniency here: a page below 1 is page 1, and a page size
        // outside 1...100 (or not a number) is the default 20, never an error.
        let page = parameters["page"]?.last.flatMap { Int($0) }.map { min(max($0, 1), 1_000_000) } ?? 1
        let pageSize = parameters["page_size"]?.last.flatMap { Int($0) }.flatMap { (1...100).contains($0) ? $0 : nil } ?? 20
        return MediaListQuery(
            page: page, pageSize: pageSize, status: status,
            tags: Array(Set(tags)).sorted(), search: search, sort: sort, takenAfter: try date("taken_after"),
            takenBefore: try date("taken_before"))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> MediaItemResponse {
        let user = try context.requireUser()
        guard let id = UUID(uuidString: context.parameters.get("id") ?? ""),
            let media = try await repository.detail(mediaID: id, ownerID: user.id)
        else { throw AppError.notFound("media not found") }
        var response = try item(media, withStreamURL: true)
        response.capture = media.capture
        response.previewURL = try previewURL(media)
        // Renditions of an item being processed again are the previous run's; they show once it is ready.
        guard media.status == .ready else { return response }
        response.renditions = try media.renditions.map { rendition in
            RenditionResponse(
                rendition,
                url: try store.presignedGetURL(
                    for: ObjectKey(rendition.objectKey), expiresIn: configuration.streamURLTTL, downloadFilename: nil
                ).url.absoluteString)
        }
        return response
    }

    func previewURL(_ media: MediaRecord) throws -> String? {
        try media.previewKey.map {
            try store.presignedGetURL(for: ObjectKey($0), expiresIn: configuration.streamURLTTL, downloadFilename: nil)
                .url.absoluteString
        }
    }

    /// The API shape of a record; stream and thumbnail URLs are minted per request (short-lived).
    func item(_ media: MediaRecord, withStreamURL: Bool) throws -> MediaItemResponse {
        var streamURL: String?
        if withStreamURL,
            let key = MediaSummary.streamKey(
                status: media.status, processedKey: media.processedKey, originalKey: media.objectKey)
        {
            // A script-capable file is only ever an attachment: a browser saves it instead of running it.
            streamURL = try store.presignedGetURL(
                for: ObjectKey(key), expiresIn: configuration.streamURLTTL,
                downloadFilename: ScriptableContent.isScriptCapable(media.mimeType) ? media.originalFilename : nil
            ).url.absoluteString
        }
        let thumbnailURL = try media.thumbnailKey.map {
            try store.presignedGetURL(for: ObjectKey($0), expiresIn: configuration.streamURLTTL, downloadFilename: nil)
                .url.absoluteString
        }
        return MediaItemResponse(
            id: media.id.lowercasedString, title: media.title, originalFilename: media.originalFilename,
            mimeType: media.mimeType, sizeBytes: media.sizeBytes, durationSeconds: media.durationSeconds,
            status: media.status, tags: media.tags, createdAt: media.createdAt, width: media.width,
            height: media.height, errorMessage: media.status == .failed ? media.errorMessage : nil,
            thumbnailURL: thumbnailURL, streamURL: streamURL)
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let media = try await ownedMedia(context.parameters.get("id") ?? "", user: user)
        guard media.status != .uploading else {
            throw AppError.failedPrecondition("the upload has not been confirmed yet")
        }
        let presigned = try store.presignedGetURL(
            for: ObjectKey(media.objectKey), expiresIn: configuration.streamURLTTL,
            downloadFilename: media.originalFilename)
        return Response(status: .temporaryRedirect, headers: [.location: presigned.url.absoluteString])
    }

    // MARK: Changing

    @Sendable func updateTags(_ request: Request, context: AppRequestContext) async throws -> TagsResponse {
        let user = try context.requireUser()
        guard let mediaID = UUID(uuidString: context.parameters.get("id") ?? "") else {
            throw AppError.notFound("media not found")
        }
        let body = try await request.decodeJSON(as: TagsRequest.self, context: context)
        let add = try Array(Set((body.addTags ?? []).map(Tag.normalise))).sorted()
        let remove = try Array(Set((body.removeTags ?? []).map(Tag.normalise))).sorted()
        guard add.count + remove.count <= configuration.maxTagsPerMedia else {
            throw AppError.invalidArgument("at most \(configuration.maxTagsPerMedia) tags per request")
        }
        let tags = try await repository.updateTags(
            mediaID: mediaID, ownerID: user.id, add: add, remove: remove, maxTags: configuration.maxTagsPerMedia)
        return TagsResponse(mediaID: mediaID.lowercasedString, tags: tags)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let user = try context.requireUser()
        guard let mediaID = UUID(uuidString: context.parameters.get("id") ?? "") else {
            throw AppError.notFound("media not found")
        }
        let pending = try await repository.delete(mediaID: mediaID, ownerID: user.id)
        await janitor.remove(pending)
        return SuccessResponse()
    }

    /// Queues processing again for media that failed or finished.
    @Sendable func reprocess(_ request: Request, context: AppRequestContext) async throws -> ConfirmResponse {
        let user = try context.requireUser()
        let media = try await ownedMedia(context.parameters.get("id") ?? "", user: user)
        guard media.status == .failed || media.status == .ready else {
            throw AppError.failedPrecondition("only failed or processed media can be processed again")
        }
        try await repository.requeue(media, scheduler: scheduler)
        return ConfirmResponse(mediaID: media.id.lowercasedString, status: MediaStatus.queued.rawValue)
    }

    // MARK: Helpers

    /// Another user's media answers exactly like a missing one.
    func ownedMedia(_ rawID: String, user: AuthenticatedUser) async throws -> MediaRecord {
        guard let id = UUID(uuidString: rawID), let media = try await repository.find(mediaID: id, ownerID: user.id)
        else { throw AppError.notFound("media not found") }
        return media
    }

}
