import Foundation

/// When, where and with what a photo or video was taken, as the worker read it from the file.
///
/// `takenAt` and the location are typed columns (they are sorted and filtered by); the rest is kept as JSON, so new
/// fields need no migration.
public struct CaptureMetadata: Sendable, Equatable, Codable {
    public var takenAt: Date?
    /// Which tag the time came from (`exif_original`, `quicktime_creation`, …); nil when the file had none.
    public var takenAtSource: String?
    public var latitude: Double?
    public var longitude: Double?
    public var altitude: Double?
    public var details: Details

    /// Camera, lens, exposure and dimensions: what `metadata` shows.
    public struct Details: Sendable, Equatable, Codable {
        public var cameraMake: String?
        public var cameraModel: String?
        public var lens: String?
        public var iso: Int?
        public var aperture: Double?
        public var exposureTime: Double?
        public var focalLength: Double?
        public var orientation: Int?
        public var width: Int?
        public var height: Int?

        public init(
            cameraMake: String? = nil, cameraModel: String? = nil, lens: String? = nil, iso: Int? = nil,
            aperture: Double? = nil, exposureTime: Double? = nil, focalLength: Double? = nil, orientation: Int? = nil,
            width: Int? = nil, height: Int? = nil
        ) {
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

        enum CodingKeys: String, CodingKey {
            case lens, iso, aperture, orientation, width, height
            case cameraMake = "camera_make"
            case cameraModel = "camera_model"
            case exposureTime = "exposure_time"
            case focalLength = "focal_length"
        }
    }

    public init(
        takenAt: Date? = nil, takenAtSource: String? = nil, latitude: Double? = nil, longitude: Double? = nil,
        altitude: Double? = nil, details: Details = Details()
    ) {
        self.takenAt = takenAt
        self.takenAtSource = takenAtSource
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.details = details
    }
}
