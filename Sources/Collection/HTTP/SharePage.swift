import Foundation
import MediaVaultCore
import Mustache

/// The share page's Mustache templates (`Templates/*.mustache`, compiled into the module), parsed once.
struct SharePageTemplates: Sendable {
    /// Every template, so that each can include the others as partials (`share-head`).
    let library: MustacheLibrary
    let gallery: MustacheTemplate
    let message: MustacheTemplate
    let passwordForm: MustacheTemplate
    let item: MustacheTemplate
    /// Items already rendered, shared by every request: a link's viewers see the same items again and again.
    fileprivate let renderedItems = FragmentCache<SharePage.ItemView>(limit: 20_000)

    /// How many rendered items are kept.
    var renderedItemCount: Int { renderedItems.count }

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
        // Before parsing: the templates name it in their CONTENT_TYPE pragma.
        MustacheContentTypes.register(ShareHTML(), named: ShareHTML.name)
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
            library: MustacheLibrary(templates: parsed),
            gallery: parsed["share-gallery"]!,
            message: parsed["share-message"]!,
            passwordForm: parsed["share-password"]!,
            item: parsed["share-item"]!
        )
    }

    /// One gallery item's HTML: escaped by the item template, so the gallery inserts it as it is.
    fileprivate func render(_ view: SharePage.ItemView) -> String {
        renderedItems.value(for: view) { item.render($0, library: library) }
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

/// Rendered gallery items by everything they show. An item's HTML depends only on its view (which includes the
/// link's token and whether downloads are allowed), so it can be reused across requests for as long as nothing about
/// the item changes; a change makes a different view, hence a different entry. Bounded: when full it starts over.
final class FragmentCache<Key: Hashable>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Key: String] = [:]
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// The cached fragment for `key`, made by `make` on a miss. Two requests missing at once both render; the
    /// result is the same either way.
    func value(for key: Key, make: (Key) -> String) -> String {
        if let cached = lock.withLock({ entries[key] }) { return cached }
        let fragment = make(key)
        lock.withLock {
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = fragment
        }
        return fragment
    }

    var count: Int { lock.withLock { entries.count } }
}

/// HTML escaping for every `{{variable}}` of the share page's templates (their `CONTENT_TYPE` pragma names it).
///
/// Mustache's own HTML type escapes `Character` by `Character`: slow on a page of hundreds of items, and blind to a
/// quote that a combining mark makes part of a larger `Character`. This works on UTF-8 bytes, where multi-byte
/// sequences never contain ASCII bytes, so exactly `& < > " '` change; text without them is returned as it is.
struct ShareHTML: MustacheContentType {
    static let name = "SHARE_HTML"

