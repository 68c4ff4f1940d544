import MediaVaultCore

/// Settings read by the Media module.
public enum MediaSettings {
    public static let maxUploadBytes = Setting(
        "MAX_UPLOAD_BYTES", "Largest file accepted (bytes or 5GiB-style)", default: "5GiB", component: .gateway)
    public static let allowedMimeTypes = Setting(
        "ALLOWED_MIME_TYPES", "Accepted upload types, comma-separated; `type/*` wildcards allowed",
        default: "image/*,video/*,audio/*", component: .gateway)
    public static let defaultQuotaBytes = Setting(
        "DEFAULT_QUOTA_BYTES", "Storage quota of users without their own (empty: unlimited)", component: .gateway)
    public static let uploadURLTTLSeconds = Setting(
        "UPLOAD_URL_TTL_SECONDS", "Lifetime of presigned upload URLs", default: "900", component: .gateway)
    public static let streamURLTTLSeconds = Setting(
        "STREAM_URL_TTL_SECONDS", "Lifetime of presigned stream and download URLs", default: "3600",
        component: .gateway)
    public static let abandonedUploadHours = Setting(
        "ABANDONED_UPLOAD_HOURS", "Uploads never confirmed are removed after this many hours", default: "24",
        component: .gateway)
    public static let allowScriptable = Setting(
        "ALLOW_SCRIPTABLE_UPLOADS",
        "Accept script-capable types (SVG, HTML, XML, PDF) that ALLOWED_MIME_TYPES lets through; they are then only "
            + "ever served as attachments", default: "false", component: .gateway)
    public static let maxTagsPerMedia = Setting(
        "MAX_TAGS_PER_MEDIA", "Most tags one media item may carry (also the per-request limit)", default: "50",
        component: .gateway)

    public static let listCounterCheckHours = Setting(
        "LIST_COUNTER_CHECK_HOURS",
        "How often the per-owner list totals (by status and tag) are compared with exact counts and repaired",
        default: "6", component: .gateway)

    public static let all: [Setting] = [
        maxUploadBytes, allowedMimeTypes, defaultQuotaBytes, uploadURLTTLSeconds, streamURLTTLSeconds,
        abandonedUploadHours, maxTagsPerMedia, allowScriptable, listCounterCheckHours,
    ]
}

/// The Media module's validated configuration.
public struct MediaConfiguration: Sendable {
    public var maxUploadBytes: Int64
    public var allowedMimeTypes: [String]
    /// Whether script-capable uploads (``ScriptableContent``) are accepted at all.
    public var allowsScriptable = false
    public var defaultQuotaBytes: Int64?
    public var uploadURLTTL: Duration
    public var streamURLTTL: Duration
    public var abandonedUploadAge: Duration
    public var maxTagsPerMedia: Int
    public var listCounterCheckInterval: Duration = .seconds(6 * 3600)

    public init(
        maxUploadBytes: Int64 = 5 << 30, allowedMimeTypes: [String] = ["image/*", "video/*", "audio/*"],
        defaultQuotaBytes: Int64? = nil, uploadURLTTL: Duration = .seconds(900), streamURLTTL: Duration = .seconds(3600),
        abandonedUploadAge: Duration = .seconds(86400), maxTagsPerMedia: Int = 50
    ) {
        self.maxUploadBytes = maxUploadBytes
        self.allowedMimeTypes = allowedMimeTypes
        self.defaultQuotaBytes = defaultQuotaBytes
        self.uploadURLTTL = uploadURLTTL
        self.streamURLTTL = streamURLTTL
        self.abandonedUploadAge = abandonedUploadAge
        self.maxTagsPerMedia = maxTagsPerMedia
    }

    public init(reading reader: ConfigReader) {
        maxUploadBytes = reader.byteCount(MediaSettings.maxUploadBytes) ?? 5 << 30
        if maxUploadBytes < 1 { reader.fail(MediaSettings.maxUploadBytes, "must be positive") }
        allowedMimeTypes = reader.list(MediaSettings.allowedMimeTypes).map { $0.lowercased() }
        allowsScriptable = reader.bool(MediaSettings.allowScriptable)
        for pattern in allowedMimeTypes where !MimeType.isValidPattern(pattern) {
            reader.fail(MediaSettings.allowedMimeTypes, "has an invalid entry \"\(pattern)\" (use type/subtype or type/*)")
        }
        defaultQuotaBytes = reader.byteCount(MediaSettings.defaultQuotaBytes)
        uploadURLTTL = .seconds(reader.int(MediaSettings.uploadURLTTLSeconds, range: 60...604_800))
        streamURLTTL = .seconds(reader.int(MediaSettings.streamURLTTLSeconds, range: 60...604_800))
        abandonedUploadAge = .seconds(reader.int(MediaSettings.abandonedUploadHours, range: 1...8760) * 3600)
        maxTagsPerMedia = reader.int(MediaSettings.maxTagsPerMedia, range: 1...1000)
        listCounterCheckInterval = .seconds(reader.int(MediaSettings.listCounterCheckHours, range: 1...720) * 3600)
    }
}
