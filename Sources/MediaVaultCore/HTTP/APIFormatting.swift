import Foundation

extension UUID {
    /// The API's spelling of an id: lowercase, as PostgreSQL and the original backend print them.
    public var lowercasedString: String { uuidString.lowercased() }
}

extension URL {
    /// `scheme://host[:port]`, the form browsers send in `Origin` and CSP source lists use.
    public var origin: String {
        var origin = "\(scheme ?? "http")://\(host ?? "")"
        if let port { origin += ":\(port)" }
        return origin
    }
}
