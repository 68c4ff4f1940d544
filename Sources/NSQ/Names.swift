/// Topic and channel name rules shared by nsqd and clients.
public enum NSQNames {
    /// Suffix that makes a topic or channel ephemeral: nsqd drops it, and its messages, when unused.
    public static let ephemeralSuffix = "#ephemeral"

    /// Whether nsqd accepts `name` as a topic: 1–64 characters of `[.a-zA-Z0-9_-]`, optionally ending in `#ephemeral`.
    public static func isValidTopicName(_ name: String) -> Bool {
        isValidName(name)
    }

    /// Whether nsqd accepts `name` as a channel; the rules are the same as for topics.
    public static func isValidChannelName(_ name: String) -> Bool {
        isValidName(name)
    }

    private static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        // The length limit includes the `#ephemeral` suffix.
        guard (1...64).contains(bytes.count) else { return false }
        var stem = bytes[...]
        if name.hasSuffix(ephemeralSuffix) {
            stem = bytes.dropLast(ephemeralSuffix.utf8.count)
        }
        return !stem.isEmpty && stem.allSatisfy(isNameByte)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
