import Foundation
import Hummingbird
import NIOCore

/// The signed-in user, set by the authentication middleware, and the credential that proved it.
public struct AuthenticatedUser: Sendable, Hashable {
    public let id: UUID
    public let credential: Credential
    public let discordID: String
    public let username: String

    public init(id: UUID, credential: Credential, discordID: String, username: String) {
        self.id = id
        self.credential = credential
        self.discordID = discordID
        self.username = username
    }

    /// The session behind the request; nil for an API key.
    public var sessionID: UUID? {
        if case .session(let id) = credential { id } else { nil }
    }
}

/// Per-request data only: request id, the peer, body limit and the signed-in user.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    public var user: AuthenticatedUser?
    public var maxUploadSize: Int = 1 << 20
    /// Address of the direct peer (a proxy in front of the gateway shows up here).
    public let remoteAddress: String?
    /// The client's address: the peer, or what trusted proxies report (see `ClientAddressMiddleware`).
    public var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.clientAddress = remoteAddress
    }

    public var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public var responseEncoder: JSONEncoder { APIJSON.encoder }

    /// The signed-in user or an `unauthenticated` error.
    public func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw AppError.unauthenticated() }
        return user
    }
}

/// JSON conventions of the API: RFC 3339 UTC timestamps, unescaped slashes.
public enum APIJSON {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}

/// RFC 3339 UTC formatting with millisecond precision, and parsing of what clients send.
public enum RFC3339 {
    /// A client's timestamp, with or without fractional seconds.
    public static func date(from text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return withFraction.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    public static func string(from date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }
}

extension Request {
    /// Decodes a JSON body, answering bad input with an `invalid_argument` envelope naming the field.
    public func decodeJSON<Value: Decodable>(as type: Value.Type, context: AppRequestContext) async throws -> Value {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 { throw AppError.invalidArgument("request body must be a JSON object") }
        // A NUL byte is never in UTF-8 JSON, but it is in every UTF-16 or UTF-32 document, which the decoder would
        // otherwise accept and which the escape scan below cannot read.
        if buffer.readableBytesView.contains(0) {
            throw AppError.invalidArgument("request body must be JSON in UTF-8")
        }
        if JSONText.containsEscapedNUL(buffer.readableBytesView) {
            // Valid JSON, but PostgreSQL text cannot hold it: refused here rather than failing in the database.
            throw AppError.invalidArgument("text fields must not contain NUL characters (\\u0000)")
        }
        do {
            return try context.requestDecoder.decode(Value.self, from: buffer)
        } catch let error as DecodingError {
            let field = Self.field(of: error)
            throw AppError.invalidArgument(Self.describe(error), details: field.map { ["field": .string($0)] })
        }
    }

    /// The dotted path of the field a decoding error is about; nil when it is about the whole body.
    static func field(of error: DecodingError) -> String? {
        let codingPath: [any CodingKey]
        switch error {
        case .dataCorrupted(let context), .valueNotFound(_, let context), .typeMismatch(_, let context):
            codingPath = context.codingPath
        case .keyNotFound(let key, let context):
            codingPath = context.codingPath + [key]
        @unknown default:
            return nil
        }
        let path = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return path.isEmpty ? nil : path
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "request body is not valid JSON"
        case .dataCorrupted(let context):
            return "field `\(path(context.codingPath))` has an invalid value"
        case .keyNotFound(let key, let context):
            return "field `\(path(context.codingPath + [key]))` is required"
        case .valueNotFound(_, let context):
            return "field `\(path(context.codingPath))` must not be null"
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "request body must be a JSON object" : "field `\(field)` must be \(Self.name(of: type))"
        @unknown default:
            return "request body is invalid"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Double.Type: return "a number"
        case is [Any].Type: return "an array"
        default: return "of a different type"
        }
    }
}

/// Facts about raw JSON text.
enum JSONText {
    /// Whether a string in the document holds `\u0000`: a backslash that is not itself escaped, then `u0000`.
    static func containsEscapedNUL(_ bytes: some Collection<UInt8>) -> Bool {
        var backslashes = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x5C {
                backslashes += 1
            } else {
                if byte == 0x75, backslashes % 2 == 1 {
                    let digits = bytes[bytes.index(after: index)...].prefix(4)
                    if digits.count == 4 && digits.allSatisfy({ $0 == 0x30 }) { return true }
                }
                backslashes = 0
            }
            index = bytes.index(after: index)
        }
        return false
    }
}
