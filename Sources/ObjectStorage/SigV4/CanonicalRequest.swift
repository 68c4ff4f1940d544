import Crypto

/// One HTTP header or query parameter, in order.
public struct HTTPField: Sendable, Hashable {
    /// Name as sent; SigV4 lowercases header names itself.
    public var name: String
    /// Value, not encoded.
    public var value: String

    /// A field from name and value.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The request as SigV4 sees it: method, canonical URI, query, the headers to sign and the payload hash.
///
/// The canonical form is built exactly as in AWS's "Create a canonical request":
/// ```
/// METHOD\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders\n\nSignedHeaders\nHashedPayload
/// ```
public struct CanonicalRequest: Sendable, Hashable {
    /// HTTP method, uppercased when signed.
    public var method: String
    /// The path as sent, already URI-encoded once (``AWSURIEncoding/encodePath(_:)``); `/` when empty.
    public var canonicalURI: String
    /// Query parameters, *not* encoded: encoding and sorting happen here.
    public var query: [HTTPField]
    /// Every header to sign, including `host`; names in any case.
    public var headers: [HTTPField]
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String

    /// Collects the parts; nothing is computed until asked.
    public init(method: String, canonicalURI: String, query: [HTTPField], headers: [HTTPField], payloadHash: String) {
        self.method = method
        self.canonicalURI = canonicalURI
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// `name=value` pairs, both encoded (including `/`), sorted by encoded name then value, joined by `&`.
    /// A parameter without value (`?lifecycle`) appears as `lifecycle=`.
    public var canonicalQueryString: String {
        query
            .map {
                (
                    AWSURIEncoding.encode($0.name, keepingSlashes: false),
                    AWSURIEncoding.encode($0.value, keepingSlashes: false)
                )
            }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lowercased names with their trimmed values (runs of spaces collapsed); repeated names joined by `,`.
    var canonicalHeaderPairs: [(name: String, value: String)] {
        var valuesByName: [String: [String]] = [:]
        for header in headers {
            valuesByName[header.name.lowercased(), default: []].append(Self.trimAll(header.value))
        }
        // Byte-wise order, as AWS specifies; Swift's String `<` compares by Unicode scalars, which for the ASCII
        // header names in play is the same thing.
        return valuesByName.keys.sorted().map { ($0, valuesByName[$0, default: []].joined(separator: ",")) }
    }

    /// `host;x-amz-content-sha256;x-amz-date`, the value of `SignedHeaders`.
    public var signedHeaders: String {
        canonicalHeaderPairs.map(\.name).joined(separator: ";")
    }

    /// The full canonical request text.
    public var text: String {
        let canonicalHeaders = canonicalHeaderPairs.map { "\($0.name):\($0.value)\n" }.joined()
        let path = canonicalURI.isEmpty ? "/" : canonicalURI
        return [method.uppercased(), path, canonicalQueryString, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
    }

    /// Hex SHA-256 of ``text``, the last line of the string to sign.
    public var hash: String {
        Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }

    /// AWS's Trimall: strip leading/trailing spaces and collapse inner runs of whitespace into one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
