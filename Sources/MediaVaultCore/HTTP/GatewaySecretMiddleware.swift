import HTTPTypes
import Crypto
import Foundation
import Hummingbird

/// When `GATEWAY_SECRET` is set, only requests carrying it in `X-Gateway-Secret` pass. Health, metrics, share pages
/// and their JSON (`/api/share/`) stay open so orchestrators, Prometheus (which cannot add the header) and link
/// viewers reach them; keep `/metrics` off the public proxy.
public struct GatewaySecretMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let secretDigest: [UInt8]
    static let openPathPrefixes = ["/healthz", "/readyz", "/metrics", "/s/", "/api/share/"]

    public init(secret: String) {
        self.secretDigest = Array(SHA256.hash(data: Data(secret.utf8)))
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if Self.openPathPrefixes.contains(where: { path == $0 || (path.hasPrefix($0) && $0.hasSuffix("/")) })
            || request.method == .options
        {
            return try await next(request, context)
        }
        // Comparing digests keeps the comparison constant-time whatever the presented length.
        let presented = SHA256.hash(data: Data((request.headers[.gatewaySecret] ?? "").utf8))
        guard ConstantTime.equal(Array(presented), secretDigest) else {
            throw AppError.permissionDenied("missing or wrong gateway secret")
        }
        return try await next(request, context)
    }
}

/// Constant-time comparison for secrets and tokens.
public enum ConstantTime {
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
