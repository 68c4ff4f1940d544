import Foundation
import Hummingbird
import Logging

/// Renders every error, including unknown routes and oversized bodies, as the API's error envelope.
public struct ErrorEnvelopeMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let appError = Self.appError(for: error, request: request, context: context)
            return Self.response(for: appError)
        }
    }

    /// Maps any error to the envelope; unknown errors are logged and answered as `internal`.
    public static func appError(for error: any Error, request: Request, context: Context) -> AppError {
        switch error {
        case let error as AppError:
            if error.code == .internal { context.logger.error("request failed", metadata: ["error": "\(error)"]) }
            return error
        case let error as HTTPError:
            return appError(forStatus: error.status, message: error.body, request: request)
        case let error as any HTTPResponseError:
            return appError(forStatus: error.status, message: nil, request: request)
        case is CancellationError:
            return .unavailable("request cancelled")
        default:
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .internal
        }
    }

    static func appError(forStatus status: HTTPResponse.Status, message: String?, request: Request) -> AppError {
        switch status.code {
        case 404:
            return .notFound("no route for \(request.method.rawValue) \(request.uri.path)")
        case 405:
            return AppError(.notFound, status: .methodNotAllowed, "method \(request.method.rawValue) not allowed here")
        case 413:
            return .resourceExhausted("request body is too large", status: .contentTooLarge)
        case 400:
            return .invalidArgument(message.map(Self.sanitize) ?? "bad request")
        case 401: return .unauthenticated()
        case 403: return .permissionDenied(message ?? "permission denied")
        case 409: return .alreadyExists(message ?? "already exists")
        case 412: return .failedPrecondition(message ?? "precondition failed", status: .preconditionFailed)
        case 429: return .resourceExhausted(message ?? "too many requests")
        case 503: return .unavailable(message ?? "service unavailable")
        case 400..<500:
            return AppError(.invalidArgument, status: status, message ?? status.reasonPhrase)
        default:
            return .internal
        }
    }

    /// Hummingbird's decoder messages embed Swift type names; keep only the caller-relevant part.
    private static func sanitize(_ message: String) -> String {
        message.hasPrefix("The given data was not valid input") ? "request body is not valid JSON" : message
    }

    public static func response(for error: AppError) -> Response {
        let envelope = ErrorEnvelope(code: error.code.rawValue, message: error.message, details: error.details)
        let data = (try? APIJSON.encoder.encode(envelope)) ?? Data(#"{"code":"internal","message":"internal error","details":null}"#.utf8)
        var headers = error.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
