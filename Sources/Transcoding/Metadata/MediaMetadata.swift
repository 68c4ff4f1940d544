import Foundation

/// What a photo or video says about itself, read by exiftool: when and where it was taken, with what.
public struct MediaMetadata: Sendable, Equatable {
    /// Where the capture time came from, so a client can tell a camera's clock from a guess.
    public enum TimeSource: String, Sendable, Equatable {
        /// EXIF `DateTimeOriginal` (with `OffsetTimeOriginal` when present).
        case exifOriginal = "exif_original"
        /// EXIF `CreateDate` (digitised).
        case exifCreate = "exif_create"
        /// QuickTime `CreationDate` (phones write it with the local offset).
        case quickTimeCreation = "quicktime_creation"
        /// QuickTime `CreateDate` (UTC by the specification).
        case quickTimeCreate = "quicktime_create"
    }

    public var takenAt: Date?
    public var takenAtSource: TimeSource?
    /// Whether `takenAt` carried a UTC offset; without one it is read as UTC.
    public var takenAtHasOffset: Bool
    public var latitude: Double?
    public var longitude: Double?
    public var altitude: Double?
    public var cameraMake: String?
    public var cameraModel: String?
    public var lens: String?
    public var iso: Int?
    public var aperture: Double?
    /// Seconds.
    public var exposureTime: Double?
    /// Millimetres.
    public var focalLength: Double?
    /// EXIF orientation 1...8.
    public var orientation: Int?
    public var width: Int?
    public var height: Int?

    public init(
        takenAt: Date? = nil, takenAtSource: TimeSource? = nil, takenAtHasOffset: Bool = false,
        latitude: Double? = nil, longitude: Double? = nil, altitude: Double? = nil, cameraMake: String? = nil,
        cameraModel: String? = nil, lens: String? = nil, iso: Int? = nil, aperture: Double? = nil,
        exposureTime: Double? = nil, focalLength: Double? = nil, orientation: Int? = nil, width: Int? = nil,
        height: Int? = nil
    ) {
        self.takenAt = takenAt
        self.takenAtSource = takenAtSource
        self.takenAtHasOffset = takenAtHasOffset
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.cameraMake = cameraMake
        self.cameraModel = cameraModel
        self.lens = lens
        self.iso = iso
        self.aperture = aperture
        self.exposureTime = exposureTime
        self.focalLength = focalLength
        self.orientation = orientation
        self.width = width
        self.height = height
    }

