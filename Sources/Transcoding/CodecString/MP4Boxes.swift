// A pure reader of ISO/IEC 14496-12 (ISO BMFF) box structure over bytes already in memory.
//
// Input comes from uploaded files, so nothing here may trap: every read is bounds-checked, every size is compared
// before it is used to build a range, and recursion is bounded in depth and in the number of boxes visited.

/// A box type ("moov", "avc1", "ac-3"): four bytes read big-endian.
struct FourCC: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    let rawValue: UInt32

    init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// For literals in this module, which are always four ASCII characters.
    init(stringLiteral value: String) {
        var raw: UInt32 = 0
        for byte in value.utf8.prefix(4) {
            raw = raw << 8 | UInt32(byte)
        }
        rawValue = raw
    }

    /// The four bytes as Latin-1, so that types such as "©nam" and arbitrary garbage still print one-to-one.
    var description: String {
        var text = ""
        for shift in stride(from: 24, through: 0, by: -8) {
            text.unicodeScalars.append(Unicode.Scalar(UInt8(truncatingIfNeeded: rawValue >> shift)))
        }
        return text
    }
}

/// A bounds-checked big-endian cursor over a range of a byte array; a read past the range throws `.truncated`.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
        end = bytes.count
    }

    init(_ bytes: [UInt8], range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { throw CodecStringError.truncated }
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    var remaining: Int { end - offset }

    mutating func read<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size)
        var value: T = 0
        for byte in bytes[offset..<offset + size] {
            value = value << 8 | T(byte)
        }
        offset += size
        return value
    }

    mutating func readBytes(_ count: Int) throws -> [UInt8] {
        try require(count)
        let result = Array(bytes[offset..<offset + count])
        offset += count
        return result
    }

    mutating func skip(_ count: Int) throws {
        try require(count)
        offset += count
    }

    /// The next `count` bytes as a reader of their own; this reader moves past them.
    mutating func subReader(_ count: Int) throws -> ByteReader {
        try require(count)
        let sub = try ByteReader(bytes, range: offset..<offset + count)
        offset += count
        return sub
    }

    private func require(_ count: Int) throws {
        guard count >= 0, count <= remaining else { throw CodecStringError.truncated }
    }
}

/// The fixed part of a box: its type, how long the header is, and the size of the whole box.
struct BoxHeader: Sendable, Equatable {
    var type: FourCC
    /// 8, or 16 with a 64-bit size, plus 16 for a `uuid` box's extended type.
    var headerLength: Int
    /// The whole box including its header; a declared size of 0 has already been resolved to "all that remains".
    var size: UInt64
}

/// One parsed box. `payload` is where its bytes after the header lie in the buffer it was parsed from; `children`
/// is filled only for the boxes this reader knows to be containers (and for the sample entries it understands).
struct MP4Box: Sendable, Equatable {
    var type: FourCC
    var payload: Range<Int>
    var children: [MP4Box]

    func first(_ type: FourCC) -> MP4Box? {
        children.first { $0.type == type }
    }
}

/// Parsing of ISO BMFF box trees held in memory.
enum MP4Boxes {
    /// Bounds on the work one buffer can cause; a real moov stays far below both.
    struct Limits: Sendable {
        var maxDepth = 12
        var maxBoxes = 10_000
    }

    /// Boxes whose payload is nothing but child boxes. `wave` is QuickTime's wrapper around an `mp4a` entry's `esds`.
    static let containers: Set<FourCC> = ["moov", "trak", "mdia", "minf", "stbl", "wave"]
    /// Sample entries laid out as a VisualSampleEntry, whose child boxes hold the decoder configuration.
    static let visualSampleEntries: Set<FourCC> = ["avc1", "avc3", "hvc1", "hev1"]
    /// Sample entries laid out as an AudioSampleEntry whose child boxes are needed (`esds`).
    static let audioSampleEntries: Set<FourCC> = ["mp4a"]

    /// VisualSampleEntry fields between the box header and the first child box.
    static let visualSampleEntryLength = 78
    /// AudioSampleEntry fields between the box header and the first child box.
    static let audioSampleEntryLength = 28

    /// Reads the header at `offset`. `available` is the space from `offset` to the end of the enclosing box or
    /// file: it is what a declared size of 0 means. Callers compare `size` with `available` themselves, so that a
    /// caller can judge a huge declared size (too large to read) before a merely missing tail (truncated).
    static func header(_ bytes: [UInt8], at offset: Int, available: UInt64) throws -> BoxHeader {
        guard offset >= 0, offset <= bytes.count else { throw CodecStringError.truncated }
        var reader = try ByteReader(bytes, range: offset..<bytes.count)
        let size32 = try reader.read(UInt32.self)
        let type = try FourCC(rawValue: reader.read(UInt32.self))
        var size = UInt64(size32)
        if size32 == 0 {
            size = available
        } else if size32 == 1 {
            size = try reader.read(UInt64.self)
        }
        if type == "uuid" {
            try reader.skip(16)
        }
        let length = reader.offset - offset
        guard size >= UInt64(length) else {
            throw CodecStringError.malformed("'\(type)' box size \(size) is less than its \(length)-byte header")
        }
        return BoxHeader(type: type, headerLength: length, size: size)
    }

