import Foundation

/// AWS's `UriEncode()`: every byte of the UTF-8 form except the unreserved `A-Z a-z 0-9 - _ . ~` becomes `%XX`
/// (uppercase hex). Spaces become `%20` (never `+`).
///
/// S3 differs from other services in one way that matters here: the object key is encoded exactly once for the
/// canonical URI and `/` stays literal in the path, so the path sent on the wire *is* the canonical URI.
public enum AWSURIEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Encodes `value`; with `keepingSlashes` (object key paths) `/` is left as is.
    public static func encode(_ value: String, keepingSlashes: Bool) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) || (keepingSlashes && byte == UInt8(ascii: "/")) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(hexDigits[Int(byte >> 4)])
                encoded.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// The path of an object key: `/`-separated, each component encoded once.
    public static func encodePath(_ key: String) -> String {
        encode(key, keepingSlashes: true)
    }

    /// Decodes `%XX` escapes (nothing else, so `+` stays `+`); nil for a malformed escape or invalid UTF-8.
    public static func decode(_ value: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        var iterator = value.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let decoded = Hex.decode(String(decoding: [high, low], as: UTF8.self))?.first
            else { return nil }
            bytes.append(decoded)
        }
        // Foundation's initializer validates UTF-8 (the stdlib's `String(validating:)` needs macOS 15).
        return String(bytes: bytes, encoding: .utf8)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