    /// Parses `exiftool -json -n` output for one file; pure. Values outside their valid ranges (a latitude of 200,
    /// an orientation of 9, a year 0 date) are dropped rather than trusted.
    public static func parse(exiftoolJSON data: Data) throws -> MediaMetadata {
        guard let files = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], let tags = files.first
        else { throw TranscodingError.invalidInput.with(reason: "exiftool output is not a JSON array of files") }
        var metadata = MediaMetadata()
        let candidates: [(String, String?, TimeSource)] = [
            ("DateTimeOriginal", "OffsetTimeOriginal", .exifOriginal), ("CreationDate", nil, .quickTimeCreation),
            ("CreateDate", "OffsetTimeDigitized", .exifCreate),
        ]
        let isQuickTime = (tags["FileType"] as? String).map { ["MOV", "MP4", "M4V", "3GP", "HEIC", "HEIF"].contains($0) }
            ?? false
        for (key, offsetKey, source) in candidates {
            // In QuickTime files CreateDate is the container's UTC stamp, not EXIF's local digitised time.
            let resolvedSource = key == "CreateDate" && isQuickTime ? .quickTimeCreate : source
            guard let text = tags[key] as? String,
                let (date, hasOffset) = Self.date(text, offset: offsetKey.flatMap { tags[$0] as? String },
                    utcWithoutOffset: resolvedSource == .quickTimeCreate)
            else { continue }
            metadata.takenAt = date
            metadata.takenAtSource = resolvedSource
            metadata.takenAtHasOffset = hasOffset
            break
        }
        // The Composite tags are signed; the raw GPS ones are not, and their Ref says the hemisphere.
        let south = (tags["GPSLatitudeRef"] as? String)?.uppercased().hasPrefix("S") ?? false
        let west = (tags["GPSLongitudeRef"] as? String)?.uppercased().hasPrefix("W") ?? false
        if var latitude = number(tags["GPSLatitude"]), var longitude = number(tags["GPSLongitude"]),
            (-90...90).contains(latitude), (-180...180).contains(longitude), latitude != 0 || longitude != 0
        {
            if south { latitude = -abs(latitude) }
            if west { longitude = -abs(longitude) }
            metadata.latitude = latitude
            metadata.longitude = longitude
            if let altitude = number(tags["GPSAltitude"]), abs(altitude) < 100_000 {
                // With -n, GPSAltitudeRef 1 means below sea level.
                metadata.altitude = number(tags["GPSAltitudeRef"]) == 1 ? -abs(altitude) : altitude
            }
        }
        metadata.cameraMake = text(tags["Make"])
        metadata.cameraModel = text(tags["Model"])
        metadata.lens = text(tags["LensModel"]) ?? text(tags["LensID"]) ?? text(tags["Lens"])
        metadata.iso = number(tags["ISO"]).flatMap { $0 > 0 && $0 < 10_000_000 ? Int($0) : nil }
        metadata.aperture = number(tags["FNumber"]).flatMap { $0 > 0 && $0 < 1000 ? $0 : nil }
        metadata.exposureTime = number(tags["ExposureTime"]).flatMap { $0 > 0 && $0 < 100_000 ? $0 : nil }
        metadata.focalLength = number(tags["FocalLength"]).flatMap { $0 > 0 && $0 < 100_000 ? $0 : nil }
        metadata.orientation = number(tags["Orientation"]).flatMap { (1...8).contains($0) ? Int($0) : nil }
        metadata.width = number(tags["ImageWidth"]).flatMap { $0 > 0 && $0 < 1_000_000 ? Int($0) : nil }
        metadata.height = number(tags["ImageHeight"]).flatMap { $0 > 0 && $0 < 1_000_000 ? Int($0) : nil }
        return metadata
    }

    /// `2021:07:14 18:30:05`, with an offset inside (`…+02:00`, `…Z`) or given apart (`+02:00`).
    static func date(_ text: String, offset: String?, utcWithoutOffset: Bool) -> (Date, Bool)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count >= 19 else { return nil }
        let stamp = String(trimmed.prefix(19))
        var rest = String(trimmed.dropFirst(19))
        // Sub-seconds (".123") are dropped: the API shows seconds.
        if rest.hasPrefix(".") { rest = String(rest.drop { $0 == "." || $0.isNumber }) }
        let zone = rest.isEmpty ? offset?.trimmingCharacters(in: .whitespaces) : rest
        let digits = stamp.split(whereSeparator: { $0 == ":" || $0 == " " }).compactMap { Int($0) }
        guard digits.count == 6, (1900...2200).contains(digits[0]), (1...12).contains(digits[1]),
            (1...31).contains(digits[2]), (0...23).contains(digits[3]), (0...59).contains(digits[4]),
            (0...60).contains(digits[5])
        else { return nil }
        var seconds = 0
        var hasOffset = false
        if let zone, !zone.isEmpty {
            if zone == "Z" {
                hasOffset = true
            } else if let sign = zone.first, sign == "+" || sign == "-" {
                let parts = zone.dropFirst().split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2, parts[0] <= 14, parts[1] < 60 else { return nil }
                seconds = (parts[0] * 3600 + parts[1] * 60) * (sign == "-" ? -1 : 1)
                hasOffset = true
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let components = DateComponents(
            year: digits[0], month: digits[1], day: digits[2], hour: digits[3], minute: digits[4], second: digits[5])
        guard let local = calendar.date(from: components) else { return nil }
        // The stamp is local time at `offset`; without one it is taken as UTC (QuickTime's rule; a guess for EXIF).
        return (local.addingTimeInterval(TimeInterval(-seconds)), hasOffset || utcWithoutOffset)
    }

    private static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: return number.doubleValue.isFinite ? number.doubleValue : nil
        case let text as String: return Double(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    private static func text(_ value: Any?) -> String? {
        let raw: String? =
            switch value {
            case let text as String: text
            case let number as NSNumber: number.stringValue
            default: nil
            }
        guard let trimmed = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        // Control characters never belong in a camera name; a hostile file must not smuggle them into the API.
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: trimmed.unicodeScalars.lazy.filter { $0.properties.generalCategory != .control }.prefix(120))
        let cleaned = String(scalars).trimmingCharacters(in: .whitespaces)
        return cleaned.isEmpty ? nil : cleaned
    }
}
