import HTTPTypes
import Hummingbird

/// Sets `context.clientAddress`. Behind `trustedProxies` reverse proxies, each appends the address it saw to
/// `X-Forwarded-For`, so the client is the entry that many places from the right; anything further left is
/// client-supplied and ignored. With no trusted proxy the header is ignored altogether.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let trustedProxies: Int

    public init(trustedProxies: Int) {
        self.trustedProxies = trustedProxies
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard trustedProxies > 0 else { return try await next(request, context) }
        var context = context
        context.clientAddress = Self.clientAddress(
            forwardedFor: request.headers[values: .xForwardedFor], peer: context.remoteAddress,
            trustedProxies: trustedProxies)
        return try await next(request, context)
    }

    static func clientAddress(forwardedFor headers: [String], peer: String?, trustedProxies: Int) -> String? {
        let hops = headers.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        // The peer is the nearest proxy; the last `trustedProxies` entries were written by trusted proxies.
        let index = hops.count - trustedProxies
        guard index >= 0, index < hops.count else { return hops.first ?? peer }
        return hops[index]
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
