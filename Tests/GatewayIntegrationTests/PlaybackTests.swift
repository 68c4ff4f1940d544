import Foundation
import MediaVaultCore
import TestSupport
import Testing
import Transcoding

/// Renditions with real ffmpeg: the HEVC primary, the H.264 compatibility file by policy, HDR kept and tone-mapped,
/// every transcode policy, permanent failures and hostile inputs.
@Suite("Playback everywhere: renditions, HDR, policies, failures",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg"), "ffmpeg is not installed"))
struct PlaybackTests {
    static let fast = ["FFMPEG_PRESET": "ultrafast"]

    /// Encodes a 2-second clip with `arguments` (after the generated inputs) to a file named `name`.
    static func clip(_ name: String, _ arguments: [String], size: String = "320x240", audio: Bool = true) async throws
        -> URL
    {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-\(UUID().uuidString)-\(name)")
        var command = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=\(size):rate=25",
        ]
        if audio { command += ["-f", "lavfi", "-i", "sine=frequency=440"] }
        try await Shell.run(command + ["-t", "2"] + arguments + ["-y", url.path])
        return url
    }

    static let h264 = ["-c:v", "libx264", "-profile:v", "high", "-preset", "superfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    static let hevcMov = [
        "-c:v", "libx265", "-tag:v", "hvc1", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-f", "mov",
    ]

    /// The item's renditions as the API lists them.
    static func renditions(_ gateway: GatewayHarness, token: String, mediaID: String) async throws -> [[String: Any]] {
        let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
        #expect(item["status"] as? String == "ready", "\(item)")
        return item["renditions"] as? [[String: Any]] ?? []
    }

    /// Downloads a rendition and checks that its advertised type is exactly the file's own codecs.
    static func fetch(_ gateway: GatewayHarness, _ rendition: [String: Any]) async throws -> (URL, ProbeResult) {
        let url = try #require(rendition["url"] as? String)
        let reply = try await gateway.request(.GET, url)
        #expect(reply.status == 200)
        let file = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-rendition-\(UUID().uuidString).mp4")
        try Data(reply.body.readableBytesView).write(to: file)
        #expect(try CodecStrings.read(mp4: file).mimeType == rendition["mime_type"] as? String)
        return (file, try await MediaProbe(tools: ToolPaths()).probe(file))
    }

    static func kinds(_ renditions: [[String: Any]]) -> [String] { renditions.compactMap { $0["kind"] as? String } }

    /// Uploads `file`, waits for the worker and returns the media id and the final status body.
    static func process(
        _ gateway: GatewayHarness, token: String, file: URL, type: String, extra: [String: String] = [:]
    ) async throws -> (String, [String: Any]) {
        var result: (String, [String: Any]) = ("", [:])
        try await ProcessingTests.withWorker(gateway, extra: fast.merging(extra) { $1 }) {
            let mediaID = try await ProcessingTests.uploadFile(gateway, token: token, file: file, type: type)
            result = (mediaID, try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: mediaID))
        }
        return result
    }

    @Test("an H.264 MP4 within the cap gets HEVC, and the original serves as the fallback")
    func h264Source() async throws {
        let source = try await Self.clip("clip.mp4", Self.h264 + ["-movflags", "+faststart"])
        defer { try? FileManager.default.removeItem(at: source) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7001")
            let (mediaID, status) = try await Self.process(gateway, token: token, file: source, type: "video/mp4")
            #expect(status["status"] as? String == "ready")
            let renditions = try await Self.renditions(gateway, token: token, mediaID: mediaID)
            #expect(Self.kinds(renditions) == ["primary", "original"])
            let (primary, probe) = try await Self.fetch(gateway, renditions[0])
            defer { try? FileManager.default.removeItem(at: primary) }
            #expect(probe.video?.codecName == "hevc")
            #expect((renditions[0]["mime_type"] as? String)?.hasPrefix(#"video/mp4; codecs="hvc1."#) == true)
            #expect((renditions[1]["mime_type"] as? String)?.hasPrefix(#"video/mp4; codecs="avc1.64"#) == true)
            // The quota counts the HEVC file besides the original, which is counted once.
            let used = try await gateway.scalar(
                "SELECT used_bytes FROM media.user_storage s JOIN auth.users u ON u.id = s.user_id WHERE u.discord_id = '7001'")
            let originalSize = Int(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as! Int)
            #expect(used == originalSize + (renditions[0]["size_bytes"] as? Int ?? 0))
        }
    }

    @Test("an HEVC .mov and a VP9 WebM get an H.264 rendition within 720 lines; deleting removes every file")
    func compatibilityRendition() async throws {
        let mov = try await Self.clip("phone.mov", Self.hevcMov, size: "1280x960")
        let webm = try await Self.clip("clip.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"])
        defer {
            try? FileManager.default.removeItem(at: mov)
            try? FileManager.default.removeItem(at: webm)
        }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7002")
            for (file, type) in [(mov, "video/quicktime"), (webm, "video/webm")] {
                let (mediaID, status) = try await Self.process(gateway, token: token, file: file, type: type)
                #expect(status["status"] as? String == "ready", "\(status)")
                let renditions = try await Self.renditions(gateway, token: token, mediaID: mediaID)
                #expect(Self.kinds(renditions) == ["primary", "compatibility"])
                let (compatibility, probe) = try await Self.fetch(gateway, renditions[1])
                defer { try? FileManager.default.removeItem(at: compatibility) }
                #expect(probe.video?.codecName == "h264")
                #expect(probe.video?.profile == "High")
                #expect(probe.video?.pixelFormat == "yuv420p")
                #expect((probe.video?.displayHeight ?? 0) <= 720)
                #expect(probe.audio?.codecName == "aac")
                let keys = try await gateway.text(
                    "SELECT string_agg(object_key, ',') FROM media.renditions WHERE media_id = '\(mediaID)'")
                #expect(try await gateway.request(.DELETE, "/media/\(mediaID)", token: token).status == 200)
                let pending = try await gateway.scalar(
                    "SELECT count(*) FROM media.pending_deletions WHERE object_key = ANY(string_to_array('\(keys)', ','))")
                let stillThere = try await gateway.scalar(
                    "SELECT count(*) FROM media.renditions WHERE media_id = '\(mediaID)'")
                #expect(stillThere == 0)
                // Removed at once, or queued for the janitor: never forgotten.
                #expect(pending <= 2)
            }
            #expect(
                try await gateway.scalar(
                    "SELECT used_bytes FROM media.user_storage s JOIN auth.users u ON u.id = s.user_id WHERE u.discord_id = '7002'")
                    == 0)
        }
    }

    @Test("10-bit HLG and PQ stay HDR in HEVC and become SDR BT.709 in H.264", arguments: ["arib-std-b67", "smpte2084"])
    func hdr(transfer: String) async throws {
        let source = try await Self.clip(
            "hdr.mp4",
            [
                "-vf", "format=yuv420p10le", "-c:v", "libx265", "-tag:v", "hvc1",
                "-x265-params", "log-level=error:colorprim=bt2020:transfer=\(transfer):colormatrix=bt2020nc",
                "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", "-c:a", "aac",
            ])
        defer { try? FileManager.default.removeItem(at: source) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7003")
            let (mediaID, status) = try await Self.process(gateway, token: token, file: source, type: "video/mp4")
            #expect(status["status"] as? String == "ready", "\(status)")
            let renditions = try await Self.renditions(gateway, token: token, mediaID: mediaID)
            #expect(Self.kinds(renditions) == ["primary", "compatibility"])
            #expect(renditions[0]["hdr"] as? Bool == true)
            #expect(renditions[1]["hdr"] as? Bool == false)
            let (primary, hevc) = try await Self.fetch(gateway, renditions[0])
            let (compatibility, avc) = try await Self.fetch(gateway, renditions[1])
            defer {
                try? FileManager.default.removeItem(at: primary)
                try? FileManager.default.removeItem(at: compatibility)
            }
            #expect(hevc.video?.pixelFormat == "yuv420p10le")
            #expect(hevc.video?.colour.transfer == transfer)
            #expect(hevc.video?.colour.primaries == "bt2020")
            #expect((renditions[0]["mime_type"] as? String)?.contains("hvc1.2.4.") == true, "Main 10")
            #expect(avc.video?.pixelFormat == "yuv420p")
            #expect(avc.video?.colour.transfer == "bt709")
            #expect(avc.video?.colour.primaries == "bt709")
        }
    }

    /// The video packets of a file, hashed: equal when a stream was copied, different when it was re-encoded.
    static func videoDigest(_ file: URL) async throws -> String {
        try await Shell.output(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", file.path, "-map", "0:v:0",
            "-c", "copy", "-f", "md5", "-"])
    }

    @Test("each transcode policy copies or re-encodes as it says; disabled keeps only the poster")
    func policies() async throws {
        // HEVC 320x240, noisy enough for several Mbit/s: above a 1 Mbit/s cap, below the default 20M.
        let source = try await Self.clip(
            "hevc.mp4",
            [
                "-vf", "noise=alls=30:allf=t", "-c:v", "libx265", "-tag:v", "hvc1", "-x265-params", "log-level=error",
                "-crf", "12", "-pix_fmt", "yuv420p", "-c:a", "aac",
            ])
        defer { try? FileManager.default.removeItem(at: source) }
        let original = try await Self.videoDigest(source)
        let cases: [(policy: String, extra: [String: String], copied: Bool)] = [
            ("required", ["FFMPEG_MAX_HEIGHT": "144"], true),
            ("optimal", [:], true),
            ("optimal", ["FFMPEG_MAX_HEIGHT": "144"], false),
            ("bitrate", [:], true),
            ("bitrate", ["TRANSCODE_MAX_BITRATE": "1M"], false),
            ("all", [:], false),
        ]
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7004")
            for (policy, extra, copied) in cases {
                let (mediaID, status) = try await Self.process(
                    gateway, token: token, file: source, type: "video/mp4",
                    extra: extra.merging(["TRANSCODE_POLICY": policy, "TRANSCODE_COMPAT_RENDITION": "never"]) { $1 })
                #expect(status["status"] as? String == "ready", "\(policy): \(status)")
                let renditions = try await Self.renditions(gateway, token: token, mediaID: mediaID)
                let (primary, _) = try await Self.fetch(gateway, renditions[0])
                defer { try? FileManager.default.removeItem(at: primary) }
                #expect((try await Self.videoDigest(primary) == original) == copied, "\(policy) \(extra)")
            }
            let (mediaID, status) = try await Self.process(
                gateway, token: token, file: source, type: "video/mp4", extra: ["TRANSCODE_POLICY": "disabled"])
            #expect(status["status"] as? String == "ready")
            let item = try await gateway.request(.GET, "/media/\(mediaID)", token: token).json
            #expect(item["thumbnail_url"] != nil)
            #expect((item["renditions"] as? [Any])?.isEmpty == true, "an HEVC original is not browser-safe")
            #expect(try await gateway.text("SELECT COALESCE(processed_key, 'none') FROM media.items WHERE id = '\(mediaID)'") == "none")
        }
    }

    @Test("Chromium, which has no HEVC decoder, plays an HEVC original through the page's H.264 source",
        .enabled(if: SharePageBrowserTests.ready, "needs chromium (scripts/test.sh provides it)"))
    func playsInABrowserWithoutHEVC() async throws {
        let browser = try #require(HeadlessBrowser.installed)
        let source = try await Self.clip("phone.mov", Self.hevcMov, audio: false)
        defer { try? FileManager.default.removeItem(at: source) }
        // Media URLs must be reachable by the browser: S3 presigns for 127.0.0.1, the test API base does not.
        try await GatewayHarness.with(extraEnvironment: S3TestServer.environment()) { gateway in
            let token = try await gateway.token(for: "7007")
            let (mediaID, status) = try await Self.process(gateway, token: token, file: source, type: "video/quicktime")
            #expect(status["status"] as? String == "ready", "\(status)")
            let renditions = try await Self.renditions(gateway, token: token, mediaID: mediaID)
            let collection = try await CollectionFlowTests.create(gateway, token: token, title: "Phone", description: "")
            let id = try #require(collection["id"] as? String)
            _ = try await CollectionFlowTests.add(gateway, token: token, collection: id, media: mediaID)
            let link = try await CollectionFlowTests.link(gateway, token: token, collection: id, body: "{}")
            let pagePath = CollectionFlowTests.path(link["url"])
            let html = try await gateway.request(.GET, pagePath).text

            // The page's <source> types are exactly the stored files' codecs (each checked against its file).
            let video = try #require(html.range(of: "<video").flatMap { start in
                html.range(of: "</video>", range: start.upperBound..<html.endIndex).map { String(html[start.lowerBound..<$0.upperBound]) }
            })
            let types = video.components(separatedBy: "type=\"").dropFirst().compactMap {
                $0.split(separator: "\"", maxSplits: 1).first.map { $0.replacingOccurrences(of: "&quot;", with: "\"") }
            }
            #expect(types == renditions.compactMap { $0["mime_type"] as? String })
            for rendition in renditions {
                let (file, probe) = try await Self.fetch(gateway, rendition)
                defer { try? FileManager.default.removeItem(at: file) }
                let level = try await Shell.output([
                    "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=level", "-of", "csv=p=0",
                    file.path,
                ])
                let type = rendition["mime_type"] as? String ?? ""
                if probe.video?.codecName == "h264" {
                    #expect(type.contains("avc1.6400" + String(format: "%02X", Int(level) ?? -1)), "\(type) level \(level)")
                } else {
                    #expect(type.contains(".L\(level)."), "\(type) level \(level)")
                }
            }

            // A copy of the page's player, with a script (the page itself allows none) that plays it muted and
            // reports what the browser chose and how far it got.
            let page = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-play-\(UUID().uuidString).html")
            defer { try? FileManager.default.removeItem(at: page) }
            let base = gateway.baseURL + pagePath[..<(pagePath.lastIndex(of: "/") ?? pagePath.endIndex)] + "/"
            let player = video.replacingOccurrences(of: "<video", with: "<video id=\"v\" muted")
            let script = """
                <pre id="out">pending</pre><script>
                const v = document.getElementById('v');
                const report = () => { document.getElementById('out').textContent = JSON.stringify({
                  time: v.currentTime, source: v.currentSrc, ready: v.readyState, network: v.networkState,
                  error: v.error && v.error.code, hevc: v.canPlayType('video/mp4; codecs="hvc1"')}); };
                v.addEventListener('timeupdate', () => { if (v.currentTime > 0.5) report(); });
                v.addEventListener('error', report, true);
                v.play().catch(report);
                setTimeout(report, 6000);
                </script>
                """
            try Data("<!doctype html><html><head><base href=\"\(base)\"></head><body>\(player)\(script)</body></html>".utf8)
                .write(to: page)
            let result = try await browser.runPage(page)
            let report = try #require(result.stdout.components(separatedBy: "<pre id=\"out\">").last?
                .components(separatedBy: "</pre>").first)
            let played = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
            #expect((played["time"] as? Double ?? 0) > 0.5, "currentTime advanced: \(report) \(result.stderr.suffix(1500))")
            #expect((played["source"] as? String)?.hasSuffix("/compatible") == true, "\(report)")
        }
    }

    @Test("a renamed text file fails after one attempt with a readable reason")
    func notAVideo() async throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-\(UUID().uuidString)-notes.mp4")
        try Data(String(repeating: "just some notes, not a video\n", count: 200).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7005")
            let (_, status) = try await Self.process(
                gateway, token: token, file: file, type: "video/mp4", extra: ["JOB_MAX_ATTEMPTS": "5"])
            #expect(status["status"] as? String == "failed")
            #expect(status["attempts"] as? Int == 1, "a file that cannot be decoded is not retried")
            #expect((status["error_message"] as? String)?.isEmpty == false)
        }
    }

    @Test("an HLS playlist and an ffconcat list uploaded as video/mp4 are refused: nothing is fetched, no retry")
    func hostileInputs() async throws {
        let listener = try LocalListener()
        let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:\(listener.port)/x.ts\n#EXT-X-ENDLIST\n"
        let concat = "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'http://127.0.0.1:\(listener.port)/y.mp4'\n"
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7006")
            for (name, text) in [("list.mp4", playlist), ("concat.mp4", concat)] {
                let file = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-\(UUID().uuidString)-\(name)")
                try Data(text.utf8).write(to: file)
                defer { try? FileManager.default.removeItem(at: file) }
                let (_, status) = try await Self.process(gateway, token: token, file: file, type: "video/mp4")
                #expect(status["status"] as? String == "failed", "\(name)")
                #expect(status["attempts"] as? Int == 1)
            }
        }
        #expect(listener.acceptedConnections() == 0)
    }
}