    /// The boxes that make up `range` of `bytes` (all of it by default), with known containers parsed recursively.
    static func parse(_ bytes: [UInt8], in range: Range<Int>? = nil, limits: Limits = Limits()) throws -> [MP4Box] {
        let span = range ?? bytes.indices
        guard span.lowerBound >= 0, span.upperBound <= bytes.count else { throw CodecStringError.truncated }
        var count = 0
        return try children(bytes, in: span, parent: nil, depth: 0, limits: limits, count: &count)
    }

    private static func children(
        _ bytes: [UInt8], in range: Range<Int>, parent: FourCC?, depth: Int, limits: Limits, count: inout Int
    ) throws -> [MP4Box] {
        guard depth <= limits.maxDepth else {
            throw CodecStringError.malformed("boxes nested deeper than \(limits.maxDepth) levels")
        }
        var result: [MP4Box] = []
        var offset = range.lowerBound
        while offset < range.upperBound {
            let available = range.upperBound - offset
            // Some QuickTime writers end a container with a 32-bit zero terminator instead of a box.
            if available < 8, bytes[offset..<range.upperBound].allSatisfy({ $0 == 0 }) { break }
            count += 1
            guard count <= limits.maxBoxes else {
                throw CodecStringError.malformed("more than \(limits.maxBoxes) boxes")
            }
            let boxHeader = try Self.header(bytes, at: offset, available: UInt64(available))
            guard boxHeader.size <= UInt64(available) else { throw CodecStringError.truncated }
            // Both are in range: size <= available, and headerLength <= size was checked by header().
            let end = offset + Int(boxHeader.size)
            let payload = (offset + boxHeader.headerLength)..<end
            let nested = try contents(
                of: boxHeader.type, payload: payload, parent: parent, bytes, depth: depth + 1, limits: limits,
                count: &count)
            result.append(MP4Box(type: boxHeader.type, payload: payload, children: nested))
            offset = end
        }
        return result
    }

    private static func contents(
        of type: FourCC, payload: Range<Int>, parent: FourCC?, _ bytes: [UInt8], depth: Int, limits: Limits,
        count: inout Int
    ) throws -> [MP4Box] {
        // Inside stsd the type names a codec, not a box kind: an "mp4a" inside `wave` is a plain leaf atom.
        if parent == "stsd" {
            return try sampleEntryChildren(type, payload: payload, bytes, depth: depth, limits: limits, count: &count)
        }
        if type == "stsd" {
            var reader = try ByteReader(bytes, range: payload)
            _ = try reader.read(UInt32.self)  // version and flags
            let entryCount = try reader.read(UInt32.self)
            let entries = try children(
                bytes, in: reader.offset..<payload.upperBound, parent: type, depth: depth, limits: limits,
                count: &count)
            guard UInt64(entries.count) >= UInt64(entryCount) else {
                throw CodecStringError.malformed("stsd declares \(entryCount) entries but holds \(entries.count)")
            }
            // entry_count <= entries.count here, so the conversion cannot fail.
            return Array(entries.prefix(Int(entryCount)))
        }
        if containers.contains(type) {
            return try children(bytes, in: payload, parent: type, depth: depth, limits: limits, count: &count)
        }
        return []
    }

    private static func sampleEntryChildren(
        _ type: FourCC, payload: Range<Int>, _ bytes: [UInt8], depth: Int, limits: Limits, count: inout Int
    ) throws -> [MP4Box] {
        let candidates: [Int]
        if visualSampleEntries.contains(type) {
            candidates = [visualSampleEntryLength]
        } else if audioSampleEntries.contains(type) {
            candidates = try audioFieldLengths(payload: payload, bytes)
        } else {
            // Entries this reader cannot name are kept as leaves: their layout is unknown, so are their children.
            return []
        }
        var failure: any Error = CodecStringError.truncated
        for length in candidates {
            guard length <= payload.count else {
                failure = CodecStringError.truncated
                continue
            }
            do {
                return try children(
                    bytes, in: (payload.lowerBound + length)..<payload.upperBound, parent: type, depth: depth,
                    limits: limits, count: &count)
            } catch {
                failure = error
            }
        }
        throw failure
    }

    /// Where an audio entry's child boxes may start. QuickTime sound descriptions of version 1 and 2 append 16 and
    /// 36 bytes to the ISO layout, while ISO's own AudioSampleEntryV1 keeps it; a version-1 entry is therefore tried
    /// both ways, QuickTime's first.
    private static func audioFieldLengths(payload: Range<Int>, _ bytes: [UInt8]) throws -> [Int] {
        var reader = try ByteReader(bytes, range: payload)
        try reader.skip(8)  // reserved(6), data_reference_index(2)
        switch try reader.read(UInt16.self) {
        case 1: return [audioSampleEntryLength + 16, audioSampleEntryLength]
        case 2: return [audioSampleEntryLength + 36]
        default: return [audioSampleEntryLength]
        }
    }
}
