import Foundation
import Testing

@testable import Transcoding

/// Boxes and decoder configurations built byte by byte: the layout is what is under test, so it is spelled out here
/// rather than produced by the code being tested.
private enum Bytes {
    static func be16(_ value: UInt16) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { (shift: UInt32) in UInt8(truncatingIfNeeded: value >> shift) }
    }

    static func be64(_ value: UInt64) -> [UInt8] {
        be32(UInt32(truncatingIfNeeded: value >> 32)) + be32(UInt32(truncatingIfNeeded: value))
    }

    static func zeros(_ count: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: count)
    }

    static func ascii(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    static func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        be32(UInt32(8 + payload.count)) + ascii(type) + payload
    }

    static func fullBox(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        box(type, zeros(4) + payload)
    }

    /// An MPEG-4 descriptor with a one-byte size.
    static func descriptor(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        [tag, UInt8(body.count)] + body
    }

    static let ftyp = box("ftyp", ascii("isom") + be32(0x200) + ascii("isomiso2avc1mp41"))

    /// The 78 bytes of VisualSampleEntry fields, then the child boxes.
    static func visualEntry(_ type: String, _ children: [UInt8]) -> [UInt8] {
        box(type, zeros(78) + children)
    }

    /// The 28 bytes of AudioSampleEntry fields (`version` at offset 8, as QuickTime uses it), then extra fields.
    static func audioEntry(_ type: String, _ children: [UInt8], version: UInt16 = 0, extra: Int = 0) -> [UInt8] {
        box(type, zeros(8) + be16(version) + zeros(18) + zeros(extra) + children)
    }

    static func track(handler: String, entry: [UInt8]) -> [UInt8] {
        track(handler: handler, stsd: be32(1) + entry)
    }

    /// A track whose stsd payload after version/flags (entry_count, entries) is given as is.
    static func track(handler: String, stsd: [UInt8]) -> [UInt8] {
        let hdlr = fullBox("hdlr", zeros(4) + ascii(handler) + zeros(12) + [0])
        let stbl = box("stbl", fullBox("stsd", stsd) + fullBox("stts", be32(0)))
        let mdia = box("mdia", fullBox("mdhd", zeros(20)) + hdlr + box("minf", fullBox("vmhd", zeros(8)) + stbl))
        return box("trak", fullBox("tkhd", zeros(80)) + mdia)
    }

    static func moov(_ tracks: [UInt8]...) -> [UInt8] {
        box("moov", fullBox("mvhd", zeros(96)) + tracks.flatMap { $0 })
    }

    /// An HEVCDecoderConfigurationRecord without parameter set arrays.
    static func hvcC(profile: UInt8, compatibility: UInt32, constraints: [UInt8], level: UInt8) -> [UInt8] {
        let head: [UInt8] = [0x01, profile]
        // min_spatial_segmentation_idc through lengthSizeMinusOne as x265 writes them, then numOfArrays = 0.
        let tail: [UInt8] = [0xF0, 0x00, 0xFC, 0xFD, 0xF8, 0xF8, 0x00, 0x00, 0x0F, 0x00]
        return head + be32(compatibility) + constraints + [level] + tail
    }

    /// An esds payload (version/flags included): ES_Descriptor > DecoderConfigDescriptor > DecoderSpecificInfo.
    static func esds(objectType: UInt8, specific: [UInt8]?, esFlags: [UInt8] = [0x00]) -> [UInt8] {
        var config: [UInt8] = [objectType, 0x15] + zeros(11)
        if let specific { config += descriptor(0x05, specific) }
        let es: [UInt8] = [0x00, 0x01] + esFlags + descriptor(0x04, config) + descriptor(0x06, [0x02])
        return zeros(4) + descriptor(0x03, es)
    }

    static let avcHigh31: [UInt8] = [0x01, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0x00]
    static let hevcMain31 = hvcC(
        profile: 0x01, compatibility: 0x6000_0000, constraints: [0xB0, 0, 0, 0, 0, 0], level: 93)
    /// AudioSpecificConfig 0x12 0x10: AAC-LC (object type 2), 44.1 kHz, stereo.
    static let aacLC = esds(objectType: 0x40, specific: [0x12, 0x10])

    /// A moov with an HEVC Main video track and an AAC-LC audio track.
    static let hevcAACMoov = moov(
        track(handler: "vide", entry: visualEntry("hvc1", box("hvcC", hevcMain31))),
        track(handler: "soun", entry: audioEntry("mp4a", box("esds", aacLC))))

    // Decoder configurations exactly as ffmpeg 5.1 (libx264 -profile:v high, libx265 -preset ultrafast, aac)
    // wrote them for 640x360 25 fps clips; parameter set arrays of the hvcC records are cut off (numOfArrays 0).

    /// avcC of H.264 High, level 3.0, with its SPS and PPS.
    static let ffmpegAVCHigh30: [UInt8] = [
        0x01, 0x64, 0x00, 0x1E, 0xFF, 0xE1, 0x00, 0x1A, 0x67, 0x64, 0x00, 0x1E, 0xAC, 0xD9, 0x40, 0xA0, 0x2F, 0xF9,
        0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0F, 0x16, 0x2D, 0x96, 0x01, 0x00,
        0x06, 0x68, 0xEB, 0xE3, 0xCB, 0x22, 0xC0, 0xFD, 0xF8, 0xF8, 0x00,
    ]
    /// hvcC of HEVC Main, Main tier, level 2.1 (63), constraint flags progressive + frame-only (0x90).
    static let ffmpegHEVCMain: [UInt8] = [
        0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F, 0xF0, 0x00, 0xFC, 0xFD, 0xF8,
        0xF8, 0x00, 0x00, 0x0F, 0x00,
    ]
    /// hvcC of HEVC Main 10 from `-pix_fmt yuv420p10le`.
    static let ffmpegHEVCMain10: [UInt8] = [
        0x01, 0x02, 0x20, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F, 0xF0, 0x00, 0xFC, 0xFD, 0xFA,
        0xFA, 0x00, 0x00, 0x0F, 0x00,
    ]
    /// esds of AAC-LC 44.1 kHz mono, with ffmpeg's four-byte descriptor sizes and SLConfigDescriptor.
    static let ffmpegAAC: [UInt8] = [
        0x00, 0x00, 0x00, 0x00, 0x03, 0x80, 0x80, 0x80, 0x25, 0x00, 0x02, 0x00, 0x04, 0x80, 0x80, 0x80, 0x17, 0x40,
        0x15, 0x00, 0x00, 0x00, 0x00, 0x01, 0x12, 0x88, 0x00, 0x01, 0x12, 0x88, 0x05, 0x80, 0x80, 0x80, 0x05, 0x12,
        0x08, 0x56, 0xE5, 0x00, 0x06, 0x80, 0x80, 0x80, 0x01, 0x02,
    ]

    static func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("codec-strings-\(UUID().uuidString).mp4")
        try Data(bytes).write(to: url)
        return url
    }
}

