import Foundation
import Hummingbird

/// A dependency the gateway needs; `critical` ones make `/readyz` answer 503 when they fail.
public struct ReadinessCheck: Sendable {
    public let name: String
    public let critical: Bool
    public let check: @Sendable () async throws -> Void

    public init(name: String, critical: Bool = true, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.critical = critical
        self.check = check
    }
}

/// `/healthz` (the process answers) and `/readyz` (its dependencies answer).
public struct HealthRoutes: Sendable {
    let checks: [ReadinessCheck]
    let timeout: Duration

    public init(checks: [ReadinessCheck], timeout: Duration = .seconds(2)) {
        self.checks = checks
        self.timeout = timeout
    }

    struct Report: ResponseEncodable {
        struct Dependency: Encodable {
            let status: String
            let critical: Bool
            let error: String?
        }
        let status: String
        let checks: [String: Dependency]
    }

    public func register(on router: AccessRouter) {
        router.get("/healthz", .open) { _, _ in
            EditedResponse(headers: [.cacheControl: "no-store"], response: ["status": "ok"])
        }
        router.get("/readyz", .open) { _, _ in
            let report = await evaluate()
            return EditedResponse(
                status: report.status == "ok" ? .ok : .serviceUnavailable,
                headers: [.cacheControl: "no-store"], response: report)
        }
    }

    func evaluate() async -> Report {
        let timeout = self.timeout
        let results = await withTaskGroup(of: (String, Report.Dependency).self) { group in
            for check in checks {
                group.addTask {
                    do {
                        try await withTimeout(timeout) { try await check.check() }
                        return (check.name, .init(status: "ok", critical: check.critical, error: nil))
                    } catch {
                        let reason = error is TimeoutError ? "no answer within \(timeout)" : "unreachable"
                        return (check.name, .init(status: "down", critical: check.critical, error: reason))
                    }
                }
            }
            var results: [String: Report.Dependency] = [:]
            for await (name, dependency) in group { results[name] = dependency }
            return results
        }
        let failing = results.filter { $0.value.critical && $0.value.status != "ok" }
        return Report(status: failing.isEmpty ? "ok" : "unavailable", checks: results)
    }
}
