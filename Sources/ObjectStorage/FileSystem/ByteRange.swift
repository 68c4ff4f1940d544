/// A satisfiable single byte range of an object, from an HTTP `Range` header (RFC 9110 §14).
public struct ByteRange: Sendable, Hashable {
    /// The first byte.
    public let offset: Int64
    /// How many bytes, at least 1.
    public let length: Int64

    /// A range of `length` bytes starting at `offset`.
    public init(offset: Int64, length: Int64) {
        self.offset = offset
        self.length = length
    }

    /// The last byte, inclusive.
    public var lastByte: Int64 { offset + length - 1 }

    /// `bytes 0-99/1234`, the `Content-Range` of a 206 answer.
    public func contentRange(objectSize: Int64) -> String {
        "bytes \(offset)-\(lastByte)/\(objectSize)"
    }

    /// Reads a `Range` header for an object of `objectSize` bytes.
    ///
    /// Supports `bytes=a-b`, `bytes=a-` and `bytes=-n`. Returns nil when the whole object should be sent: no
    /// header, another unit, several ranges, or a malformed value (RFC 9110 lets a server ignore those).
    /// Throws ``RangeNotSatisfiable`` (answer 416) when the range is well-formed but outside the object.
    public static func parse(rangeHeader: String?, objectSize: Int64) throws(RangeNotSatisfiable) -> ByteRange? {
        guard let header = rangeHeader?.trimmingSpaces, header.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let firstText = spec[..<dash].trimmingSpaces
        let lastText = spec[spec.index(after: dash)...].trimmingSpaces

        if firstText.isEmpty {
            // Suffix range: the last n bytes.
            guard let suffixLength = Int64(digitsOnly: lastText) else { return nil }
            guard suffixLength > 0, objectSize > 0 else { throw RangeNotSatisfiable(objectSize: objectSize) }
            let length = min(suffixLength, objectSize)
            return ByteRange(offset: objectSize - length, length: length)
        }
        guard let first = Int64(digitsOnly: firstText) else { return nil }
        var last = objectSize - 1
        if !lastText.isEmpty {
            guard let parsedLast = Int64(digitsOnly: lastText), parsedLast >= first else { return nil }
            last = min(parsedLast, objectSize - 1)
        }
        guard first < objectSize else { throw RangeNotSatisfiable(objectSize: objectSize) }
        return ByteRange(offset: first, length: last - first + 1)
    }
}

/// A `Range` header asked only for bytes the object does not have: answer 416 with ``contentRange``.
public struct RangeNotSatisfiable: Error, Sendable, Hashable, CustomStringConvertible {
    /// Size of the object the range missed.
    public let objectSize: Int64

    /// The error for an object of `objectSize` bytes.
    public init(objectSize: Int64) { self.objectSize = objectSize }

    /// `bytes */1234`, the `Content-Range` a 416 answer carries.
    public var contentRange: String { "bytes */\(objectSize)" }

    public var description: String { "range not satisfiable for an object of \(objectSize) bytes" }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: Substring {
        let view = Substring(self)
        guard let first = view.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = view.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return view[first...last]
    }
}

extension Int64 {
    /// Plain decimal digits only (no sign, no spaces), without overflowing.
    fileprivate init?(digitsOnly text: Substring) {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int64(text)
        else { return nil }
        self = value
    }
}
