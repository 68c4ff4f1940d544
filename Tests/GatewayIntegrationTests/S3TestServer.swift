import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The S3 server the test script started (SeaweedFS, which checks signatures like MinIO and AWS).
enum S3TestServer {
    static var endpoint: String { ProcessInfo.processInfo.environment["S3_TEST_ENDPOINT"] ?? "127.0.0.1:8333" }
    static var accessKey: String { ProcessInfo.processInfo.environment["S3_TEST_ACCESS_KEY"] ?? "storage-test-access" }
    static var secretKey: String {
        ProcessInfo.processInfo.environment["S3_TEST_SECRET_KEY"] ?? "storage-test-secret-key-0123456789"
    }

    /// Whether something listens at the endpoint (a plain TCP connect on loopback).
    static var isReachable: Bool {
        let parts = endpoint.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return false }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, String(parts[0]), &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// Gateway settings for the S3 backend on a fresh bucket.
    static func environment() -> [String: String] {
        [
            "STORAGE_BACKEND": "s3", "S3_ENDPOINT": endpoint, "S3_ACCESS_KEY": accessKey, "S3_SECRET_KEY": secretKey,
            "S3_BUCKET": "mv-" + UUID().uuidString.prefix(12).lowercased(), "S3_CREATE_BUCKET": "true",
            "S3_CONFIGURE_CORS": "true",
        ]
    }
}
