import Foundation
import Hummingbird
import MediaVaultCore

/// `/collection/*`: the original's collection API, plus ordering, a cover and share links.
struct CollectionController: Sendable {
    let shared: SharedCollections
    var repository: CollectionRepository { shared.repository }
    var catalog: any MediaCatalog { shared.catalog }

    func register(on router: AccessRouter) {
        let collections = router.group("collection")
        collections.post(.scope(.collectionsWrite), use: create)
        collections.get(.scope(.collectionsRead), use: list)
        collections.get(":id", .openOrScope(.collectionsRead), use: get)
        collections.patch(":id", .scope(.collectionsWrite), use: update)
        collections.delete(":id", .scope(.collectionsWrite), use: delete)
        collections.post(":id/add", .scope(.collectionsWrite), use: addMedia)
        collections.delete(":id/media/:mediaID", .scope(.collectionsWrite), use: removeMedia)
        collections.put(":id/order", .scope(.collectionsWrite), use: setOrder)
        collections.put(":id/share", .scope(.sharesWrite), use: share)
        collections.post(":id/links", .scope(.sharesWrite), use: createLink)
        collections.get(":id/links", .scope(.sharesRead), use: listLinks)
        collections.patch(":id/links/:linkID", .scope(.sharesWrite), use: updateLink)
        collections.delete(":id/links/:linkID", .scope(.sharesWrite), use: revokeLink)
    }

