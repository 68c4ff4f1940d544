import Foundation
import TestSupport
import Testing

/// Capture time, place and camera read by exiftool in the worker, shown by `GET /media/:id`, sortable and filterable
/// in `GET /media`, and never shown on share links.
@Suite("Capture metadata",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/exiftool"), "exiftool is not installed"))
struct CaptureMetadataTests {
    /// A JPEG written by ffmpeg and tagged by exiftool.
    static func photo(takenAt: String, offset: String, latitude: Double, longitude: Double) async throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-photo-\(UUID().uuidString).jpg")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1",
            "-y", url.path,
        ])
        try await Shell.run([
            "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=\(takenAt)", "-OffsetTimeOriginal=\(offset)",
            "-GPSLatitude=\(abs(latitude))", "-GPSLatitudeRef=\(latitude < 0 ? "S" : "N")",
            "-GPSLongitude=\(abs(longitude))", "-GPSLongitudeRef=\(longitude < 0 ? "W" : "E")", "-Make=Canon",
            "-Model=Canon EOS R5", "-ISO=400", "-FNumber=4", url.path,
        ])
        return url
    }

    @Test("photos and videos get their capture time; the list sorts and filters by it; shares never show it")
    func captureTime() async throws {
        let paris = try await Self.photo(takenAt: "2021:07:14 18:30:05", offset: "+02:00", latitude: 48.8584, longitude: 2.2945)
        let rio = try await Self.photo(takenAt: "2019:05:06 07:08:09", offset: "-03:00", latitude: -22.9519, longitude: -43.2105)
        let clip = URL(fileURLWithPath: NSTemporaryDirectory() + "mv-clip-\(UUID().uuidString).mp4")
        try await Shell.run([
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "1",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-metadata", "creation_time=2020-02-03T04:05:06Z", "-y", clip.path,
        ])
        defer { for file in [paris, rio, clip] { try? FileManager.default.removeItem(at: file) } }
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7200")
            var ids: [String: String] = [:]
            try await ProcessingTests.withWorker(gateway, extra: ["FFMPEG_PRESET": "ultrafast"]) {
                for (name, file, type) in [("paris", paris, "image/jpeg"), ("rio", rio, "image/jpeg"), ("clip", clip, "video/mp4")] {
                    let id = try await ProcessingTests.uploadFile(gateway, token: token, file: file, type: type)
                    let status = try await ProcessingTests.waitForOutcome(gateway, token: token, mediaID: id)
                    #expect(status["status"] as? String == "ready", "\(name): \(status)")
                    ids[name] = id
                }
            }
            let photo = try await gateway.request(.GET, "/media/\(ids["paris"]!)", token: token).json
            #expect(photo["taken_at"] as? String == "2021-07-14T16:30:05.000Z", "\(photo)")
            #expect(photo["taken_at_source"] as? String == "exif_original")
            let location = try #require(photo["location"] as? [String: Any])
            #expect(location["latitude"] as? Double == 48.8584 && location["longitude"] as? Double == 2.2945)
            let metadata = try #require(photo["metadata"] as? [String: Any])
            #expect(metadata["camera_model"] as? String == "Canon EOS R5" && metadata["iso"] as? Int == 400)
            let south = try #require(
                try await gateway.request(.GET, "/media/\(ids["rio"]!)", token: token).json["location"] as? [String: Any])
            #expect(south["latitude"] as? Double == -22.9519 && south["longitude"] as? Double == -43.2105)
            let video = try await gateway.request(.GET, "/media/\(ids["clip"]!)", token: token).json
            #expect(video["taken_at"] as? String == "2020-02-03T04:05:06.000Z")
            #expect(video["taken_at_source"] as? String == "quicktime_create")

            func order(_ query: String) async throws -> [String] {
                let list = try await gateway.request(.GET, "/media?\(query)", token: token).json
                let items = list["items"] as? [[String: Any]] ?? []
                return items.compactMap { item in ids.first { $0.value == item["id"] as? String }?.key }
            }
            #expect(try await order("sort=taken_at_desc") == ["paris", "clip", "rio"])
            #expect(try await order("sort=taken_at_asc") == ["rio", "clip", "paris"])
            #expect(try await order("sort=taken_at_desc&taken_after=2020-01-01T00:00:00Z") == ["paris", "clip"])
            #expect(try await order("sort=taken_at_asc&taken_before=2021-01-01T00:00:00Z") == ["rio", "clip"])
            let bad = try await gateway.request(.GET, "/media?taken_after=yesterday", token: token)
            #expect(bad.status == 400 && bad.json["code"] as? String == "invalid_argument")
            // The original's list is unchanged: no capture fields there.
            let listed = try await gateway.request(.GET, "/media", token: token).json["items"] as? [[String: Any]] ?? []
            #expect(listed.allSatisfy { $0["location"] == nil && $0["taken_at"] == nil })

            // Share links show none of it: no coordinates, no camera.
            let collection = try await CollectionFlowTests.create(gateway, token: token, title: "Trip", description: "")
            let id = try #require(collection["id"] as? String)
            for media in ids.values { _ = try await CollectionFlowTests.add(gateway, token: token, collection: id, media: media) }
            // The share matrix: each switch shows exactly its part, on the page and in the JSON, and nothing by default.
            for (metadata, location) in [(false, false), (true, false), (false, true), (true, true)] {
                let body = metadata || location
                    ? #"{"show_metadata": \#(metadata), "show_location": \#(location)}"# : "{}"
                let link = try await CollectionFlowTests.link(gateway, token: token, collection: id, body: body)
                #expect(link["show_metadata"] as? Bool == metadata && link["show_location"] as? Bool == location)
                let shareToken = try #require(link["token"] as? String)
                for path in ["/api/share/\(shareToken)", CollectionFlowTests.path(link["url"])] {
                    let text = try await gateway.request(.GET, path).text
                    #expect(text.contains("48.858") == location && text.contains("2.294") == location, "\(body) \(path)")
                    #expect(text.contains("Canon") == metadata, "\(body) \(path)")
                }
            }
            // Nor do the files behind a link without downloads: a photo streams as its stripped preview, and its
            // original (EXIF and GPS included) is not handed out.
            let link = try await CollectionFlowTests.link(gateway, token: token, collection: id, body: "{}")
            let shareToken = try #require(link["token"] as? String)
            let json = try await gateway.request(.GET, "/api/share/\(shareToken)").json
            let photoItem = try #require((json["items"] as? [[String: Any]])?.first { $0["id"] as? String == ids["paris"] })
            #expect(photoItem["original_url"] == nil)
            #expect((photoItem["stream_url"] as? String)?.contains("previews/") == true, "\(photoItem)")
            let original = try await gateway.request(.GET, "/s/\(shareToken)/items/\(ids["paris"]!)/original")
            #expect(original.status == 404)
            let withDownloads = try await CollectionFlowTests.link(
                gateway, token: token, collection: id, body: #"{"allow_download": true}"#)
            let allowed = try await gateway.request(
                .GET, "/s/\(withDownloads["token"] as? String ?? "")/items/\(ids["paris"]!)/original")
            #expect(allowed.status == 307, "downloads on: the file as uploaded")

            // The collection's own token (the original's sharing) shows none of it either.
            let shared = try await gateway.request(
                .PUT, "/collection/\(id)/share", token: token, body: #"{"regenerate_token": true}"#).json
            let originalSharing = try await gateway.request(
                .GET, "/collection/\(id)?token=\(shared["share_token"] as? String ?? "")").text
            #expect(!originalSharing.contains("48.858") && !originalSharing.contains("Canon"))
            let tokenView = try await gateway.request(
                .GET, "/collection/\(id)?token=\(shared["share_token"] as? String ?? "")").json
            let photoForToken = (tokenView["items"] as? [[String: Any]])?.first { $0["id"] as? String == ids["paris"] }
            #expect((photoForToken?["stream_url"] as? String)?.contains("previews/") == true, "no photo original for a token viewer")
        }
    }
}