/// Reproducible pseudo-random bytes for mutation tests (a 64-bit LCG; quality is irrelevant here).
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}

/// The reason of a `.malformed` error thrown by `body`, nil when it threw something else or nothing.
private func malformedReason(_ body: () throws -> Void) -> String? {
    do {
        try body()
    } catch CodecStringError.malformed(let reason) {
        return reason
    } catch {
        return nil
    }
    return nil
}

@Suite("codec strings")
struct CodecStringTests {
    // MARK: AVC

    @Test func avcStringIsProfileCompatibilityLevelInUppercaseHex() throws {
        #expect(try CodecStrings.avcString(fourCC: "avc1", avcC: Bytes.avcHigh31) == "avc1.64001F")
        #expect(try CodecStrings.avcString(fourCC: "avc3", avcC: Bytes.avcHigh31) == "avc3.64001F")
        #expect(try CodecStrings.avcString(fourCC: "avc1", avcC: Bytes.ffmpegAVCHigh30) == "avc1.64001E")
        // Constrained Baseline: constraint_set0 and set1 flags make the middle byte C0.
        #expect(try CodecStrings.avcString(fourCC: "avc1", avcC: [0x01, 0x42, 0xC0, 0x1E]) == "avc1.42C01E")
        // Single-digit bytes keep their leading zero: Main (0x4D) level 1.0 (0x0A).
        #expect(try CodecStrings.avcString(fourCC: "avc1", avcC: [0x01, 0x4D, 0x00, 0x0A]) == "avc1.4D000A")
    }

