import Foundation
import MediaVaultCore
import Mustache

/// The share page's Mustache templates (`Templates/*.mustache`, compiled into the module), parsed once.
struct SharePageTemplates: Sendable {
    /// Every template, so that each can include the others as partials (`share-head`, `share-item`).
    let library: MustacheLibrary
    let gallery: MustacheTemplate
    let message: MustacheTemplate
    let passwordForm: MustacheTemplate

    static let names = ["share-head", "share-item", "share-gallery", "share-message", "share-password"]

    /// The templates shipped with the module. They are part of the build, not of the configuration, and a test
    /// parses them, so a failure here is a build defect.
    static func bundled() -> SharePageTemplates {
        let sources = [
            "share-head": PackageResources.share_head_mustache, "share-item": PackageResources.share_item_mustache,
            "share-gallery": PackageResources.share_gallery_mustache,
            "share-message": PackageResources.share_message_mustache,
            "share-password": PackageResources.share_password_mustache,
        ].mapValues { String(decoding: $0, as: UTF8.self) }
        do {
            return try load(sources)
        } catch {
            fatalError("the share page templates do not parse: \(error)")
        }
    }

    /// Parses templates given by name; a missing one is an error (a partial that is not there would silently
    /// render as nothing).
    static func load(_ sources: [String: String]) throws -> SharePageTemplates {
        var parsed: [String: MustacheTemplate] = [:]
        for name in names {
            guard let source = sources[name] else { throw TemplateError(file: name, underlying: MissingTemplate()) }
            do {
                parsed[name] = try MustacheTemplate(string: source)
            } catch {
                throw TemplateError(file: name, underlying: error)
            }
        }
        // Partials are included by these names (`{{> share-head}}`).
        return SharePageTemplates(
            library: MustacheLibrary(templates: parsed), gallery: parsed["share-gallery"]!,
            message: parsed["share-message"]!, passwordForm: parsed["share-password"]!)
    }

    struct MissingTemplate: Error, CustomStringConvertible {
        var description: String { "missing" }
    }

    /// A template that could not be read or parsed; Mustache's own parser error does not name the file.
    struct TemplateError: Error, CustomStringConvertible {
        let file: String
        let underlying: any Error
        var description: String { "\(file): \(underlying)" }
    }
}

/// The public share page: server-rendered, no scripts, every user-supplied string escaped by Mustache. Media is
/// reached through `/s/<token>/items/<id>/<variant>`, which checks the link again and redirects to a fresh presigned
/// URL.
struct SharePage: Sendable {
    /// One item as the page needs it.
    struct Item: Sendable {
        let id: String
        let title: String
        let mimeType: String
        let status: MediaStatus
        let hasProcessedVideo: Bool
        let hasThumbnail: Bool
        let durationSeconds: Double?
    }

    let token: String
    let nonce: String
    let templates: SharePageTemplates
    /// The page's own URL relative to itself (`/s/<token>` resolves `<token>` to itself). Every link on the page is
    /// relative, so the page keeps working when a proxy serves the API under a path prefix (`API_BASE_URL`).
    var selfReference: String { token }

