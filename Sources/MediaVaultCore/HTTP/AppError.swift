import HTTPTypes
import Foundation
import Hummingbird

/// The one error type handlers throw; rendered as `{"code", "message", "details"}` by `ErrorEnvelopeMiddleware`.
public struct AppError: Error, Sendable, CustomStringConvertible {
    /// Envelope codes of the API contract.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidArgument = Code(rawValue: "invalid_argument")
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        public static let permissionDenied = Code(rawValue: "permission_denied")
        public static let notFound = Code(rawValue: "not_found")
        public static let alreadyExists = Code(rawValue: "already_exists")
        public static let failedPrecondition = Code(rawValue: "failed_precondition")
        public static let resourceExhausted = Code(rawValue: "resource_exhausted")
        public static let unavailable = Code(rawValue: "unavailable")
        public static let `internal` = Code(rawValue: "internal")
    }

    public let code: Code
    public let status: HTTPResponse.Status
    /// Safe to show to the caller; never carries internal detail.
    public let message: String
    /// Structured, caller-safe extra information (for example which field failed).
    public let details: [String: JSONValue]?
    public var headers: HTTPFields

    public init(
        _ code: Code, status: HTTPResponse.Status, _ message: String, details: [String: JSONValue]? = nil,
        headers: HTTPFields = [:]
    ) {
        self.code = code
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidArgument(_ message: String, details: [String: JSONValue]? = nil) -> AppError {
        AppError(.invalidArgument, status: .badRequest, message, details: details)
    }
    /// With the `WWW-Authenticate` challenge HTTP requires of every 401.
    public static func unauthenticated(_ message: String = "authentication required") -> AppError {
        AppError(.unauthenticated, status: .unauthorized, message, headers: [.wwwAuthenticate: #"Bearer realm="mediavault""#])
    }
    public static func permissionDenied(_ message: String) -> AppError {
        AppError(.permissionDenied, status: .forbidden, message)
    }
    public static func notFound(_ message: String) -> AppError {
        AppError(.notFound, status: .notFound, message)
    }
    public static func alreadyExists(_ message: String) -> AppError {
        AppError(.alreadyExists, status: .conflict, message)
    }
    public static func failedPrecondition(
        _ message: String, status: HTTPResponse.Status = .badRequest, details: [String: JSONValue]? = nil
    ) -> AppError {
        AppError(.failedPrecondition, status: status, message, details: details)
    }
    public static func resourceExhausted(
        _ message: String, status: HTTPResponse.Status = .tooManyRequests, details: [String: JSONValue]? = nil
    ) -> AppError {
        AppError(.resourceExhausted, status: status, message, details: details)
    }
    public static func unavailable(_ message: String) -> AppError {
        AppError(.unavailable, status: .serviceUnavailable, message)
    }
    /// The message is fixed: internal detail goes to the log, never to the caller.
    public static var `internal`: AppError {
        AppError(.internal, status: .internalServerError, "internal error")
    }
}

/// A small JSON value for error details and free-form fields.
public enum JSONValue: Sendable, Hashable, Codable {
    case string(String), int(Int64), double(Double), bool(Bool), null
    case array([JSONValue]), object([String: JSONValue])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// Wire shape of the error envelope.
public struct ErrorEnvelope: Codable, Sendable {
    public let code: String
    public let message: String
    public let details: [String: JSONValue]?

    public init(code: String, message: String, details: [String: JSONValue]?) {
        self.code = code
        self.message = message
        self.details = details
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        // The contract shows `"details": null`, so the key is always present.
        if let details { try container.encode(details, forKey: .details) } else { try container.encodeNil(forKey: .details) }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
