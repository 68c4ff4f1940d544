import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// What a personal API key may be allowed to do. A signed-in session may do all of it.
///
/// Deletion is its own scope so a key kept on an always-on uploader cannot empty the library.
public enum APIScope: String, CaseIterable, Sendable, Codable, Comparable {
    case mediaRead = "media:read"
    case mediaWrite = "media:write"
    case mediaDelete = "media:delete"
    case collectionsRead = "collections:read"
    case collectionsWrite = "collections:write"
    case sharesRead = "shares:read"
    case sharesWrite = "shares:write"

    public static func < (lhs: APIScope, rhs: APIScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How the caller of a request proved who they are.
public enum Credential: Sendable, Hashable {
    /// A browser or app session from signing in.
    case session(id: UUID)
    /// A personal API key, limited to its scopes.
    case apiKey(id: UUID, scopes: Set<APIScope>)
}

extension AuthenticatedUser {
    /// Whether the caller may do what `scope` covers: a session may do everything, a key what it was given.
    public func holds(_ scope: APIScope) -> Bool {
        switch credential {
        case .session: true
        case .apiKey(_, let scopes): scopes.contains(scope)
        }
    }
}

/// Who may call a route; every route the gateway serves declares one.
public enum RouteAccess: Sendable, Hashable, CustomStringConvertible {
    /// Anyone: health, share pages, sign-in, signed storage URLs (their signature is the authorisation).
    case open
    /// A signed-in session only: the account itself, sessions and API key management. API keys are refused, so a
    /// key can never mint, list, widen or revoke keys.
    case account
    /// A session, or an API key holding the scope.
    case scope(APIScope)
    /// Anyone, for what is public or shared by token; a caller who presents a key must still hold the scope, since
    /// the route shows a signed-in owner more than it shows anyone else.
    case openOrScope(APIScope)

    public var description: String {
        switch self {
        case .open: "open"
        case .account: "account"
        case .scope(let scope): scope.rawValue
        case .openOrScope(let scope): "open or \(scope.rawValue)"
        }
    }
}

extension AppRequestContext {
    /// Refuses the request unless its credential may use a route with `access`.
    public func authorize(_ access: RouteAccess) throws {
        switch access {
        case .open:
            return
        case .account:
            let user = try requireUser()
            if case .apiKey = user.credential {
                throw AppError.permissionDenied("API keys cannot use account routes; sign in to manage the account")
            }
        case .scope(let scope):
            try Self.refuseKey(lacking: scope, of: try requireUser())
        case .openOrScope(let scope):
            if let user { try Self.refuseKey(lacking: scope, of: user) }
        }
    }

    private static func refuseKey(lacking scope: APIScope, of user: AuthenticatedUser) throws {
        if !user.holds(scope) {
            throw AppError.permissionDenied("this API key lacks the `\(scope.rawValue)` scope")
        }
    }
}

/// One served route and who may call it.
public struct RouteDeclaration: Sendable, Hashable, CustomStringConvertible {
    public let method: HTTPRequest.Method
    /// As the router prints it: `/media/{id}`, `/storage/**`.
    public let path: String
    public let access: RouteAccess

    public var description: String { "\(method.rawValue) \(path) [\(access)]" }
}

/// Every route registered through `AccessRouter`, so the API description can be checked against what is served.
public final class RouteAccessTable: Sendable {
    private let entries = NIOLockedValueBox<[RouteDeclaration]>([])

    public init() {}

    public var declarations: [RouteDeclaration] { entries.withLockedValue { $0 } }

    func record(_ declaration: RouteDeclaration) {
        entries.withLockedValue { $0.append(declaration) }
    }
}

/// Registers routes only together with their `RouteAccess`: the check runs before the handler, so a handler cannot
/// forget it, and the declaration is recorded in `table`.
public struct AccessRouter {
    public let router: Router<AppRequestContext>
    public let table: RouteAccessTable
    let prefix: RouterPath

    public init(router: Router<AppRequestContext>, table: RouteAccessTable = RouteAccessTable()) {
        self.init(router: router, table: table, prefix: RouterPath(""))
    }

    private init(router: Router<AppRequestContext>, table: RouteAccessTable, prefix: RouterPath) {
        self.router = router
        self.table = table
        self.prefix = prefix
    }

    /// Routes under `path`.
    public func group(_ path: String) -> AccessRouter {
        AccessRouter(router: router, table: table, prefix: prefix.appendingPath(RouterPath(path)))
    }

    public func on<Output: ResponseGenerator>(
        _ path: String, method: HTTPRequest.Method, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) {
        let fullPath = prefix.appendingPath(RouterPath(path))
        table.record(RouteDeclaration(method: method, path: fullPath.description, access: access))
        router.on(fullPath, method: method) { request, context in
            try context.authorize(access)
            return try await handler(request, context)
        }
    }

    public func get<Output: ResponseGenerator>(
        _ path: String, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on(path, method: .get, access, use: handler) }

    public func head<Output: ResponseGenerator>(
        _ path: String, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on(path, method: .head, access, use: handler) }

    public func post<Output: ResponseGenerator>(
        _ path: String, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on(path, method: .post, access, use: handler) }

    public func put<Output: ResponseGenerator>(
        _ path: String, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on(path, method: .put, access, use: handler) }

    public func patch<Output: ResponseGenerator>(
        _ path: String, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on(path, method: .patch, access, use: handler) }

    public func delete<Output: ResponseGenerator>(
        _ path: String, _ access: RouteAccess,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on(path, method: .delete, access, use: handler) }

    /// A route on the group's own path.
    public func get<Output: ResponseGenerator>(
        _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on("", method: .get, access, use: handler) }

    /// A route on the group's own path.
    public func post<Output: ResponseGenerator>(
        _ access: RouteAccess, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) { on("", method: .post, access, use: handler) }
}

extension RouteAccessTable {
    /// The methods the router would consider for `path`, for a `405` with `Allow`. Like the router it walks the path
    /// one component at a time and prefers a literal to a capture to a recursive wildcard, without backtracking:
    /// `/media/checksums` is the literal route's alone, never also `/media/{id}`'s.
    public func methods(servingPath path: String) -> [HTTPRequest.Method] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var alive = declarations.map { ($0, $0.path.split(separator: "/", omittingEmptySubsequences: true)) }
        for (index, component) in components.enumerated() {
            let ranked = alive.compactMap { entry -> (entry: (RouteDeclaration, [Substring]), rank: Int)? in
                guard index < entry.1.count else { return nil }
                let rank = Self.rank(entry.1[index], matching: component)
                return rank > 0 ? (entry, rank) : nil
            }
            guard let best = ranked.map(\.rank).max() else { return [] }
            alive = ranked.filter { $0.rank == best }.map(\.entry)
            // A recursive wildcard takes the rest of the path.
            if best == 1 { break }
        }
        var methods: [HTTPRequest.Method] = []
        // `**` takes one component at least.
        for (declaration, parts) in alive
        where parts.count == components.count || (parts.last == "**" && components.count >= parts.count) {
            if !methods.contains(declaration.method) { methods.append(declaration.method) }
        }
        return methods
    }

    /// How well a pattern component matches: literal 3, capture or `*` 2, `**` 1, no match 0.
    static func rank(_ part: Substring, matching component: Substring) -> Int {
        if part == "**" { return 1 }
        if part == "*" || (part.hasPrefix("{") && part.hasSuffix("}")) { return 2 }
        return part == component ? 3 : 0
    }
}

/// Answers a request for a served path with a method it does not take as `405` with `Allow`, not `404`: the router
/// itself cannot tell the two apart.
public struct MethodNotAllowedMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let table: RouteAccessTable