    /// Content-Security-Policy: nothing but our own styles (by nonce), images and media from here or storage.
    static func contentSecurityPolicy(nonce: String, storageOrigin: String?) -> String {
        let media = ["'self'", storageOrigin].compactMap { $0 }.joined(separator: " ")
        return "default-src 'none'; img-src \(media); media-src \(media); style-src 'nonce-\(nonce)'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    /// One page of the gallery; `total` counts every item viewers may see, over all pages.
    func gallery(
        title: String, description: String, pageNumber: Int, pageCount: Int, total: Int, items: [Item],
        allowDownload: Bool, expiresAt: Date?
    ) -> String {
        var meta = "\(total) \(total == 1 ? "item" : "items")"
        if pageCount > 1 { meta += " · page \(pageNumber) of \(pageCount)" }
        if let expiresAt { meta += " · link expires \(Self.day(expiresAt))" }
        let view = GalleryView(
            title: Self.escapable(title), nonce: nonce,
            description: description.isEmpty ? nil : Self.escapable(description), meta: meta,
            isCollectionEmpty: total == 0, isPageEmpty: total > 0 && items.isEmpty,
            items: items.map { itemView($0, allowDownload: allowDownload) }, isPaged: pageCount > 1,
            previousPage: pageNumber > 1 ? min(pageNumber - 1, pageCount) : nil,
            nextPage: pageNumber < pageCount ? pageNumber + 1 : nil)
        return templates.gallery.render(view, library: templates.library)
    }

    func passwordForm(error: String?) -> String {
        let view = PasswordView(
            title: "Password required", nonce: nonce, error: error.map(Self.escapable),
            action: Self.escapable(selfReference))
        return templates.passwordForm.render(view, library: templates.library)
    }

    func message(title: String, text: String) -> String {
        let view = MessageView(title: Self.escapable(title), nonce: nonce, text: Self.escapable(text))
        return templates.message.render(view, library: templates.library)
    }

    private func itemView(_ item: Item, allowDownload: Bool) -> ItemView {
        let kind = item.mimeType.split(separator: "/").first.map(String.init) ?? ""
        let base = Self.escapable(selfReference) + "/items/" + Self.escapable(item.id)
        let preview: Preview
        var isProcessing = false
        var isFailed = false
        switch kind {
        case "video":
            switch item.status {
            case .ready:
                preview = .player
            case .uploading, .queued, .processing:
                // The original plays meanwhile, where the browser can.
                preview = .player
                isProcessing = true
            case .failed:
                preview = item.hasThumbnail ? .still : .placeholder
                isFailed = true
            }
        case "image": preview = .image
        case "audio": preview = .audio
        default: preview = .placeholder
        }
        return ItemView(
            id: Self.escapable(item.id), title: Self.escapable(item.title), kind: Self.escapable(kind),
            mimeType: Self.escapable(item.mimeType), base: base,
            showsPlayer: preview == .player, showsStill: preview == .still, showsImage: preview == .image,
            showsAudio: preview == .audio, showsPlaceholder: preview == .placeholder,
            poster: item.hasThumbnail ? base + "/thumbnail" : nil, hasStream: item.hasProcessedVideo,
            duration: item.durationSeconds.map(Self.clock), isProcessing: isProcessing, isFailed: isFailed,
            showsDownload: allowDownload)
    }

    /// swift-mustache escapes `Character` by `Character`, and a Swift `Character` is a whole grapheme cluster: a
    /// combining mark after `"` (or a prepended mark before it) makes one `Character` that is not `"`, is left as it
    /// is, and ends the attribute around it. A mark on `& < > " '` means nothing as text, so it is dropped, leaving
    /// the bare character for Mustache to escape.
    static func escapable(_ text: String) -> String {
        // ASCII clusters only as "\r\n", which holds nothing to escape: most strings return here.
        guard text.utf8.contains(where: { $0 >= 0x80 }), text.contains(where: { markup(in: $0) != nil }) else {
            return text
        }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            if let scalar = markup(in: character) {
                result.unicodeScalars.append(scalar)
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// The markup character inside a cluster of several scalars, if there is one.
    private static func markup(in character: Character) -> Unicode.Scalar? {
        guard character.unicodeScalars.count > 1 else { return nil }
        return character.unicodeScalars.first { "&<>\"'".unicodeScalars.contains($0) }
    }

    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day())
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return total >= 3600
            ? "\(total / 3600):\(twoDigits(total / 60 % 60)):\(twoDigits(total % 60))"
            : "\(total / 60):\(twoDigits(total % 60))"
    }
}

// What the templates read, by property name (swift-mustache looks stored properties up through `Mirror`). A name
// an item lacks, or holds as nil, is looked up on the gallery next, so item and gallery names must not collide
// except where both always have a value (`title`).
extension SharePage {
    fileprivate enum Preview { case player, still, image, audio, placeholder }

    fileprivate struct GalleryView {
        let title: String
        let nonce: String
        let description: String?
        let meta: String
        let isCollectionEmpty: Bool
        let isPageEmpty: Bool
        let items: [ItemView]
        let isPaged: Bool
        let previousPage: Int?
        let nextPage: Int?
    }

    fileprivate struct ItemView {
        let id: String
        let title: String
        /// The MIME type's first part, as the figure's class.
        let kind: String
        let mimeType: String
        /// `<token>/items/<id>`: the item's routes, relative to the page.
        let base: String
        let showsPlayer: Bool
        /// A failed video's thumbnail, in place of its player.
        let showsStill: Bool
        let showsImage: Bool
        let showsAudio: Bool
        let showsPlaceholder: Bool
        let poster: String?
        let hasStream: Bool
        let duration: String?
        let isProcessing: Bool
        let isFailed: Bool
        let showsDownload: Bool
    }

    fileprivate struct PasswordView {
        let title: String
        let nonce: String
        let error: String?
        let action: String
    }

    fileprivate struct MessageView {
        let title: String
        let nonce: String
        let text: String
    }
}

// Lookups by name instead of through `Mirror`, which swift-mustache would otherwise build for every variable of every
// item: the page renders in a fraction of the time.
extension SharePage.GalleryView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": return title
        case "nonce": return nonce
        case "description": return description
        case "meta": return meta
        case "isCollectionEmpty": return isCollectionEmpty
        case "isPageEmpty": return isPageEmpty
        case "items": return items
        case "isPaged": return isPaged
        case "previousPage": return previousPage
        case "nextPage": return nextPage
        default: return nil
        }
    }
}

extension SharePage.ItemView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": return id
        case "title": return title
        case "kind": return kind
        case "mimeType": return mimeType
        case "base": return base
        case "showsPlayer": return showsPlayer
        case "showsStill": return showsStill
        case "showsImage": return showsImage
        case "showsAudio": return showsAudio
        case "showsPlaceholder": return showsPlaceholder
        case "poster": return poster
        case "hasStream": return hasStream
        case "duration": return duration
        case "isProcessing": return isProcessing
        case "isFailed": return isFailed
        case "showsDownload": return showsDownload
        default: return nil
        }
    }
}

extension SharePage.PasswordView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": return title
        case "nonce": return nonce
        case "error": return error
        case "action": return action
        default: return nil
        }
    }
}

extension SharePage.MessageView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": return title
        case "nonce": return nonce
        case "text": return text
        default: return nil
        }
    }
}
