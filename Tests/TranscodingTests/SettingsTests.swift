import Testing

@testable import Transcoding

@Suite("TranscodeSettings")
struct SettingsTests {
    @Test func defaults() throws {
        let settings = TranscodeSettings()
        #expect(settings.crf == 28)
        #expect(settings.preset == "fast")
        #expect(settings.maxHeight == 2160)
        #expect(settings.maxFrameRate == 60)
        #expect(settings.audioBitrate == "128k")
        #expect(settings.threads == 0)
        #expect(settings.policy == .all)
        #expect(settings.posterWidth == 640)
        #expect(settings.thumbnailWidth == 640)
        #expect(settings.validate().isEmpty)
        #expect(try settings.validated() == settings)
    }

    @Test(arguments: [
        (TranscodeSettings(crf: 52), "crf"),
        (TranscodeSettings(crf: -1), "crf"),
        (TranscodeSettings(preset: "turbo"), "preset"),
        (TranscodeSettings(maxHeight: 1081), "maxHeight"),
        (TranscodeSettings(maxHeight: 0), "maxHeight"),
        (TranscodeSettings(maxFrameRate: 0), "maxFrameRate"),
        (TranscodeSettings(audioBitrate: "loud"), "audioBitrate"),
        (TranscodeSettings(audioBitrate: "4k"), "audioBitrate"),
        (TranscodeSettings(threads: -2), "threads"),
        (TranscodeSettings(posterWidth: 0), "posterWidth"),
        (TranscodeSettings(thumbnailWidth: 100_000), "thumbnailWidth"),
    ])
    func problemsNameTheField(settings: TranscodeSettings, field: String) {
        let problems = settings.validate()
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix(field + " ") == true, "\(problems)")
    }

    @Test func everyProblemIsReported() {
        let problems = TranscodeSettings(crf: 99, preset: "x", audioBitrate: "").validate()
        #expect(problems.count == 3)
        do {
            _ = try TranscodeSettings(crf: 99).validated()
            Issue.record("expected an error")
        } catch let error as TranscodingError {
            #expect(error == .invalidInput)
            #expect(error.reason.contains("crf must be in 0...51 (got 99)"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func bitrateSyntax() {
        #expect(TranscodeSettings.bitsPerSecond("128k") == 128_000)
        #expect(TranscodeSettings.bitsPerSecond("96000") == 96000)
        #expect(TranscodeSettings.bitsPerSecond("1.5M") == nil)
        #expect(TranscodeSettings.bitsPerSecond("k") == nil)
    }

    @Test func everyPresetIsAccepted() {
        for preset in TranscodeSettings.presets {
            #expect(TranscodeSettings(preset: preset).validate().isEmpty)
        }
    }
}
