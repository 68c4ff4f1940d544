import Foundation
import Testing

@testable import Transcoding

@Suite("ProbeResult parsing")
struct ProbeParsingTests {
    private func parse(_ json: String) throws -> ProbeResult {
        try ProbeResult.parse(json: Data(json.utf8))
    }

    @Test func h264AACClip() throws {
        let result = try parse(CapturedProbeJSON.h264AAC)
        #expect(result.formatNames == ["mov", "mp4", "m4a", "3gp", "3g2", "mj2"])
        #expect(result.durationSeconds == 3.0)
        #expect(result.sizeBytes == 51229)
        #expect(result.bitRate == 136_610)
        #expect(result.isStillImage == false)
        let video = try #require(result.video)
        #expect(video.codecName == "h264")
        #expect(video.codecTag == "avc1")
        #expect(video.width == 640 && video.height == 360)
        #expect(video.rotation == 0)
        #expect(video.displayWidth == 640 && video.displayHeight == 360)
        #expect(video.frameRate == 25)
        #expect(video.pixelFormat == "yuv420p")
        #expect(video.bitRate == 55968)
        #expect(video.frameCount == 75)
        #expect(video.ordinal == 0)
        let audio = try #require(result.audio)
        #expect(audio == ProbeResult.AudioStream(codecName: "aac", channels: 1, sampleRate: 44100, bitRate: 69584))
    }

    @Test func rotatedPortraitSwapsDisplaySize() throws {
        let video = try #require(try parse(CapturedProbeJSON.rotatedPortrait).video)
        #expect(video.rotation == 90)
        #expect(video.width == 640 && video.height == 360)
        #expect(video.displayWidth == 360 && video.displayHeight == 640)
    }

    @Test func rotateTagAndNegativeAngles() throws {
        let json = #"""
            {"streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
              "avg_frame_rate": "30000/1001", "tags": {"rotate": "270"}}],
             "format": {"format_name": "mov,mp4", "duration": "1.5"}}
            """#
        let video = try #require(try parse(json).video)
        #expect(video.rotation == 270)
        #expect(video.displayHeight == 1920)
        #expect(abs((video.frameRate ?? 0) - 29.97) < 0.01)
        #expect(ProbeResult.normalisedRotation(-90) == 270)
        #expect(ProbeResult.normalisedRotation(180.2) == 180)
        #expect(ProbeResult.normalisedRotation(-450) == 270)
    }

    @Test func tenBitHEVCInMatroska() throws {
        let result = try parse(CapturedProbeJSON.hevc10BitOpusMKV)
        #expect(result.formatNames == ["matroska", "webm"])
        #expect(result.durationSeconds == 1.008)
        let video = try #require(result.video)
        #expect(video.codecName == "hevc")
        #expect(video.codecTag == nil)  // "[0][0][0][0]" means no tag
        #expect(video.pixelFormat == "yuv420p10le")
        #expect(result.audio?.codecName == "opus")
        #expect(result.audio?.sampleRate == 48000)
    }

    @Test func coverArtIsNotVideo() throws {
        let result = try parse(CapturedProbeJSON.mp3WithCover)
        #expect(result.video == nil)
        #expect(result.audio?.codecName == "mp3")
        #expect(result.isStillImage == false)
    }

    @Test func stillImages() throws {
        let png = try parse(CapturedProbeJSON.png)
        #expect(png.formatNames == ["png_pipe"])
        #expect(png.isStillImage)
        #expect(png.durationSeconds == nil)
        #expect(png.video?.codecName == "png")
        #expect(png.video?.width == 640)

        let jpeg = try parse(CapturedProbeJSON.jpeg)
        #expect(jpeg.formatNames == ["image2"])
        #expect(jpeg.isStillImage)

        // A one-frame stream without duration in a non-image container is still a picture.
        let single = ProbeResult(
            formatNames: ["matroska"], video: .init(codecName: "h264", width: 8, height: 8, frameCount: 1))
        #expect(single.isStillImage)
        // MJPEG video with many frames is a video.
        let mjpegVideo = ProbeResult(
            formatNames: ["avi"], durationSeconds: 10,
            video: .init(codecName: "mjpeg", width: 8, height: 8, frameCount: 250))
        #expect(!mjpegVideo.isStillImage)
    }

    @Test func numbersMayBeStringsOrNumbers() throws {
        let json = #"""
            {"streams": [{"codec_type": "video", "codec_name": "vp9", "width": "1280", "height": 720.0,
              "bit_rate": 1000000, "nb_frames": "N/A", "avg_frame_rate": "0/0", "r_frame_rate": "24/1"}],
             "format": {"format_name": "matroska,webm", "duration": 12.5, "size": 42}}
            """#
        let result = try parse(json)
        #expect(result.durationSeconds == 12.5)
        #expect(result.sizeBytes == 42)
        let video = try #require(result.video)
        #expect(video.width == 1280 && video.height == 720)
        #expect(video.bitRate == 1_000_000)
        #expect(video.frameCount == nil)
        #expect(video.frameRate == 24)  // avg 0/0 falls back to r_frame_rate
    }

    @Test func garbageIsInvalidInput() {
        #expect(throws: TranscodingError.invalidInput) { try parse("{\n\n}") }
        #expect(throws: TranscodingError.invalidInput) { try parse("not json") }
    }
}
