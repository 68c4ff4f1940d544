import HTTPTypes
import Foundation
import Hummingbird
import MediaVaultCore
import ObjectStorage

/// A viewer's way into a collection through a share token, after its checks.
struct ShareAccess: Sendable {
    let target: ShareTarget
    var collection: CollectionRecord { target.collection }
    var link: ShareLinkRecord? {
        if case .link(let link, _) = target { return link }
        return nil
    }
    /// The collection's own token (the original's) shows items but offers no downloads; links say for themselves.
    var allowsDownload: Bool { link?.allowDownload ?? false }
    /// Capture time and camera, and separately the place: only a link whose owner turned them on shows them.
    var showsMetadata: Bool { link?.showMetadata ?? false }
    var showsLocation: Bool { link?.showLocation ?? false }
    var passwordHash: String? { link?.passwordHash }
}

/// What a share token leads to for this request.
enum ShareResolution: Sendable {
    case open(ShareAccess)
    /// The link needs its password and this request carries no valid unlock pass.
    case locked(ShareAccess)
    case unavailable(ShareLinkState, expiredAt: Date?)
    case unknown
}

/// A page of a shared collection: presigned URLs and HTML are made for these items only.
struct ShareItemsPage: Sendable {
    let items: [SharedItem]
    let number: Int
    let size: Int
    let total: Int

    var pageCount: Int { max(1, (total + size - 1) / size) }
}

/// An item as shown to anyone: its place in the collection and what the media catalog knows of it.
struct SharedItem: Sendable {
    let item: CollectionItemRecord
    let media: MediaSummary
}

/// The rules of sharing: resolving tokens, unlocking passwords (rate-limited), listing what viewers may see and
/// minting their short-lived storage URLs.
struct SharedCollections: Sendable {
    let configuration: CollectionConfiguration
    let repository: CollectionRepository
    let catalog: any MediaCatalog
    let store: any ObjectStore
    let now: @Sendable () -> Date

    // MARK: Resolving

    func resolve(token: String, request: Request) async throws -> ShareResolution {
        guard let target = try await repository.resolve(token: token) else { return .unknown }
        let access = ShareAccess(target: target)
        guard let link = access.link else { return .open(access) }
        let state = link.state(at: now())
        guard state == .active else { return .unavailable(state, expiredAt: link.expiresAt) }
        guard let passwordHash = link.passwordHash else { return .open(access) }
        let presented = [
            request.headers[values: HTTPField.Name(UnlockPass.headerName)!].first,
            request.cookies[UnlockPass.cookieName(for: link.id)]?.value,
        ]
        let unlocked = presented.contains { value in
            UnlockPass.verify(
                value, linkID: link.id, passwordHash: passwordHash, secret: configuration.signingSecret, now: now())
                != nil
        }
        return unlocked ? .open(access) : .locked(access)
    }

    /// Resolves for the JSON API and the item routes: anything but an open link is an error in the envelope.
    func requireOpen(token: String, request: Request) async throws -> ShareAccess {
        switch try await resolve(token: token, request: request) {
        case .open(let access): return access
        case .locked:
            throw Self.passwordRequired("this share link needs its password", details: ["password_required": .bool(true)])
        case .unavailable(let state, let expiredAt):
            throw Self.unavailableError(state, expiredAt: expiredAt)
        case .unknown:
            throw AppError.notFound("share link not found")
        }
    }

    static func unavailableError(_ state: ShareLinkState, expiredAt: Date?) -> AppError {
        var details: [String: JSONValue] = ["reason": .string(state.rawValue)]
        if let expiredAt { details["expired_at"] = .string(RFC3339.string(from: expiredAt)) }
        let message = state == .expired ? "this share link has expired" : "this share link has been revoked"
        return AppError(.failedPrecondition, status: .gone, message, details: details)
    }

    // MARK: Unlocking

    /// Checks `password` against the link, counting the attempt per link and per client address first.
    /// Returns the unlock pass; throws `resource_exhausted` when either limit is reached, `unauthenticated` when
    /// the password is wrong.
    func unlock(_ access: ShareAccess, password: String, clientAddress: String?) async throws -> UnlockPass {
        guard let link = access.link, let passwordHash = link.passwordHash else {
            throw AppError.failedPrecondition("this share link has no password")
        }
        // The client first: attempts refused at the client's limit never eat into the link's budget.
        let scopes = [
            ("client:" + (clientAddress ?? "unknown"), configuration.attemptsPerClient),
            ("link:" + link.id.lowercasedString, configuration.attemptsPerLink),
        ]
        var counted: [String] = []
        for (scope, limit) in scopes {
            let (attempts, windowEnds) = try await repository.countAttempt(scope: scope, window: configuration.attemptWindow)
            counted.append(scope)
            if attempts > limit {
                let retryAfter = max(1, Int(windowEnds.timeIntervalSince(now()).rounded(.up)))
                var error = AppError.resourceExhausted(
                    "too many password attempts; try again in \(retryAfter) seconds",
                    details: ["retry_after_seconds": .int(Int64(retryAfter))])
                error.headers[.retryAfter] = String(retryAfter)
                throw error
            }
        }
        // Counters of windows long past are dropped now and then, so the table stays small without a sweeper.
        if Int.random(in: 0..<50) == 0 { try? await repository.pruneAttempts(olderThan: configuration.attemptWindow) }
        guard try await SharePassword.verify(password, against: passwordHash) else {
            throw Self.passwordRequired("wrong password")
        }
        for scope in counted { try await repository.refundAttempt(scope: scope) }
        let lifetime = TimeInterval(configuration.unlockTTL.components.seconds)
        let expiresAt = min(now() + lifetime, link.expiresAt ?? .distantFuture)
        return UnlockPass(
            linkID: link.id, passwordFingerprint: SharePassword.fingerprint(passwordHash), expiresAt: expiresAt)
    }

