import Foundation

/// Why an MP4 file's codec strings could not be read.
public enum CodecStringError: Error, Sendable, Equatable {
    /// The file does not start like an ISO BMFF / QuickTime file.
    case notMP4
    /// A box or field runs past the end of its enclosing box or of the file.
    case truncated
    /// The `moov` box is larger than this reader is willing to load.
    case tooLarge
    /// The structure is inconsistent; the text says where.
    case malformed(String)
}

/// The RFC 6381 `codecs` values of an MP4 file's first video and first audio track, computed from the file's own
/// sample descriptions, and the MIME type to put in an HTML `<source type=…>`.
public struct CodecStrings: Sendable, Equatable {
    /// E.g. `avc1.64001F` or `hvc1.1.6.L93.B0`; nil when there is no video track or its codec is not one this reader
    /// knows (AVC and HEVC).
    public var video: String?
    /// E.g. `mp4a.40.2`, `opus`, `flac`, `ac-3`, `ec-3`; nil when there is no audio track or its codec is unknown.
    public var audio: String?
    /// E.g. `video/mp4; codecs="hvc1.1.6.L93.B0, mp4a.40.2"`. The `codecs` parameter is left out when a video or
    /// audio track's codec is unknown: an incomplete list would let a browser claim support it may not have.
    public var mimeType: String

    /// Creates a value from its parts; `mimeType` is taken as given.
    public init(video: String?, audio: String?, mimeType: String) {
        self.video = video
        self.audio = audio
        self.mimeType = mimeType
    }

    init(video: String?, audio: String?, hasVideoTrack: Bool, hasAudioTrack: Bool) {
        self.video = video
        self.audio = audio
        let base = hasAudioTrack && !hasVideoTrack ? "audio/mp4" : "video/mp4"
        var codecs: [String] = []
        var complete = hasVideoTrack || hasAudioTrack
        for (present, value) in [(hasVideoTrack, video), (hasAudioTrack, audio)] where present {
            if let value { codecs.append(value) } else { complete = false }
        }
        mimeType = complete ? "\(base); codecs=\"\(codecs.joined(separator: ", "))\"" : base
    }

    /// The largest `moov` box `read(mp4:)` loads. Real ones are a few MiB even for hours of video; the cap keeps a
    /// hostile upload from making the reader allocate what the header claims.
    public static let maxMoovSize: UInt64 = 64 << 20

    /// Top-level box types a file may start with; anything else is not worth reading further.
    static let leadingTypes: Set<FourCC> = [
        "ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid", "pdin", "meta", "sidx", "moof",
    ]
    /// Stops a file made of millions of empty top-level boxes from costing millions of seeks.
    static let maxTopLevelBoxes = 10_000

    /// Reads the codec strings of `file`, loading only the `moov` box: top-level headers are read one by one and
    /// everything else (above all `mdat`) is seeked over, so the cost does not grow with the media data.
    ///
    /// Blocking file I/O. Throws `CodecStringError`, or the file system's error when the file cannot be opened
    /// or read.
    public static func read(mp4 file: URL) throws -> CodecStrings {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let fileSize = try handle.seekToEnd()
        var offset: UInt64 = 0
        var index = 0
        while fileSize - offset >= 8 {
            index += 1
            guard index <= maxTopLevelBoxes else {
                throw CodecStringError.malformed("no moov box within the first \(maxTopLevelBoxes) boxes")
            }
            let available = fileSize - offset
            try handle.seek(toOffset: offset)
            // 32 bytes cover the longest header: 64-bit size plus a uuid extended type.
            let headerBytes = try read(handle, count: Int(min(available, 32)))
            let header: BoxHeader
            do {
                header = try MP4Boxes.header(headerBytes, at: 0, available: available)
            } catch {
                if index == 1 { throw CodecStringError.notMP4 }
                throw error
            }
            if index == 1, !leadingTypes.contains(header.type) { throw CodecStringError.notMP4 }
            if header.type == "moov" {
                guard header.size <= maxMoovSize else { throw CodecStringError.tooLarge }
                guard header.size <= available else { throw CodecStringError.truncated }
                try handle.seek(toOffset: offset)
                let count = Int(header.size)
                let moov = try read(handle, count: count)
                guard moov.count == count else { throw CodecStringError.truncated }
                return try parse(moov: moov)
            }
            guard header.size <= available else { throw CodecStringError.truncated }
            offset += header.size
        }
        throw index == 0 ? CodecStringError.notMP4 : CodecStringError.malformed("no moov box")
    }

