import HTTPTypes
import Foundation
import Hummingbird

extension HTTPField.Name {
    public static let requestID = Self("X-Request-ID")!
    public static let gatewaySecret = Self("X-Gateway-Secret")!
    /// A personal API key, for clients that cannot set `Authorization`.
    public static let apiKey = Self("X-API-Key")!
}

/// Accepts a caller's `X-Request-ID` (when it is short and printable) or makes one, logs with it and returns it.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? Self.generate()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response = try await next(request, context)
        response.headers[.requestID] = requestID
        return response
    }

    static func acceptable(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") })
        else { return nil }
        return value
    }

    static func generate() -> String {
        UUID().uuidString.lowercased()
    }
}