    @Test func avcConfigurationErrors() {
        #expect(throws: CodecStringError.truncated) {
            try CodecStrings.avcString(fourCC: "avc1", avcC: [0x01, 0x64])
        }
        #expect(throws: CodecStringError.truncated) { try CodecStrings.avcString(fourCC: "avc1", avcC: []) }
        let reason = malformedReason {
            _ = try CodecStrings.avcString(fourCC: "avc1", avcC: [0x02, 0x64, 0, 0x1F])
        }
        #expect(reason?.contains("configurationVersion") == true)
    }

    // MARK: HEVC

    @Test func hevcMainAndMain10() throws {
        #expect(try CodecStrings.hevcString(fourCC: "hvc1", hvcC: Bytes.hevcMain31) == "hvc1.1.6.L93.B0")
        #expect(try CodecStrings.hevcString(fourCC: "hev1", hvcC: Bytes.hevcMain31) == "hev1.1.6.L93.B0")
        let main10 = Bytes.hvcC(
            profile: 0x02, compatibility: 0x2000_0000, constraints: [0xB0, 0, 0, 0, 0, 0], level: 120)
        #expect(try CodecStrings.hevcString(fourCC: "hvc1", hvcC: main10) == "hvc1.2.4.L120.B0")
        #expect(try CodecStrings.hevcString(fourCC: "hvc1", hvcC: Bytes.ffmpegHEVCMain) == "hvc1.1.6.L63.90")
        #expect(try CodecStrings.hevcString(fourCC: "hvc1", hvcC: Bytes.ffmpegHEVCMain10) == "hvc1.2.4.L63.90")
    }

    @Test func hevcProfileSpaceTierAndConstraintBytes() throws {
        func string(profile: UInt8, compatibility: UInt32 = 0x6000_0000, _ constraints: [UInt8]) throws -> String {
            try CodecStrings.hevcString(
                fourCC: "hvc1",
                hvcC: Bytes.hvcC(profile: profile, compatibility: compatibility, constraints: constraints, level: 93))
        }
        // profile_space 1 (A), high tier, profile_idc 1: 0b01_1_00001.
        #expect(try string(profile: 0x61, [0xB0, 0, 0, 0, 0, 0]) == "hvc1.A1.6.H93.B0")
        #expect(try string(profile: 0xC1, [0xB0, 0, 0, 0, 0, 0]) == "hvc1.C1.6.L93.B0")
        // All-zero constraint bytes disappear entirely; inner zero bytes stay, as two digits.
        #expect(try string(profile: 0x01, [0, 0, 0, 0, 0, 0]) == "hvc1.1.6.L93")
        #expect(try string(profile: 0x01, [0xB0, 0x00, 0x08, 0, 0, 0]) == "hvc1.1.6.L93.B0.00.08")
        #expect(try string(profile: 0x01, [1, 2, 3, 4, 5, 6]) == "hvc1.1.6.L93.01.02.03.04.05.06")
        // Range extensions: compatibility flag 4 only, reversed to 0x10.
        #expect(try string(profile: 0x04, compatibility: 0x0800_0000, [0x98, 0, 0, 0, 0, 0]) == "hvc1.4.10.L93.98")
        #expect(try string(profile: 0x01, compatibility: 0, [0x90, 0, 0, 0, 0, 0]) == "hvc1.1.0.L93.90")
        let allFlags = try string(profile: 0x01, compatibility: 0xFFFF_FFFF, [0x90, 0, 0, 0, 0, 0])
        #expect(allFlags == "hvc1.1.FFFFFFFF.L93.90")
    }

    @Test func bitReversal() {
        #expect(CodecStrings.reversedBits(0x6000_0000) == 0x6)
        #expect(CodecStrings.reversedBits(0x2000_0000) == 0x4)
        #expect(CodecStrings.reversedBits(0x8000_0000) == 0x1)
        #expect(CodecStrings.reversedBits(0x0000_0001) == 0x8000_0000)
        #expect(CodecStrings.reversedBits(0x1234_5678) == 0x1E6A_2C48)
    }

    @Test func hevcConfigurationErrors() {
        // 12 bytes: the level byte is missing.
        #expect(throws: CodecStringError.truncated) {
            try CodecStrings.hevcString(fourCC: "hvc1", hvcC: Array(Bytes.hevcMain31.prefix(12)))
        }
        var version0 = Bytes.hevcMain31
        version0[0] = 0
        #expect(malformedReason { _ = try CodecStrings.hevcString(fourCC: "hvc1", hvcC: version0) } != nil)
    }

    // MARK: Audio

    @Test func mp4aFromESDS() throws {
        func string(_ objectType: UInt8, _ specific: [UInt8]?) throws -> String {
            try CodecStrings.mp4aString(esds: Bytes.esds(objectType: objectType, specific: specific))
        }
        #expect(try CodecStrings.mp4aString(esds: Bytes.aacLC) == "mp4a.40.2")
        #expect(try CodecStrings.mp4aString(esds: Bytes.ffmpegAAC) == "mp4a.40.2")
        // HE-AAC signalled explicitly: object type 5 (SBR).
        #expect(try string(0x40, [0x2B, 0x92, 0x08]) == "mp4a.40.5")
        // Escape value 31: 0b11111_001010 is 32 + 10 = 42 (USAC).
        #expect(try string(0x40, [0xF9, 0x40]) == "mp4a.40.42")
        // Other object types (MP3 is 0x6B) are named by the OTI alone, lowercase.
        #expect(try string(0x6B, nil) == "mp4a.6b")
        #expect(try string(0xA5, nil) == "mp4a.a5")
        // Optional ES_Descriptor fields are skipped: dependsOn_ES_ID, a 3-byte URL, OCR_ES_Id.
        let everyFlag = Bytes.esds(
            objectType: 0x40, specific: [0x12, 0x10], esFlags: [0xE0, 0x00, 0x07, 0x03] + Bytes.ascii("abc") + [0, 9])
        #expect(try CodecStrings.mp4aString(esds: everyFlag) == "mp4a.40.2")
    }

    @Test func mp4aErrors() {
        let noSpecificInfo = Bytes.esds(objectType: 0x40, specific: nil)
        #expect(malformedReason { _ = try CodecStrings.mp4aString(esds: noSpecificInfo) } != nil)
        // Escape value without the byte holding the rest of the object type.
        #expect(throws: CodecStringError.truncated) {
            try CodecStrings.mp4aString(esds: Bytes.esds(objectType: 0x40, specific: [0xF8]))
        }
        #expect(malformedReason { _ = try CodecStrings.mp4aString(esds: Bytes.zeros(4)) } != nil)
        // A descriptor size with five continuation bytes.
        let longSize = Bytes.zeros(4) + [0x03, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]
        #expect(malformedReason { _ = try CodecStrings.mp4aString(esds: longSize) } != nil)
        // A descriptor claiming more bytes than the box holds.
        #expect(throws: CodecStringError.truncated) {
            try CodecStrings.mp4aString(esds: Bytes.zeros(4) + [0x03, 0x7F, 0x00, 0x01, 0x00])
        }
        for cut in 0..<Bytes.ffmpegAAC.count {
            let esds = Array(Bytes.ffmpegAAC.prefix(cut))
            #expect(throws: CodecStringError.self) { try CodecStrings.mp4aString(esds: esds) }
        }
    }

    // MARK: Whole moov

    @Test func moovWithVideoAndAudio() throws {
        let strings = try CodecStrings.parse(moov: Bytes.hevcAACMoov)
        #expect(
            strings
                == CodecStrings(
                    video: "hvc1.1.6.L93.B0", audio: "mp4a.40.2",
                    mimeType: #"video/mp4; codecs="hvc1.1.6.L93.B0, mp4a.40.2""#))
    }

    @Test func firstTrackOfEachKindWins() throws {
        let moov = Bytes.moov(
            Bytes.track(handler: "text", entry: Bytes.box("tx3g", Bytes.zeros(30))),
            Bytes.track(handler: "vide", entry: Bytes.visualEntry("avc1", Bytes.box("avcC", Bytes.avcHigh31))),
            Bytes.track(handler: "soun", entry: Bytes.audioEntry("Opus", Bytes.box("dOps", Bytes.zeros(11)))),
            Bytes.track(handler: "vide", entry: Bytes.visualEntry("hvc1", Bytes.box("hvcC", Bytes.hevcMain31))),
            Bytes.track(handler: "soun", entry: Bytes.audioEntry("mp4a", Bytes.box("esds", Bytes.aacLC))))
        let strings = try CodecStrings.parse(moov: moov)
        #expect(strings.video == "avc1.64001F")
        #expect(strings.audio == "opus")
        #expect(strings.mimeType == #"video/mp4; codecs="avc1.64001F, opus""#)
    }

    @Test func audioOnlyCodecs() throws {
        for (type, expected) in [("Opus", "opus"), ("fLaC", "flac"), ("ac-3", "ac-3"), ("ec-3", "ec-3")] {
            let moov = Bytes.moov(Bytes.track(handler: "soun", entry: Bytes.audioEntry(type, [])))
            let strings = try CodecStrings.parse(moov: moov)
            let mimeType = "audio/mp4; codecs=\"\(expected)\""
            #expect(strings == CodecStrings(video: nil, audio: expected, mimeType: mimeType))
        }
    }

    @Test func unknownCodecLeavesOutTheCodecsParameter() throws {
        let moov = Bytes.moov(
            Bytes.track(handler: "vide", entry: Bytes.visualEntry("mp4v", Bytes.box("esds", Bytes.zeros(20)))),
            Bytes.track(handler: "soun", entry: Bytes.audioEntry("mp4a", Bytes.box("esds", Bytes.aacLC))))
        let strings = try CodecStrings.parse(moov: moov)
        #expect(strings == CodecStrings(video: nil, audio: "mp4a.40.2", mimeType: "video/mp4"))
        let empty = try CodecStrings.parse(moov: Bytes.moov())
        #expect(empty == CodecStrings(video: nil, audio: nil, mimeType: "video/mp4"))
    }

    @Test func quickTimeSoundDescriptions() throws {
        // Version 1 adds 16 bytes of fields and wraps the esds in `wave`, ended by an 8-byte terminator box.
        let wave = Bytes.box(
            "wave",
            Bytes.box("frma", Bytes.ascii("mp4a")) + Bytes.box("mp4a", Bytes.zeros(4)) + Bytes.box("esds", Bytes.aacLC)
                + Bytes.zeros(8))
        func audio(_ entry: [UInt8]) throws -> String? {
            try CodecStrings.parse(moov: Bytes.moov(Bytes.track(handler: "soun", entry: entry))).audio
        }
        #expect(try audio(Bytes.audioEntry("mp4a", wave, version: 1, extra: 16)) == "mp4a.40.2")
        // ISO's AudioSampleEntryV1 keeps the 28-byte layout.
        let esds = Bytes.box("esds", Bytes.aacLC)
        #expect(try audio(Bytes.audioEntry("mp4a", esds, version: 1)) == "mp4a.40.2")
        #expect(try audio(Bytes.audioEntry("mp4a", esds, version: 2, extra: 36)) == "mp4a.40.2")
        // A trailing 32-bit zero at the end of a container is tolerated.
        #expect(try audio(Bytes.audioEntry("mp4a", esds + Bytes.zeros(4))) == "mp4a.40.2")
    }

    @Test func missingPiecesAreMalformed() {
        let noConfig = Bytes.moov(Bytes.track(handler: "vide", entry: Bytes.visualEntry("avc1", [])))
        #expect(malformedReason { _ = try CodecStrings.parse(moov: noConfig) }?.contains("avcC") == true)
        let noEntries = Bytes.moov(Bytes.track(handler: "vide", stsd: Bytes.be32(0)))
        #expect(malformedReason { _ = try CodecStrings.parse(moov: noEntries) } != nil)
        // entry_count larger than the entries present.
        let avc1 = Bytes.visualEntry("avc1", Bytes.box("avcC", Bytes.avcHigh31))
        let overCounted = Bytes.moov(Bytes.track(handler: "vide", stsd: Bytes.be32(0xFFFF_FFFF) + avc1))
        #expect(malformedReason { _ = try CodecStrings.parse(moov: overCounted) }?.contains("stsd") == true)
        #expect(malformedReason { _ = try CodecStrings.parse(moov: Bytes.box("free", [])) } != nil)
        #expect(malformedReason { _ = try CodecStrings.parse(moov: []) } != nil)
    }

    // MARK: Hostile input

    @Test func hugeDeclaredSizesAreRefused() {
        let mvhd = Bytes.fullBox("mvhd", Bytes.zeros(96))
        func moov(_ payload: [UInt8]) -> [UInt8] { Bytes.box("moov", mvhd + payload) }
        // A child claiming 4 GiB, and one claiming 2^64 - 1 bytes through a 64-bit size.
        #expect(throws: CodecStringError.truncated) {
            try CodecStrings.parse(moov: moov(Bytes.be32(0xFFFF_FFFF) + Bytes.ascii("trak") + Bytes.zeros(16)))
        }
        #expect(throws: CodecStringError.truncated) {
            try CodecStrings.parse(moov: moov(Bytes.be32(1) + Bytes.ascii("trak") + Bytes.be64(.max) + Bytes.zeros(8)))
        }
        // Sizes smaller than the header they are in.
        let tiny = Bytes.be32(3) + Bytes.ascii("trak")
        #expect(malformedReason { _ = try CodecStrings.parse(moov: moov(tiny)) } != nil)
        let small64 = Bytes.be32(1) + Bytes.ascii("trak") + Bytes.be64(12)
        #expect(malformedReason { _ = try CodecStrings.parse(moov: moov(small64)) } != nil)
        // The moov itself claiming more than the buffer.
        var long = Bytes.hevcAACMoov
        long.replaceSubrange(0..<4, with: Bytes.be32(UInt32(long.count + 1)))
        #expect(throws: CodecStringError.truncated) { try CodecStrings.parse(moov: long) }
    }

    @Test func recursionIsBounded() {
        var nested = Bytes.box("trak", [])
        for _ in 0..<30 { nested = Bytes.box("trak", nested) }
        let deep = Bytes.box("moov", nested)
        #expect(malformedReason { _ = try CodecStrings.parse(moov: deep) }?.contains("deeper") == true)

        let manyBoxes = Bytes.box("moov", (0..<20_000).flatMap { _ in Bytes.box("free", []) })
        #expect(malformedReason { _ = try CodecStrings.parse(moov: manyBoxes) }?.contains("boxes") == true)
    }

    @Test func everyTruncationThrowsAndNeverTraps() {
        let moov = Bytes.hevcAACMoov
        for cut in 0..<moov.count {
            #expect(throws: CodecStringError.self) { try CodecStrings.parse(moov: Array(moov.prefix(cut))) }
        }
        // Cut inside, with the moov size patched to match, so that an inner box is the one cut short.
        var thrown = 0
        for cut in 8..<moov.count {
            var bytes = Array(moov.prefix(cut))
            bytes.replaceSubrange(0..<4, with: Bytes.be32(UInt32(cut)))
            do {
                _ = try CodecStrings.parse(moov: bytes)
            } catch is CodecStringError {
                thrown += 1
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(thrown > (moov.count - 8) / 2)
    }

    @Test func randomCorruptionNeverTraps() {
        var generator = SeededGenerator(state: 0x5EED)
        let original = Bytes.hevcAACMoov
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                _ = try CodecStrings.parse(moov: bytes)
            } catch is CodecStringError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        for _ in 0..<500 {
            var garbage: [UInt8] = []
            for _ in 0..<Int.random(in: 0...600, using: &generator) {
                garbage.append(UInt8.random(in: 0...255, using: &generator))
            }
            do {
                _ = try CodecStrings.parse(moov: Bytes.box("moov", garbage))
            } catch is CodecStringError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    // MARK: Files

    @Test func readsMoovBeforeAndAfterMdat() throws {
        let moov = Bytes.hevcAACMoov
        let mdat = Bytes.box("mdat", Bytes.zeros(1000))
        let expected = try CodecStrings.parse(moov: moov)
        let faststart: [UInt8] = Bytes.ftyp + moov + mdat
        let moovLast: [UInt8] = Bytes.ftyp + Bytes.box("free", []) + mdat + moov
        // 64-bit mdat size, as written for files over 4 GiB.
        let largeSize: [UInt8] = Bytes.ftyp + Bytes.be32(1) + Bytes.ascii("mdat") + Bytes.be64(1016) + Bytes.zeros(1000)
        // A moov with size 0 runs to the end of the file.
        let sizeZero: [UInt8] = Bytes.ftyp + mdat + Bytes.zeros(4) + Array(moov.dropFirst(4))
        // Reading stops at the moov: an mdat cut short after it does not matter.
        let cutMdat: [UInt8] = Bytes.ftyp + moov + Bytes.be32(0x4000_0000) + Bytes.ascii("mdat") + Bytes.zeros(100)
        for layout in [faststart, moovLast, largeSize + moov, sizeZero, cutMdat] {
            let file = try Bytes.temporaryFile(layout)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(try CodecStrings.read(mp4: file) == expected)
        }
    }

    @Test func fileErrors() throws {
        func read(_ bytes: [UInt8]) throws -> CodecStrings {
            let file = try Bytes.temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(at: file) }
            return try CodecStrings.read(mp4: file)
        }
        #expect(throws: CodecStringError.notMP4) { try read([]) }
        #expect(throws: CodecStringError.notMP4) { try read(Bytes.zeros(4)) }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Bytes.zeros(100)
        #expect(throws: CodecStringError.notMP4) { try read(png) }
        #expect(throws: CodecStringError.notMP4) { try read(Bytes.be32(2) + Bytes.ascii("ftyp")) }
        // A moov header claiming 100 MiB is refused before anything is read, whatever the file really holds.
        #expect(throws: CodecStringError.tooLarge) {
            try read(Bytes.ftyp + Bytes.be32(100 << 20) + Bytes.ascii("moov") + Bytes.zeros(64))
        }
        #expect(throws: CodecStringError.tooLarge) {
            try read(Bytes.ftyp + Bytes.be32(1) + Bytes.ascii("moov") + Bytes.be64(1 << 62) + Bytes.zeros(64))
        }
        // An mdat claiming a terabyte before the moov: the moov cannot be found past it.
        #expect(throws: CodecStringError.truncated) {
            try read(Bytes.ftyp + Bytes.be32(1) + Bytes.ascii("mdat") + Bytes.be64(1 << 40) + Bytes.hevcAACMoov)
        }
        var shortMoov = Bytes.hevcAACMoov
        shortMoov.removeLast()
        #expect(throws: CodecStringError.truncated) { try read(Bytes.ftyp + shortMoov) }
        #expect(malformedReason { _ = try read(Bytes.ftyp + Bytes.box("mdat", Bytes.zeros(10))) } != nil)
        // Trailing bytes too few for a box header are not a box.
        #expect(malformedReason { _ = try read(Bytes.ftyp + Bytes.zeros(7)) } != nil)
        #expect(throws: (any Error).self) {
            try CodecStrings.read(mp4: URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString).mp4"))
        }
    }
}

