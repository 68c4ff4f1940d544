import Foundation
import MediaVaultCore

/// MIME type checks.
public enum MimeType {
    static let tokenCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-")

    /// `type/subtype` with RFC 6838 characters, lowercased; parameters (`; charset=…`) are dropped.
    public static func normalise(_ raw: String) -> String? {
        let base = raw.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let value = base.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, value.count <= 127,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(tokenCharacters.contains) })
        else { return nil }
        return value
    }

    public static func isValidPattern(_ pattern: String) -> Bool {
        if pattern.hasSuffix("/*") { return normalise(String(pattern.dropLast()) + "x") != nil }
        return normalise(pattern) == pattern
    }

    public static func isAllowed(_ type: String, by patterns: [String]) -> Bool {
        patterns.contains { pattern in
            pattern.hasSuffix("/*") ? type.hasPrefix(String(pattern.dropLast())) : type == pattern
        }
    }
}

/// File names: kept as given for display, reduced to a safe form for storage keys.
public enum FileName {
    public static func validateDisplayName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw AppError.invalidArgument("filename is required") }
        guard name.utf8.count <= 255 else { throw AppError.invalidArgument("filename must be at most 255 bytes") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AppError.invalidArgument("filename must not contain control characters")
        }
        return name
    }

    /// ASCII letters, digits, `.`, `-`, `_`; everything else becomes `_`; never empty, never a dot-file.
    public static func safeKeyComponent(_ name: String) -> String {
        let lastComponent = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? name
        var safe = ""
        for scalar in lastComponent.unicodeScalars {
            let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
            let character = allowed ? Character(scalar) : "_"
            if character == "_" && safe.hasSuffix("_") { continue }
            safe.append(character)
        }
        while safe.hasPrefix(".") || safe.hasPrefix("_") { safe.removeFirst() }
        if safe.count > 100 {
            let ext = safe.split(separator: ".").last.map { "." + $0 } ?? ""
            safe = String(safe.prefix(100 - min(ext.count, 20))) + String(ext.prefix(20))
        }
        return safe.isEmpty || safe == "." ? "file" : safe
    }
}

/// Tag normalisation: trimmed, lowercased, inner whitespace collapsed; letters, digits, space, `-`, `_`, `.`, `:`.
public enum Tag {
    public static let maxLength = 50

    public static func normalise(_ raw: String) throws -> String {
        let collapsed = raw.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").lowercased()
        guard !collapsed.isEmpty else { throw AppError.invalidArgument("tags must not be empty") }
        guard collapsed.count <= maxLength else {
            throw AppError.invalidArgument("tag \"\(collapsed.prefix(20))…\" is longer than \(maxLength) characters")
        }
        guard collapsed.allSatisfy({ $0.isLetter || $0.isNumber || " -_.:".contains($0) }) else {
            throw AppError.invalidArgument(
                "tag \"\(collapsed)\" may only contain letters, digits, spaces, '-', '_', '.' and ':'")
        }
        return collapsed
    }
}

/// Sort orders of the media list.
public enum MediaSort: String, Sendable, CaseIterable {
    case newest = "created_at_desc"
    case oldest = "created_at_asc"
    case titleAscending = "title_asc"
    case titleDescending = "title_desc"
    case largest = "size_desc"
    case smallest = "size_asc"
    /// By capture time; items without one come last either way.
    case takenNewest = "taken_at_desc"
    case takenOldest = "taken_at_asc"

    /// The same order over `media.tags t` (whose rows carry their item's creation time), where the tag's index
    /// has it; `nil` for orders by other columns.
    var tagIndexOrder: String? {
        switch self {
        case .newest: return "t.item_created_at DESC, t.media_id DESC"
        case .oldest: return "t.item_created_at ASC, t.media_id ASC"
        default: return nil
        }
    }

    /// Fixed SQL fragments (never caller text); `id` breaks ties so pages are stable.
    var orderBy: String {
        switch self {
        case .newest: return "i.created_at DESC, i.id DESC"
        case .oldest: return "i.created_at ASC, i.id ASC"
        case .titleAscending: return "lower(i.title) ASC, i.id ASC"
        case .titleDescending: return "lower(i.title) DESC, i.id DESC"
        case .largest: return "i.size_bytes DESC, i.id DESC"
        case .smallest: return "i.size_bytes ASC, i.id ASC"
        case .takenNewest: return "i.taken_at DESC NULLS LAST, i.id DESC"
        case .takenOldest: return "i.taken_at ASC NULLS LAST, i.id ASC"
        }
    }
}

/// The storage layout: originals by owner and media id, everything made from them beside the media id.
public enum MediaObjectKeys {
    public static func original(ownerID: UUID, mediaID: UUID, filename: String) -> String {
        "original/\(ownerID.uuidString.lowercased())/\(mediaID.uuidString.lowercased())/\(FileName.safeKeyComponent(filename))"
    }

    public static func processed(mediaID: UUID) -> String { "processed/\(mediaID.uuidString.lowercased()).mp4" }
    public static func compatibility(mediaID: UUID) -> String {
        "processed/\(mediaID.uuidString.lowercased()).h264.mp4"
    }
    public static func thumbnail(mediaID: UUID) -> String { "thumbnails/\(mediaID.uuidString.lowercased()).jpg" }
    public static func preview(mediaID: UUID) -> String { "previews/\(mediaID.uuidString.lowercased()).jpg" }

    /// Where a processing job of this media writes its outputs.
    public static func processingOutputs(mediaID: UUID) -> ProcessingOutputKeys {
        ProcessingOutputKeys(
            processed: processed(mediaID: mediaID), compatibility: compatibility(mediaID: mediaID),
            thumbnail: thumbnail(mediaID: mediaID), preview: preview(mediaID: mediaID))
    }
}

/// Multipart sizing rules shared by S3 and the filesystem store.
public enum MultipartRules {
    public static let minimumPartSize: Int64 = 5 << 20
    public static let maximumPartSize: Int64 = 5 << 30
    public static let maximumParts = 10_000
    public static let defaultPartSize: Int64 = 16 << 20

    /// The part size to use: the requested one (validated) or the smallest power-of-two multiple of 16 MiB that
    /// keeps the part count within the limit.
    public static func partSize(for totalSize: Int64, requested: Int64?) throws -> Int64 {
        if let requested {
            guard (minimumPartSize...maximumPartSize).contains(requested) else {
                throw AppError.invalidArgument("part_size must be between 5 MiB and 5 GiB")
            }
            guard (totalSize + requested - 1) / requested <= Int64(maximumParts) else {
                throw AppError.invalidArgument("part_size is too small: more than 10,000 parts")
            }
            return requested
        }
        var size = defaultPartSize
        while (totalSize + size - 1) / size > Int64(maximumParts) { size *= 2 }
        return size
    }
}

/// A file's SHA-256 as clients send it: 64 hexadecimal digits, either case.
public enum ContentChecksum {
    /// How many checksums one `POST /media/checksums` may ask about.
    public static let maxPerLookup = 1000

    /// The 32 bytes of a hex SHA-256, or `invalid_argument` naming `field`.
    public static func sha256(_ hex: String, field: String = "sha256") throws -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else {
            throw AppError.invalidArgument(
                "\(field) must be a SHA-256 in hex (64 digits)", details: ["field": .string(field)])
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else {
                throw AppError.invalidArgument(
                    "\(field) must be a SHA-256 in hex (64 digits)", details: ["field": .string(field)])
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }


    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
