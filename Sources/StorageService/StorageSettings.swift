import MediaVaultCore

/// Settings of the object store, read by the gateway and the worker.
public enum StorageSettings {
    public static let backend = Setting(
        "STORAGE_BACKEND",
        "`filesystem` (objects in STORAGE_DIR, served by the gateway) or `s3`; unset: `s3` when S3_ENDPOINT is set "
            + "(as the original backend's settings mean), else `filesystem`")
    public static let directory = Setting(
        "STORAGE_DIR", "Folder of the filesystem store", default: ".data/storage")
    public static let s3Endpoint = Setting("S3_ENDPOINT", "S3/MinIO host:port as the services reach it")
    public static let s3PublicEndpoint = Setting(
        "S3_PUBLIC_ENDPOINT", "S3/MinIO host:port (or URL) as browsers reach it, for presigned URLs (default: S3_ENDPOINT)")
    public static let s3AccessKey = Setting("S3_ACCESS_KEY", "S3 access key ID")
    public static let s3SecretKey = Setting("S3_SECRET_KEY", "S3 secret access key", secret: true)
    public static let s3Bucket = Setting(
        "S3_BUCKET", "Bucket holding every object (the original backend's default name)", default: "media-vault")
    public static let s3UseSSL = Setting("S3_USE_SSL", "Use https to reach S3", default: "false")
    public static let s3Region = Setting("S3_REGION", "S3 region used in signatures", default: "us-east-1")
    public static let s3PathStyle = Setting(
        "S3_FORCE_PATH_STYLE", "Path-style URLs (MinIO); false for virtual-host style", default: "true")
    public static let s3CreateBucket = Setting(
        "S3_CREATE_BUCKET", "Create the bucket at start when it is missing", default: "false")
    public static let s3ConfigureCORS = Setting(
        "S3_CONFIGURE_CORS", "Set bucket CORS for browser uploads from the frontend origins at start", default: "false")

    public static let all: [Setting] = [
        backend, directory, s3Endpoint, s3PublicEndpoint, s3AccessKey, s3SecretKey, s3Bucket, s3UseSSL, s3Region,
        s3PathStyle, s3CreateBucket, s3ConfigureCORS,
    ]
}