/// Real ffmpeg output. Serialized so the encodes do not compete with each other on a small machine.
@Suite(
    "codec strings of ffmpeg output", .serialized,
    .enabled(if: TestMedia.toolsAvailable, "ffmpeg/ffprobe not installed (apt-get install ffmpeg)"))
struct CodecStringIntegrationTests {
    private struct ProbedStream: Decodable {
        var codecType: String
        var profile: String?
        var level: Int?
    }

    private struct ProbeOutput: Decodable {
        var streams: [ProbedStream]
    }

    let runner = ProcessRunner()
    let picture = ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=25"]
    let tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    // superfast, not ultrafast: ultrafast turns off CABAC and 8x8 transforms, and x264 then writes Constrained
    // Baseline (avc1.42C01E) even with -profile:v high, which only sets a ceiling.
    let x264High = ["-c:v", "libx264", "-preset", "superfast", "-profile:v", "high", "-pix_fmt", "yuv420p"]
    let x265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"]
    let aac = ["-c:a", "aac", "-shortest"]
    let faststart = ["-movflags", "+faststart"]

    @Test func h264HighAndAAC() async throws {
        let fast = try await encode("high-faststart.mp4", picture + tone + ["-t", "1"] + x264High + aac + faststart)
        let slow = try await encode("high-moov-last.mp4", picture + tone + ["-t", "1"] + x264High + aac)
        defer {
            try? FileManager.default.removeItem(at: fast)
            try? FileManager.default.removeItem(at: slow)
        }
        #expect(try Self.moovFollowsMdat(slow))
        #expect(try !Self.moovFollowsMdat(fast))

        let strings = try CodecStrings.read(mp4: fast)
        let video = try #require(strings.video)
        #expect(video.hasPrefix("avc1.64"))
        let streams = try await probe(fast)
        let stream = try #require(streams.first { $0.codecType == "video" })
        #expect(stream.profile == "High")
        let level = try #require(stream.level)
        // ffprobe's level is AVCLevelIndication itself (30 for 3.0); x264 leaves profile_compatibility at 0.
        #expect(video == "avc1.6400" + Self.hex(level))
        #expect(strings.audio == "mp4a.40.2")
        #expect(strings.mimeType == "video/mp4; codecs=\"\(video), mp4a.40.2\"")
        #expect(try CodecStrings.read(mp4: slow) == strings)
    }