    func escapeText(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: Self.needsEscaping) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 32)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
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
        /// Processed into HEVC before renditions were recorded: only the HEVC stream and the original are known.
        let hasProcessedVideo: Bool
        let hasThumbnail: Bool
        let durationSeconds: Double?
        /// Playable files best first, each with its exact type (from the media's renditions).
        var renditions: [Rendition] = []
        /// "Taken … · camera", only when the link shows capture details.
        var details: String?
        /// "lat, lon", only when the link shows the place.
        var place: String?
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
        title: String,
        description: String,
        pageNumber: Int,
        pageCount: Int,
        total: Int,
        items: [Item],
        allowDownload: Bool,
        expiresAt: Date?
    ) -> String {
        var meta = "\(total) \(total == 1 ? "item" : "items")"
        if pageCount > 1 { meta += " · page \(pageNumber) of \(pageCount)" }
        if let expiresAt { meta += " · link expires \(Self.day(expiresAt))" }
        let view = GalleryView(
            title: title,
            nonce: nonce,
            description: description.isEmpty ? nil : description,
            meta: meta,
            isCollectionEmpty: total == 0,
            isPageEmpty: total > 0 && items.isEmpty,
            itemsHTML: items.map { templates.render(itemView($0, allowDownload: allowDownload)) }.joined(),
            downloadsAsUploaded: allowDownload,
            isPaged: pageCount > 1,
            previousPage: pageNumber > 1 ? min(pageNumber - 1, pageCount) : nil,
            nextPage: pageNumber < pageCount ? pageNumber + 1 : nil
        )
        return templates.gallery.render(view, library: templates.library)
    }

    func passwordForm(error: String?) -> String {
        let view = PasswordView(
            title: "Password required",
            nonce: nonce,
            error: error,
            action: selfReference
        )
        return templates.passwordForm.render(view, library: templates.library)
    }

    func message(title: String, text: String) -> String {
        let view = MessageView(title: title, nonce: nonce, text: text)
        return templates.message.render(view, library: templates.library)
    }

    private func itemView(_ item: Item, allowDownload: Bool) -> ItemView {
        let kind = item.mimeType.split(separator: "/").first.map(String.init) ?? ""
        let base = selfReference + "/items/" + item.id
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
            id: item.id,
            title: item.title,
            kind: kind,
            mimeType: item.mimeType,
            base: base,
            showsPlayer: preview == .player,
            showsStill: preview == .still,
            showsImage: preview == .image,
            showsAudio: preview == .audio,
            showsPlaceholder: preview == .placeholder,
            poster: item.hasThumbnail ? base + "/thumbnail" : nil,
            sources: Self.sources(item),
            duration: item.durationSeconds.map(Self.clock),
            isProcessing: isProcessing,
            isFailed: isFailed,
            showsDownload: allowDownload, details: item.details, place: item.place
        )
    }

    /// A playable file of an item: which of its routes serves it, and its full type.
    struct Rendition: Sendable, Hashable {
        let kind: RenditionKind
        let mimeType: String
    }

    /// One `<source>`: `<token>/items/<id>/<variant>` and the type a browser decides by.
    fileprivate struct Source: Hashable, MustacheParent {
        let variant: String
        let type: String

        func child(named name: String) -> Any? {
            switch name {
            case "variant": return variant
            case "type": return type
            default: return nil
            }
        }
    }

    /// Recorded renditions, best first, each under its exact codecs (HEVC, then H.264, then the original when a
    /// browser can play it). Without them (not processed yet, or processed before they were recorded), the HEVC
    /// stream if there is one and then the original under its upload type, which some browsers can still play.
    fileprivate static func sources(_ item: Item) -> [Source] {
        if item.status == .ready, !item.renditions.isEmpty {
            return item.renditions.map { rendition in
                switch rendition.kind {
                case .primary: return Source(variant: "stream", type: rendition.mimeType)
                case .compatibility: return Source(variant: "compatible", type: rendition.mimeType)
                case .original: return Source(variant: "original", type: rendition.mimeType)
                }
            }
        }
        let hevc = item.hasProcessedVideo ? [Source(variant: "stream", type: #"video/mp4; codecs="hvc1""#)] : []
        return hevc + [Source(variant: "original", type: item.mimeType)]
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

// What the templates read, by name (each view answers through `MustacheParent`, below). An item is rendered on its
// own, so it must carry every name its template reads; inside `{{#sources}}` a name a source lacks (`base`) is
// looked up on its item.
extension SharePage {
    fileprivate enum Preview { case player, still, image, audio, placeholder }

    fileprivate final class GalleryView {
        let title: String
        let nonce: String
        let description: String?
        let meta: String
        let isCollectionEmpty: Bool
        let isPageEmpty: Bool
        /// The rendered (escaped) items, in order.
        let itemsHTML: String
        /// Downloads are the files as uploaded, metadata and all, whatever the page shows.
        let downloadsAsUploaded: Bool
        let isPaged: Bool
        let previousPage: Int?
        let nextPage: Int?

        init(
            title: String,
            nonce: String,
            description: String?,
            meta: String,
            isCollectionEmpty: Bool,
            isPageEmpty: Bool,
            itemsHTML: String,
            downloadsAsUploaded: Bool,
            isPaged: Bool,
            previousPage: Int?,
            nextPage: Int?
        ) {
            self.title = title
            self.nonce = nonce
            self.description = description
            self.meta = meta
            self.isCollectionEmpty = isCollectionEmpty
            self.isPageEmpty = isPageEmpty
            self.itemsHTML = itemsHTML
            self.downloadsAsUploaded = downloadsAsUploaded
            self.isPaged = isPaged
            self.previousPage = previousPage
            self.nextPage = nextPage
        }
    }

    fileprivate struct ItemView: Hashable {
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
        /// The video's `<source>` elements, in the order a browser should try them.
        let sources: [Source]
        let duration: String?
        let isProcessing: Bool
        let isFailed: Bool
        let showsDownload: Bool
        let details: String?
        let place: String?
    }

    fileprivate final class PasswordView {
        let title: String
        let nonce: String
        let error: String?
        let action: String

        init(
            title: String,
            nonce: String,
            error: String?,
            action: String
        ) {
            self.title = title
            self.nonce = nonce
            self.error = error
            self.action = action
        }
    }

    fileprivate final class MessageView {
        let title: String
        let nonce: String
        let text: String

        init(
            title: String,
            nonce: String,
            text: String
        ) {
            self.title = title
            self.nonce = nonce
            self.text = text
        }
    }
}

// Lookups by name instead of through `Mirror`, which swift-mustache would otherwise build for every variable of every
// item. The page views are classes because every lookup copies the view out of an `Any`: a reference is one retain,
// a struct of a dozen strings a dozen. Items stay values: they are the keys of the rendered-items cache.
extension SharePage.GalleryView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": return title
        case "nonce": return nonce
        case "description": return description
        case "meta": return meta
        case "isCollectionEmpty": return isCollectionEmpty
        case "isPageEmpty": return isPageEmpty
        case "itemsHTML": return itemsHTML
        case "isPaged": return isPaged
        case "downloadsAsUploaded": return downloadsAsUploaded
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
        case "sources": return sources
        case "duration": return duration
        case "isProcessing": return isProcessing
        case "isFailed": return isFailed
        case "showsDownload": return showsDownload
        case "details": return details
        case "place": return place
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
