import Foundation
import HTTPTypes
import Hummingbird
import MediaVaultCore
import NIOCore

/// What viewers reach without an account: the share page `/s/:token` (HTML), its item redirects, and the same
/// data as JSON at `/api/share/:token`. Every route checks the link (state, password) on every request.
struct ShareController: Sendable {
    let shared: SharedCollections
    /// Where presigned storage URLs point, for the page's Content-Security-Policy.
    let storageOrigin: String?
    /// Parsed once when the module starts; every page a request renders shares them.
    let pageTemplates: SharePageTemplates

    func register(on router: AccessRouter) {
        router.get("s/:token", .open, use: page)
        router.post("s/:token", .open, use: unlockForm)
        router.get("s/:token/items/:mediaID/:variant", .open, use: itemRedirect)
        router.get("api/share/:token", .open, use: json)
        router.post("api/share/:token/unlock", .open, use: unlockJSON)
    }

    // MARK: JSON

    /// Items per page of the share page; `GET /api/share/:token` defaults to the same and allows up to 500.
    static let pageSize = 200
    static let maxJSONPageSize = 500

    @Sendable func json(_ request: Request, context: AppRequestContext) async throws -> SharedCollectionResponse {
        let access = try await shared.requireOpen(token: try token(context), request: request)
        let query = request.uri.queryParameters
        func number(_ name: String, default value: Int, max: Int) throws -> Int {
            guard let raw = query[name[...]] else { return value }
            guard let number = Int(raw), (1...max).contains(number) else {
                throw AppError.invalidArgument("\(name) must be a whole number in 1...\(max)", details: ["field": .string(name)])
            }
            return number
        }
        let page = try await shared.page(
            of: access.collection, number: try number("page", default: 1, max: 1_000_000),
            size: try number("page_size", default: Self.pageSize, max: Self.maxJSONPageSize))
        try await countView(access)
        return SharedCollectionResponse(
            title: access.collection.title, description: access.collection.description, itemCount: page.total,
            createdAt: access.collection.createdAt, coverMediaID: access.collection.coverMediaID.map(\.lowercasedString),
            allowDownload: access.allowsDownload, expiresAt: access.link?.expiresAt, page: page.number,
            pageSize: page.size,
            items: try page.items.map { item in
                let media = item.media
                return CollectionItemResponse(
                    id: media.id.lowercasedString, title: media.title, originalFilename: media.originalFilename,
                    mimeType: media.mimeType, status: media.status,
                    streamURL: try shared.streamURL(media, viewerMayHaveOriginal: access.allowsDownload),
                    addedAt: item.item.addedAt, position: item.item.position, sizeBytes: media.sizeBytes,
                    durationSeconds: media.durationSeconds, width: media.width, height: media.height,
                    createdAt: media.createdAt, tags: nil, thumbnailURL: try shared.thumbnailURL(media),
                    originalURL: try shared.originalURL(media, viewerMayHaveOriginal: access.allowsDownload),
                    downloadURL: access.allowsDownload
                        ? try shared.presign(media.originalKey, downloadFilename: media.originalFilename) : nil,
                    renditions: try shared.renditions(media),
                    capture: media.capture, showsMetadata: access.showsMetadata, showsLocation: access.showsLocation)
            })
    }

    @Sendable func unlockJSON(_ request: Request, context: AppRequestContext) async throws -> Response {
        let access = try await lockedOrOpen(token: try token(context), request: request)
        let body = try await request.decodeJSON(as: UnlockRequest.self, context: context)
        let pass = try await shared.unlock(access, password: body.password, clientAddress: context.clientAddress)
        var response = try UnlockResponse(
            unlocked: true, unlockToken: pass.encoded(secret: shared.configuration.signingSecret),
            expiresAt: pass.expiresAt
        ).response(from: request, context: context)
        response.setCookie(shared.unlockCookie(pass))
        return response
    }

    /// A link that exists and is active, whether or not this request has unlocked it.
    func lockedOrOpen(token: String, request: Request) async throws -> ShareAccess {
        switch try await shared.resolve(token: token, request: request) {
        case .open(let access), .locked(let access): return access
        case .unavailable(let state, let expiredAt): throw SharedCollections.unavailableError(state, expiredAt: expiredAt)
        case .unknown: throw AppError.notFound("share link not found")
        }
    }