    public init(table: RouteAccessTable) {
        self.table = table
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // The router sets the endpoint before a route runs; only its not-found path arrives without one.
        guard context.endpointPath == nil else { return try await next(request, context) }
        let allowed = table.methods(servingPath: request.uri.path)
        // The router prefers a literal component to a capture and does not backtrack (`/media/upload` is not
        // `/media/{id}` to it): when the method is among the allowed ones, the path is simply not served.
        guard !allowed.isEmpty, !allowed.contains(request.method) else { return try await next(request, context) }
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        throw AppError(
            .notFound, status: .methodNotAllowed, "method \(request.method.rawValue) not allowed here; use \(list)",
            headers: [.allow: list])
    }
}

/// Refuses NUL characters in the path or query (`%00`): PostgreSQL text cannot hold them, so no value carrying one
/// could be stored or found, and passing it on would fail inside the database instead of as bad input.
public struct NULCharacterMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if Self.carriesNUL(request.uri.string) {
            throw AppError.invalidArgument("the URL must not contain NUL characters (%00)")
        }
        return try await next(request, context)
    }

    static func carriesNUL(_ uri: String) -> Bool {
        var utf8 = uri.utf8.makeIterator()
        // `%00`, in either case of hex digit (there is none in 00, so only the digits matter).
        var state = 0
        while let byte = utf8.next() {
            switch (state, byte) {
            case (_, 0x25): state = 1
            case (1, 0x30): state = 2
            case (2, 0x30): return true
            default: state = 0
            }
        }
        return false
    }
}