    @Test func hevcMainAndAAC() async throws {
        let file = try await encode(
            "hevc-main.mp4", picture + tone + ["-t", "1"] + x265 + ["-pix_fmt", "yuv420p"] + aac + faststart)
        defer { try? FileManager.default.removeItem(at: file) }
        let strings = try CodecStrings.read(mp4: file)
        let video = try #require(strings.video)
        #expect(video.hasPrefix("hvc1.1.6."))
        let streams = try await probe(file)
        let stream = try #require(streams.first { $0.codecType == "video" })
        #expect(stream.profile == "Main")
        let level = try #require(stream.level)
        // ffprobe's level is general_level_idc (63 for 2.1 at 640x360); x265 marks the stream progressive and
        // frame-only, the constraint byte 0x90.
        #expect(video == "hvc1.1.6.L\(level).90")
        #expect(strings.audio == "mp4a.40.2")
        #expect(strings.mimeType == "video/mp4; codecs=\"\(video), mp4a.40.2\"")
    }

    @Test func hevcMain10() async throws {
        let file = try await encode(
            "hevc-main10.mp4", picture + ["-t", "1"] + x265 + ["-pix_fmt", "yuv420p10le"] + faststart)
        defer { try? FileManager.default.removeItem(at: file) }
        let strings = try CodecStrings.read(mp4: file)
        let video = try #require(strings.video)
        #expect(video.hasPrefix("hvc1.2.4."))
        let streams = try await probe(file)
        let stream = try #require(streams.first { $0.codecType == "video" })
        #expect(stream.profile == "Main 10")
        let level = try #require(stream.level)
        #expect(video == "hvc1.2.4.L\(level).90")
        #expect(strings == CodecStrings(video: video, audio: nil, mimeType: "video/mp4; codecs=\"\(video)\""))
    }