    /// Reads up to `count` bytes, fewer only at the end of the file.
    private static func read(_ handle: FileHandle, count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            guard let chunk = try handle.read(upToCount: count - bytes.count), !chunk.isEmpty else { break }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    /// The codec strings of a buffer holding a whole `moov` box, header included.
    static func parse(moov bytes: [UInt8]) throws -> CodecStrings {
        guard let moov = try MP4Boxes.parse(bytes).first(where: { $0.type == "moov" }) else {
            throw CodecStringError.malformed("no moov box")
        }
        var video: String?
        var audio: String?
        var hasVideoTrack = false
        var hasAudioTrack = false
        for trak in moov.children where trak.type == "trak" {
            guard let mdia = trak.first("mdia"), let hdlr = mdia.first("hdlr") else { continue }
            var reader = try ByteReader(bytes, range: hdlr.payload)
            try reader.skip(8)  // version and flags, pre_defined
            let handler = try FourCC(rawValue: reader.read(UInt32.self))
            switch handler {
            case "vide" where !hasVideoTrack:
                hasVideoTrack = true
                video = try codecString(of: try sampleEntry(mdia), bytes)
            case "soun" where !hasAudioTrack:
                hasAudioTrack = true
                audio = try codecString(of: try sampleEntry(mdia), bytes)
            default:
                continue
            }
        }
        return CodecStrings(video: video, audio: audio, hasVideoTrack: hasVideoTrack, hasAudioTrack: hasAudioTrack)
    }

    /// A track's first sample description; a media track without one cannot be decoded at all.
    private static func sampleEntry(_ mdia: MP4Box) throws -> MP4Box {
        guard let stsd = mdia.first("minf")?.first("stbl")?.first("stsd") else {
            throw CodecStringError.malformed("track without minf/stbl/stsd")
        }
        guard let entry = stsd.children.first else { throw CodecStringError.malformed("stsd without entries") }
        return entry
    }

    /// The codec string of one sample entry, or nil for codecs this reader does not know.
    static func codecString(of entry: MP4Box, _ bytes: [UInt8]) throws -> String? {
        func configuration(_ type: FourCC, in box: MP4Box? = nil) throws -> [UInt8] {
            guard let config = (box ?? entry).first(type) else {
                throw CodecStringError.malformed("'\(entry.type)' sample entry without \(type)")
            }
            guard config.payload.upperBound <= bytes.count else { throw CodecStringError.truncated }
            return Array(bytes[config.payload])
        }
        switch entry.type {
        case "avc1", "avc3":
            return try avcString(fourCC: entry.type, avcC: try configuration("avcC"))
        case "hvc1", "hev1":
            return try hevcString(fourCC: entry.type, hvcC: try configuration("hvcC"))
        case "mp4a":
            // QuickTime puts the esds inside a `wave` box rather than directly in the entry.
            let holder = entry.first("esds") == nil ? entry.first("wave") : nil
            return try mp4aString(esds: try configuration("esds", in: holder))
        case "Opus":
            return "opus"
        case "fLaC":
            return "flac"
        case "ac-3", "ec-3":
            return entry.type.description
        default:
            return nil
        }
    }

    // MARK: Decoder configurations

    /// `<fourcc>.PPCCLL` (RFC 6381 §3.3): AVCProfileIndication, profile_compatibility and AVCLevelIndication of an
    /// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1), as uppercase hex.
    static func avcString(fourCC: FourCC, avcC: [UInt8]) throws -> String {
        var reader = ByteReader(avcC)
        let version = try reader.read(UInt8.self)
        guard version == 1 else { throw CodecStringError.malformed("avcC configurationVersion \(version)") }
        let profile = try reader.read(UInt8.self)
        let compatibility = try reader.read(UInt8.self)
        let level = try reader.read(UInt8.self)
        return "\(fourCC)." + hex(profile) + hex(compatibility) + hex(level)
    }

    /// The ISO/IEC 14496-15 Annex E string of an HEVCDecoderConfigurationRecord (§8.3.3.1):
    /// `<fourcc>.<space><profile_idc>.<compatibility>.<tier><level_idc>[.<constraint byte>…]`.
    static func hevcString(fourCC: FourCC, hvcC: [UInt8]) throws -> String {
        var reader = ByteReader(hvcC)
        let version = try reader.read(UInt8.self)
        guard version == 1 else { throw CodecStringError.malformed("hvcC configurationVersion \(version)") }
        let profileByte = try reader.read(UInt8.self)
        let compatibility = try reader.read(UInt32.self)
        let constraints = try reader.readBytes(6)
        let level = try reader.read(UInt8.self)

        // general_profile_space 0...3 is written as nothing, A, B, C.
        let space = ["", "A", "B", "C"][Int(profileByte >> 6)]
        let tier = profileByte & 0x20 == 0 ? "L" : "H"
        // Annex E writes the compatibility flags with flag 0 as the least significant bit, which is the reverse of
        // their order in the record; leading zeros are dropped.
        let flags = String(reversedBits(compatibility), radix: 16, uppercase: true)
        // Trailing zero constraint bytes are omitted; zeros before a non-zero byte stay, or positions would shift.
        let kept = constraints.lastIndex(where: { $0 != 0 }).map { constraints[...$0] } ?? []
        let parts = ["\(fourCC)", "\(space)\(profileByte & 0x1F)", flags, "\(tier)\(level)"] + kept.map { hex($0) }
        return parts.joined(separator: ".")
    }

    /// `mp4a.40.<audioObjectType>` for MPEG-4 Audio, else `mp4a.<objectTypeIndication>` (RFC 6381 §3.3), from an
    /// `esds` box's ES_Descriptor (ISO/IEC 14496-1 §7.2.6.5).
    static func mp4aString(esds: [UInt8]) throws -> String {
        var box = ByteReader(esds)
        let version = try box.read(UInt8.self)
        guard version == 0 else { throw CodecStringError.malformed("esds version \(version)") }
        try box.skip(3)  // flags
        guard var es = try descriptor(tag: 0x03, in: &box) else {
            throw CodecStringError.malformed("esds without ES_Descriptor")
        }
        try es.skip(2)  // ES_ID
        let flags = try es.read(UInt8.self)
        if flags & 0x80 != 0 { try es.skip(2) }  // dependsOn_ES_ID
        if flags & 0x40 != 0 {
            let urlLength = try es.read(UInt8.self)
            try es.skip(Int(urlLength))
        }
        if flags & 0x20 != 0 { try es.skip(2) }  // OCR_ES_Id
        guard var config = try descriptor(tag: 0x04, in: &es) else {
            throw CodecStringError.malformed("esds without DecoderConfigDescriptor")
        }
        let objectType = try config.read(UInt8.self)
        try config.skip(12)  // streamType/upStream, bufferSizeDB, maxBitrate, avgBitrate
        guard objectType == 0x40 else { return "mp4a." + hex(objectType, uppercase: false) }

        guard var specific = try descriptor(tag: 0x05, in: &config) else {
            throw CodecStringError.malformed("MPEG-4 audio esds without DecoderSpecificInfo")
        }
        // AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): 5 bits, where 31 escapes to 32 + the next 6 bits.
        let first = try specific.read(UInt8.self)
        var audioObjectType = Int(first >> 3)
        if audioObjectType == 31 {
            let second = try specific.read(UInt8.self)
            audioObjectType = 32 + Int((first & 0x07) << 3 | second >> 5)
        }
        guard audioObjectType != 0 else { throw CodecStringError.malformed("AudioSpecificConfig object type 0") }
        return "mp4a.40.\(audioObjectType)"
    }

    /// Skips sibling descriptors until one tagged `tag`, returning a reader over its body; nil when none is left.
    private static func descriptor(tag: UInt8, in reader: inout ByteReader) throws -> ByteReader? {
        while reader.remaining > 0 {
            let found = try reader.read(UInt8.self)
            // The size is 7 bits per byte, high bit meaning "more follows", in at most four bytes.
            var length = 0
            var byte: UInt8 = 0x80
            var used = 0
            while byte & 0x80 != 0 {
                guard used < 4 else { throw CodecStringError.malformed("descriptor size longer than 4 bytes") }
                byte = try reader.read(UInt8.self)
                length = length << 7 | Int(byte & 0x7F)
                used += 1
            }
            let body = try reader.subReader(length)
            if found == tag { return body }
        }
        return nil
    }

    // MARK: Formatting

    private static func hex(_ byte: UInt8) -> String {
        hex(byte, uppercase: true)
    }

    private static func hex(_ byte: UInt8, uppercase: Bool) -> String {
        let digits = String(byte, radix: 16, uppercase: uppercase)
        return byte < 0x10 ? "0" + digits : digits
    }

    static func reversedBits(_ value: UInt32) -> UInt32 {
        var input = value
        var output: UInt32 = 0
        for _ in 0..<32 {
            output = output << 1 | input & 1
            input >>= 1
        }
        return output
    }
}