    // MARK: The collection

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> CollectionResponse {
        let user = try context.requireUser()
        let body = try await request.decodeJSON(as: CreateCollectionRequest.self, context: context)
        let record = try await repository.create(
            ownerID: user.id, title: try CollectionRules.title(body.title),
            description: try CollectionRules.description(body.description ?? ""))
        return CollectionResponse(record, caller: user)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> CollectionListResponse {
        let user = try context.requireUser()
        let records = try await repository.list(ownerID: user.id)
        return CollectionListResponse(collections: records.map { CollectionResponse($0, caller: user) })
    }

    /// The owner, anyone when the collection is public, anyone with its current token; for everyone else the
    /// collection does not exist.
    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> CollectionDetailResponse {
        let id = try CollectionRules.uuid(context.parameters.get("id"), notFound: "collection not found")
        guard let collection = try await repository.find(id: id) else { throw AppError.notFound("collection not found") }
        let isOwner = context.user?.id == collection.ownerID
        let token = request.uri.queryParameters["token"].map(String.init)
        let tokenMatches = token.map { CollectionRepository.sameToken(collection.shareToken, $0) } ?? false
        guard isOwner || collection.isPublic || tokenMatches else { throw AppError.notFound("collection not found") }
        let items = try await shared.items(of: collection, forOwner: isOwner).map { shared in
            CollectionItemResponse(
                id: shared.media.id.lowercasedString, title: shared.media.title,
                originalFilename: shared.media.originalFilename, mimeType: shared.media.mimeType,
                status: shared.media.status,
                streamURL: try self.shared.streamURL(shared.media, viewerMayHaveOriginal: isOwner),
                addedAt: shared.item.addedAt, position: shared.item.position, sizeBytes: shared.media.sizeBytes,
                durationSeconds: shared.media.durationSeconds, width: shared.media.width, height: shared.media.height,
                createdAt: shared.media.createdAt, tags: isOwner ? shared.media.tags : nil,
                thumbnailURL: try self.shared.thumbnailURL(shared.media), originalURL: nil, downloadURL: nil,
                renditions: try self.shared.renditions(shared.media))
        }
        return CollectionDetailResponse(
            collection: collection, isOwner: isOwner, showsShareToken: context.user?.holds(.sharesRead) ?? false,
            items: items)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> CollectionResponse {
        let user = try context.requireUser()
        let id = try CollectionRules.uuid(context.parameters.get("id"), notFound: "collection not found")
        let body = try await request.decodeJSON(as: UpdateCollectionRequest.self, context: context)
        let changes = CollectionChanges(
            title: try body.title.map(CollectionRules.title), description: try body.description.map(CollectionRules.description),
            cover: body.cover)
        guard let record = try await repository.update(id: id, ownerID: user.id, changes: changes) else {
            throw AppError.notFound("collection not found")
        }
        return CollectionResponse(record, caller: user)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let user = try context.requireUser()
        let id = try CollectionRules.uuid(context.parameters.get("id"), notFound: "collection not found")
        guard try await repository.delete(id: id, ownerID: user.id) else { throw AppError.notFound("collection not found") }
        return SuccessResponse()
    }

    // MARK: Items

    /// Only the owner's own media goes in; adding it again is harmless.
    @Sendable func addMedia(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let collection = try await ownedCollection(context)
        let body = try await request.decodeJSON(as: AddMediaRequest.self, context: context)
        let mediaID = try CollectionRules.uuid(body.mediaID, notFound: "media not found")
        guard try await catalog.mediaOwned(by: collection.ownerID, among: [mediaID]).contains(mediaID) else {
            throw AppError.notFound("media not found")
        }
        _ = try await repository.addItem(collectionID: collection.id, mediaID: mediaID)
        return SuccessResponse()
    }

    @Sendable func removeMedia(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let collection = try await ownedCollection(context)
        let mediaID = try CollectionRules.uuid(context.parameters.get("mediaID"), notFound: "media not found")
        guard try await repository.removeItem(collectionID: collection.id, mediaID: mediaID) else {
            throw AppError.notFound("media is not in this collection")
        }
        return SuccessResponse()
    }

    /// Manual order: the listed items first, in the given order; the rest follow, newest added first.
    @Sendable func setOrder(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let collection = try await ownedCollection(context)
        let body = try await request.decodeJSON(as: OrderRequest.self, context: context)
        guard body.mediaIDs.count <= CollectionRules.maxItemsPerOrder else {
            throw AppError.invalidArgument("media_ids may list at most \(CollectionRules.maxItemsPerOrder) items")
        }
        let ids = try body.mediaIDs.map { raw -> UUID in
            guard let id = UUID(uuidString: raw) else {
                throw AppError.invalidArgument("media_ids must hold media ids", details: ["field": "media_ids"])
            }
            return id
        }
        guard Set(ids).count == ids.count else { throw AppError.invalidArgument("media_ids must not repeat an item") }
        let unknown = try await repository.setOrder(collectionID: collection.id, mediaIDs: ids)
        guard unknown.isEmpty else {
            throw AppError.invalidArgument(
                "media_ids lists items that are not in this collection",
                details: ["unknown_media_ids": .array(unknown.map { .string($0.lowercasedString) })])
        }
        return SuccessResponse()
    }

    // MARK: Sharing

    /// The original's sharing switch: `is_public`, and a new token that revokes the old one at once.
    @Sendable func share(_ request: Request, context: AppRequestContext) async throws -> ShareResponse {
        let user = try context.requireUser()
        let id = try CollectionRules.uuid(context.parameters.get("id"), notFound: "collection not found")
        let body = try await request.decodeJSON(as: ShareRequest.self, context: context)
        guard let record = try await repository.updateSharing(
            id: id, ownerID: user.id, isPublic: body.isPublic, regenerateToken: body.regenerateToken ?? false)
        else { throw AppError.notFound("collection not found") }
        return ShareResponse(
            isPublic: record.isPublic, shareToken: record.shareToken,
            shareURL: "/collection/\(record.id.lowercasedString)?token=\(record.shareToken)",
            pageURL: shared.pageURL(token: record.shareToken))
    }

    @Sendable func createLink(_ request: Request, context: AppRequestContext) async throws -> ShareLinkResponse {
        let collection = try await ownedCollection(context)
        let body = try await request.decodeJSON(as: CreateLinkRequest.self, context: context)
        let now = shared.now()
        let expiry = try expiry(
            expiresAt: body.expiresAt, expiresInDays: body.expiresInDays, neverExpires: body.neverExpires, now: now)
        let label = try CollectionRules.label(body.label)
        var passwordHash: String?
        if let password = body.password {
            try SharePassword.validate(password)
            passwordHash = try await SharePassword.hash(password)
        }
        let link = try await repository.createLink(
            collectionID: collection.id,
            NewShareLink(
                label: label, expiresAt: expiry, passwordHash: passwordHash, allowDownload: body.allowDownload ?? false,
                showMetadata: body.showMetadata ?? false, showLocation: body.showLocation ?? false))
        return ShareLinkResponse(link: link, url: shared.pageURL(token: link.token), now: now)
    }

    @Sendable func listLinks(_ request: Request, context: AppRequestContext) async throws -> ShareLinkListResponse {
        let collection = try await ownedCollection(context)
        let now = shared.now()
        return ShareLinkListResponse(
            links: try await repository.links(collectionID: collection.id).map {
                ShareLinkResponse(link: $0, url: shared.pageURL(token: $0.token), now: now)
            })
    }

    /// Extends or shortens the expiry, sets or removes the password, toggles downloads; the URL stays the same.
    /// A new password ends every unlock of the old one.
    @Sendable func updateLink(_ request: Request, context: AppRequestContext) async throws -> ShareLinkResponse {
        let collection = try await ownedCollection(context)
        let linkID = try CollectionRules.uuid(context.parameters.get("linkID"), notFound: "share link not found")
        let body = try await request.decodeJSON(as: UpdateLinkRequest.self, context: context)
        guard let existing = try await repository.link(collectionID: collection.id, linkID: linkID) else {
            throw AppError.notFound("share link not found")
        }
        guard existing.revokedAt == nil else { throw AppError.failedPrecondition("this share link has been revoked") }
        let now = shared.now()
        var changes = ShareLinkChanges(
            allowDownload: body.allowDownload, showMetadata: body.showMetadata, showLocation: body.showLocation)
        if let label = body.label { changes.label = .some(try label.flatMap(CollectionRules.label)) }
        if body.changesExpiry {
            changes.expiresAt = .some(try expiry(
                expiresAt: body.expiresAt, expiresInDays: body.expiresInDays, neverExpires: body.neverExpires, now: now))
        }
        if let password = body.password {
            if let password {
                try SharePassword.validate(password)
                changes.passwordHash = .some(try await SharePassword.hash(password))
            } else {
                changes.passwordHash = .some(nil)
            }
        }
        guard let link = try await repository.updateLink(collectionID: collection.id, linkID: linkID, changes) else {
            throw AppError.notFound("share link not found")
        }
        return ShareLinkResponse(link: link, url: shared.pageURL(token: link.token), now: now)
    }

    @Sendable func revokeLink(_ request: Request, context: AppRequestContext) async throws -> SuccessResponse {
        let collection = try await ownedCollection(context)
        let linkID = try CollectionRules.uuid(context.parameters.get("linkID"), notFound: "share link not found")
        guard try await repository.revokeLink(collectionID: collection.id, linkID: linkID) else {
            throw AppError.notFound("share link not found")
        }
        return SuccessResponse()
    }

    // MARK: Helpers

    /// The signed-in user's collection named in the path; anyone else's answers like a missing one.
    func ownedCollection(_ context: AppRequestContext) async throws -> CollectionRecord {
        let user = try context.requireUser()
        let id = try CollectionRules.uuid(context.parameters.get("id"), notFound: "collection not found")
        guard let collection = try await repository.find(id: id), collection.ownerID == user.id else {
            throw AppError.notFound("collection not found")
        }
        return collection
    }

    /// A link's expiry from the request's `expires_at` (RFC 3339), `expires_in_days` or `never_expires`.
    func expiry(expiresAt raw: String?, expiresInDays: Int?, neverExpires: Bool?, now: Date) throws -> Date? {
        let expiresAt = try raw.map { raw -> Date in
            guard let date = RFC3339.date(from: raw) else {
                throw AppError.invalidArgument("expires_at must be an RFC 3339 timestamp", details: ["field": "expires_at"])
            }
            return date
        }
        return try CollectionRules.expiry(
            expiresAt: expiresAt, expiresInDays: expiresInDays, neverExpires: neverExpires ?? false,
            defaultExpiry: shared.configuration.defaultLinkExpiry, now: now)
    }
}