    @Test func sharedFixtureWithMoovAtTheEnd() async throws {
        // Made without +faststart, so ffmpeg wrote the moov after the media data.
        let file = try await TestMedia.url(.hevcAAC)
        #expect(try Self.moovFollowsMdat(file))
        let strings = try CodecStrings.read(mp4: file)
        let streams = try await probe(file)
        let stream = try #require(streams.first { $0.codecType == "video" })
        let level = try #require(stream.level)
        #expect(strings.video == "hvc1.1.6.L\(level).90")
        #expect(strings.audio == "mp4a.40.2")
    }

    @Test func otherAudioCodecs() async throws {
        let tone48k = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1"]
        // The native opus encoder and FLAC in MP4 are marked experimental in ffmpeg 5.
        let cases: [(String, [String], String)] = [
            ("opus.mp4", ["-c:a", "opus", "-strict", "-2"], "opus"),
            ("flac.mp4", ["-c:a", "flac", "-strict", "-2"], "flac"),
            ("ac3.mp4", ["-c:a", "ac3"], "ac-3"),
            ("eac3.mp4", ["-c:a", "eac3"], "ec-3"),
        ]
        for (name, codec, expected) in cases {
            let file = try await encode(name, tone48k + codec)
            defer { try? FileManager.default.removeItem(at: file) }
            let strings = try CodecStrings.read(mp4: file)
            let mimeType = "audio/mp4; codecs=\"\(expected)\""
            #expect(strings == CodecStrings(video: nil, audio: expected, mimeType: mimeType), "\(name)")
        }
    }

