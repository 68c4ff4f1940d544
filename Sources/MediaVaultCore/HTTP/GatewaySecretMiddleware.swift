import HTTPTypes
import Foundation
import Hummingbird

/// When `GATEWAY_SECRET` is set, only requests carrying it in `X-Gateway-Secret` pass. Health, metrics, share pages
/// and their JSON (`/api/share/`) stay open so orchestrators, Prometheus (which cannot add the header) and link
/// viewers reach them; keep `/metrics` off the public proxy.
public struct GatewaySecretMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let secret: [UInt8]
    static let openPathPrefixes = ["/healthz", "/readyz", "/metrics", "/s/", "/api/share/"]

    public init(secret: String) {
        self.secret = Array(secret.utf8)
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
        guard ConstantTime.equal(Array((request.headers[.gatewaySecret] ?? "").utf8), secret) else {
            throw AppError.permissionDenied("missing or wrong gateway secret")
        }
        return try await next(request, context)
    }
}