    func unlockCookie(_ pass: UnlockPass) -> Cookie {
        Cookie(
            name: UnlockPass.cookieName(for: pass.linkID), value: pass.encoded(secret: configuration.signingSecret),
            maxAge: max(1, Int(pass.expiresAt.timeIntervalSince(now()))), path: "/",
            secure: configuration.secureCookies, httpOnly: true, sameSite: .lax)
    }

    // MARK: Items

    /// The collection's items in display order. Viewers never see uploads still in progress.
    func items(of collection: CollectionRecord, forOwner: Bool) async throws -> [SharedItem] {
        let items = try await repository.items(collectionID: collection.id)
        let media = try await catalog.summaries(of: items.map(\.mediaID))
        return items.compactMap { item in
            guard let summary = media[item.mediaID], forOwner || summary.isUploaded else { return nil }
            return SharedItem(item: item, media: summary)
        }
    }

    /// One page of what viewers see, and how many items they see in all. Only the page's media are read in full:
    /// a large collection costs ids, not rows, beyond the page.
    func page(of collection: CollectionRecord, number: Int, size: Int) async throws -> ShareItemsPage {
        let items = try await repository.items(collectionID: collection.id)
        let confirmed = try await catalog.confirmedMedia(among: items.map(\.mediaID))
        let visible = items.filter { confirmed.contains($0.mediaID) }
        let start = min(visible.count, (number - 1) * size)
        let slice = visible[start..<min(visible.count, start + size)]
        let media = try await catalog.summaries(of: slice.map(\.mediaID))
        return ShareItemsPage(
            items: slice.compactMap { item in media[item.mediaID].map { SharedItem(item: item, media: $0) } },
            number: number, size: size, total: visible.count)
    }

    /// One item reached through a share, or `not_found` when it is not part of the shared collection.
    func item(_ mediaID: UUID, in access: ShareAccess) async throws -> MediaSummary {
        guard try await repository.containsItem(collectionID: access.collection.id, mediaID: mediaID),
            let media = try await catalog.summaries(of: [mediaID])[mediaID], media.isUploaded
        else { throw AppError.notFound("media not found") }
        return media
    }

    func presign(_ key: String, downloadFilename: String? = nil) throws -> String {
        try store.presignedGetURL(
            for: ObjectKey(key), expiresIn: configuration.mediaURLTTL, downloadFilename: downloadFilename
        ).url.absoluteString
    }

    /// `stream_url` for a viewer. A photo's is its preview (upright, stripped of EXIF and GPS); its original (with
    /// them) only for someone who may have the file as uploaded: the owner, or a link that allows downloads.
    /// A script-capable original is only ever an attachment.
    func streamURL(_ media: MediaSummary, viewerMayHaveOriginal: Bool) throws -> String? {
        guard let key = media.streamKey else { return nil }
        if media.mimeType.hasPrefix("image/"), key == media.originalKey {
            if let preview = media.previewKey { return try presign(preview) }
            guard viewerMayHaveOriginal else { return nil }
        }
        return try originalOrDerived(key, of: media)
    }

    /// The original for a viewer who may have it; nil otherwise (see `streamURL`).
    func originalURL(_ media: MediaSummary, viewerMayHaveOriginal: Bool) throws -> String? {
        guard viewerMayHaveOriginal || !media.mimeType.hasPrefix("image/") else { return nil }
        return try originalOrDerived(media.originalKey, of: media)
    }

    private func originalOrDerived(_ key: String, of media: MediaSummary) throws -> String {
        let attachment = key == media.originalKey && ScriptableContent.isScriptCapable(media.mimeType)
        return try presign(key, downloadFilename: attachment ? media.originalFilename : nil)
    }

    /// Each playable file with a URL minted for this request; none until the media is ready.
    func renditions(_ media: MediaSummary) throws -> [RenditionResponse] {
        guard media.isReady else { return [] }
        return try media.renditions.map { RenditionResponse($0, url: try presign($0.objectKey)) }
    }

    func thumbnailURL(_ media: MediaSummary) throws -> String? {
        try media.thumbnailKey.map { try presign($0) }
    }

    /// Public page URL of a token.
    func pageURL(token: String) -> String {
        configuration.apiBaseURL.absoluteString.trimmingSuffix("/") + "/s/" + token
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

extension SharedCollections {
    /// The share link's password challenge: a 401 whose `WWW-Authenticate` names the link's own scheme, not the API's
    /// bearer tokens, since no session or key opens a locked link.
    static let passwordChallenge = #"SharePassword realm="share link""#

    static func passwordRequired(_ message: String, details: [String: JSONValue]? = nil) -> AppError {
        AppError(
            .unauthenticated, status: .unauthorized, message, details: details,
            headers: [.wwwAuthenticate: passwordChallenge])
    }
}
