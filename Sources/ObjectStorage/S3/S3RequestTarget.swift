/// Where one S3 request goes: host header, encoded path and query. Pure; shared by header signing (server calls)
/// and presigning (browser URLs) so both address objects identically.
struct S3RequestTarget: Sendable, Hashable {
    var endpoint: S3Endpoint
    /// The `Host` header value (with the bucket in front for virtual-host style).
    var host: String
    /// The encoded path, which is also SigV4's canonical URI.
    var path: String
    /// Query parameters, not encoded.
    var query: [HTTPField]

    /// Addresses the bucket itself (`key` nil) or one object in it.
    init(endpoint: S3Endpoint, bucket: String, key: ObjectKey?, query: [HTTPField] = [], pathStyle: Bool) {
        self.endpoint = endpoint
        self.query = query
        let encodedKey = key.map { AWSURIEncoding.encodePath($0.rawValue) }
        if pathStyle {
            host = endpoint.hostHeader()
            path = "/" + bucket + (encodedKey.map { "/" + $0 } ?? "")
        } else {
            host = endpoint.hostHeader(prefixedWith: bucket)
            path = "/" + (encodedKey ?? "")
        }
    }

    /// The request as SigV4 sees it.
    func sigV4Request(method: String, headers: [HTTPField] = []) -> SigV4Request {
        SigV4Request(method: method, host: host, path: path, query: query, headers: headers)
    }

    /// `scheme://host/path?query` with the query encoded like the canonical query string (so the server
    /// reconstructs exactly what was signed).
    func urlString(encodedQuery: String? = nil) -> String {
        let queryString =
            encodedQuery
            ?? CanonicalRequest(
                method: "", canonicalURI: "", query: query, headers: [], payloadHash: ""
            ).canonicalQueryString
        let base = "\(endpoint.scheme)://\(host)\(path)"
        return queryString.isEmpty ? base : base + "?" + queryString
    }
}