    @Test func nonMP4FixturesAreRefused() async throws {
        let png = try await TestMedia.url(.png)
        let corrupt = try await TestMedia.url(.corrupt)
        #expect(throws: CodecStringError.notMP4) { try CodecStrings.read(mp4: png) }
        #expect(throws: CodecStringError.notMP4) { try CodecStrings.read(mp4: corrupt) }
    }

    // MARK: Helpers

    private func encode(_ name: String, _ arguments: [String]) async throws -> URL {
        let output = try await TestMedia.scratch(name)
        let outcome = try await runner.run(
            executable: TestMedia.tools.ffmpeg,
            arguments: ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"] + arguments + [output.path],
            stdout: .collect(limit: 1 << 20), timeout: .seconds(120))
        try #require(outcome.succeeded, "ffmpeg \(name): \(outcome.stderrTail.joined(separator: " | "))")
        return output
    }

    private func probe(_ file: URL) async throws -> [ProbedStream] {
        let outcome = try await runner.run(
            executable: TestMedia.tools.ffprobe,
            arguments: ["-v", "error", "-show_streams", "-of", "json", file.path],
            stdout: .collect(limit: 1 << 20), timeout: .seconds(60))
        try #require(outcome.succeeded, "ffprobe: \(outcome.stderrTail.joined(separator: " | "))")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ProbeOutput.self, from: outcome.stdout).streams
    }

    /// Whether the moov box comes after mdat, walking the top-level box headers.
    private static func moovFollowsMdat(_ file: URL) throws -> Bool {
        let bytes = [UInt8](try Data(contentsOf: file))
        var offset = 0
        var types: [FourCC] = []
        while bytes.count - offset >= 8 {
            let header = try MP4Boxes.header(bytes, at: offset, available: UInt64(bytes.count - offset))
            types.append(header.type)
            offset += Int(header.size)
        }
        guard let moov = types.firstIndex(of: "moov"), let mdat = types.firstIndex(of: "mdat") else {
            Issue.record("top-level boxes \(types)")
            return false
        }
        return moov > mdat
    }

    private static func hex(_ value: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return digits.count < 2 ? "0" + digits : digits
    }
}