    // MARK: The page

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = try token(context)
        if request.uri.path.hasSuffix("/") {
            // The page's links are relative to `/s/<token>`; with a trailing slash they would resolve elsewhere.
            return Response(status: .permanentRedirect, headers: [.location: "../" + token])
        }
        let page = SharePage(token: token, nonce: RandomToken.generate(byteCount: 16), templates: pageTemplates)
        switch try await shared.resolve(token: token, request: request) {
        case .unknown:
            return html(page.message(title: "Link not found", text: "This share link does not exist. Check that it was copied completely."), status: .notFound, page: page)
        case .unavailable(let state, let expiredAt):
            let text = state == .expired
                ? "This share link expired\(expiredAt.map { " on " + SharePage.day($0) } ?? ""). Ask the owner for a new one."
                : "This share link has been turned off by its owner. Ask them for a new one."
            return html(page.message(title: state == .expired ? "Link expired" : "Link no longer available", text: text), status: .gone, page: page)
        case .locked:
            return html(page.passwordForm(error: nil), status: .unauthorized, page: page, challenge: true)
        case .open(let access):
            // A bad page number is a viewer editing the URL: show the first page rather than an error.
            let number = request.uri.queryParameters["page"].flatMap { Int($0) }.flatMap { $0 >= 1 ? $0 : nil } ?? 1
            return try await gallery(access, page: page, number: min(number, 1_000_000))
        }
    }

    func gallery(_ access: ShareAccess, page: SharePage, number: Int) async throws -> Response {
        let items = try await shared.page(of: access.collection, number: number, size: Self.pageSize)
        try await countView(access)
        let body = page.gallery(
            title: access.collection.title, description: access.collection.description,
            pageNumber: items.number, pageCount: items.pageCount, total: items.total,
            items: items.items.map { item in
                SharePage.Item(
                    id: item.media.id.lowercasedString, title: item.media.title, mimeType: item.media.mimeType,
                    status: item.media.status, hasProcessedVideo: item.media.isReady && item.media.processedKey != nil,
                    hasThumbnail: item.media.thumbnailKey != nil || item.media.mimeType.hasPrefix("image/"),
                    durationSeconds: item.media.durationSeconds,
                    renditions: item.media.renditions.map { SharePage.Rendition(kind: $0.kind, mimeType: $0.mimeType) },
                    details: access.showsMetadata ? Self.details(item.media.capture) : nil,
                    place: access.showsLocation ? Self.place(item.media.capture) : nil)
            },
            allowDownload: access.allowsDownload, expiresAt: access.link?.expiresAt)
        return html(body, status: .ok, page: page)
    }

    /// The password form posts here; success redirects back to the page with the unlock cookie set.
    @Sendable func unlockForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = try token(context)
        let page = SharePage(token: token, nonce: RandomToken.generate(byteCount: 16), templates: pageTemplates)
        let access: ShareAccess
        do {
            access = try await lockedOrOpen(token: token, request: request)
        } catch let error as AppError where error.code == .notFound || error.status == .gone {
            return try await self.page(request, context: context)
        }
        guard access.passwordHash != nil else {
            return Response(status: .seeOther, headers: [.location: page.selfReference])
        }
        let body = try await request.body.collect(upTo: 4096)
        let password = PasswordForm(decoding: String(buffer: body))?.password ?? ""
        do {
            let pass = try await shared.unlock(access, password: password, clientAddress: context.clientAddress)
            var response = Response(status: .seeOther, headers: [.location: page.selfReference])
            response.setCookie(shared.unlockCookie(pass))
            return response
        } catch let error as AppError where error.code == .unauthenticated {
            return html(page.passwordForm(error: "That password is not right."), status: .unauthorized, page: page, challenge: true)
        } catch let error as AppError where error.code == .resourceExhausted {
            var response = html(page.passwordForm(error: error.message), status: .tooManyRequests, page: page)
            response.headers[.retryAfter] = error.headers[.retryAfter]
            return response
        }
    }

    // MARK: Media behind the page

    /// Checks the link again, then redirects to a presigned URL minted for this request.
    @Sendable func itemRedirect(_ request: Request, context: AppRequestContext) async throws -> Response {
        let access = try await shared.requireOpen(token: try token(context), request: request)
        let mediaID = try CollectionRules.uuid(context.parameters.get("mediaID"), notFound: "media not found")
        let media = try await shared.item(mediaID, in: access)
        let url: String
        switch context.parameters.get("variant") ?? "" {
        case "stream":
            guard media.isReady, let processed = media.processedKey else {
                throw AppError.notFound("this item has not been processed yet")
            }
            url = try shared.presign(processed)
        case "compatible":
            guard media.isReady, let file = media.renditions.first(where: { $0.kind == .compatibility }) else {
                throw AppError.notFound("this item has no compatibility rendition")
            }
            url = try shared.presign(file.objectKey)
        case "original":
            // A photo's original carries its EXIF and GPS: only links that hand out the files as uploaded serve it.
            // A video's is a playable source. A script-capable file is only ever an attachment.
            guard let original = try shared.originalURL(media, viewerMayHaveOriginal: access.allowsDownload) else {
                throw AppError.notFound("this link does not share originals")
            }
            url = original
        case "thumbnail":
            if let thumbnail = media.thumbnailKey {
                url = try shared.presign(thumbnail)
            } else if let original = try shownOriginal(media, access) {
                url = original
            } else {
                throw AppError.notFound("this item has no thumbnail")
            }
        case "preview":
            // The large JPEG libvips made; lacking one, the thumbnail, or an original every browser decodes.
            if let preview = media.previewKey ?? media.thumbnailKey {
                url = try shared.presign(preview)
            } else if let original = try shownOriginal(media, access) {
                url = original
            } else {
                throw AppError.notFound("this item has no preview yet")
            }
        case "download":
            guard access.allowsDownload else {
                throw AppError.permissionDenied("downloads are turned off for this share link")
            }
            url = try shared.presign(media.originalKey, downloadFilename: media.originalFilename)
        default:
            throw AppError.notFound("no such item resource")
        }
        return Response(status: .temporaryRedirect, headers: [.location: url])
    }

    // MARK: Helpers

    /// "Taken 2021-07-14 · Canon EOS R5 · f/2.8 1/250 s ISO 200" from what the file said.
    static func details(_ capture: CaptureMetadata?) -> String? {
        guard let capture else { return nil }
        var parts: [String] = []
        if let takenAt = capture.takenAt { parts.append("Taken " + SharePage.day(takenAt)) }
        let camera = [capture.details.cameraMake, capture.details.cameraModel].compactMap { $0 }
        // Models usually repeat the make ("Canon" + "Canon EOS R5").
        if let model = camera.last { parts.append(camera.count == 2 && !model.hasPrefix(camera[0]) ? camera.joined(separator: " ") : model) }
        var exposure: [String] = []
        if let aperture = capture.details.aperture { exposure.append("f/" + Self.short(aperture)) }
        if let time = capture.details.exposureTime {
            exposure.append(time < 1 ? "1/\(Int((1 / time).rounded())) s" : Self.short(time) + " s")
        }
        if let iso = capture.details.iso { exposure.append("ISO \(iso)") }
        if !exposure.isEmpty { parts.append(exposure.joined(separator: " ")) }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    /// "48.85840, 2.29450".
    static func place(_ capture: CaptureMetadata?) -> String? {
        guard let latitude = capture?.latitude, let longitude = capture?.longitude else { return nil }
        return String(format: "%.5f, %.5f", latitude, longitude)
    }

    static func short(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.1f", value)
    }

    /// The original in place of a missing derivative: only a type every browser decodes, and only where the viewer
    /// may have the file as uploaded (its metadata included).
    func shownOriginal(_ media: MediaSummary, _ access: ShareAccess) throws -> String? {
        guard Self.browserShowsOriginal(media) else { return nil }
        return try shared.originalURL(media, viewerMayHaveOriginal: access.allowsDownload)
    }

    /// Image types every browser decodes; HEIC, AVIF (not everywhere) and TIFF are not among them.
    static func browserShowsOriginal(_ media: MediaSummary) -> Bool {
        ["image/jpeg", "image/png", "image/gif", "image/webp"].contains(media.mimeType)
    }

    func token(_ context: AppRequestContext) throws -> String {
        guard let token = context.parameters.get("token"), !token.isEmpty, token.utf8.count <= 128 else {
            throw AppError.notFound("share link not found")
        }
        return token
    }

    func countView(_ access: ShareAccess) async throws {
        if let link = access.link { try await shared.repository.recordView(linkID: link.id) }
    }

    func html(_ body: String, status: HTTPResponse.Status, page: SharePage, challenge: Bool = false) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .contentSecurityPolicy: SharePage.contentSecurityPolicy(nonce: page.nonce, storageOrigin: storageOrigin),
            .xRobotsTag: "noindex, nofollow",
        ]
        if challenge { headers[.wwwAuthenticate] = SharedCollections.passwordChallenge }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The share page's password form, an `application/x-www-form-urlencoded` body.
    struct PasswordForm: Decodable {
        /// `nil` when the form has no `password` field.
        let password: String?

        /// `nil` when `body` is not a well-formed form (bad percent-encoding, a repeated field): the caller treats
        /// that like a missing password.
        init?(decoding body: String) {
            guard let form = try? URLEncodedFormDecoder().decode(Self.self, from: body) else { return nil }
            self = form
        }
    }
}

extension HTTPField.Name {
    static let xRobotsTag = Self("X-Robots-Tag")!
}
