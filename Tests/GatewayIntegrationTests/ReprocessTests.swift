import Foundation
import GatewayApp
import Logging
import Media
import MediaVaultCore
import Testing

/// `mediavault reprocess`: the selected media get new jobs through the normal queue; others are left alone.
@Suite("Reprocessing after a change of settings")
struct ReprocessTests {
    @Test("--all, --status and --media queue exactly their items, and items being processed are skipped")
    func selections() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(for: "7100")
            var ids: [String] = []
            for _ in 0..<5 {
                ids.append(try await MediaFlowTests.upload(gateway, token: token, bytes: Array(repeating: 7, count: 64)))
            }
            // Two ready, two failed, one still queued (its job from the upload is live).
            try await gateway.sql(
                "UPDATE processing.jobs SET status = 'completed' WHERE media_id IN ('\(ids[0])', '\(ids[1])', '\(ids[2])', '\(ids[3])')")
            try await gateway.sql("UPDATE media.items SET status = 'ready' WHERE id IN ('\(ids[0])', '\(ids[1])')")
            try await gateway.sql("UPDATE media.items SET status = 'failed' WHERE id IN ('\(ids[2])', '\(ids[3])')")
            let configuration = try GatewayConfiguration(source: ConfigSource(environment: gateway.environment))
            func run(_ selection: ReprocessSelection) async throws -> MediaReprocessor.Summary {
                var seen: [MediaReprocessor.Summary] = []
                let summary = try await reprocessMedia(
                    configuration: configuration, selection: selection, logger: Logger(label: "reprocess-test")
                ) { seen.append($0) }
                #expect(seen.count == summary.total, "one progress report per item")
                #expect(summary.total == 0 || seen.last == summary, "progress ends on the summary")
                return summary
            }
            let failed = try await run(.status(.failed))
            #expect(failed.queued == 2 && failed.total == 2)
            #expect(try await gateway.scalar("SELECT count(*) FROM media.items WHERE status = 'queued'") == 3)
            // The failed ones are now queued: --all finds the two ready items only.
            let all = try await run(.all)
            #expect(all.queued == 2 && all.skipped == 0)
            let one = try await run(.media([UUID(uuidString: ids[4])!]))
            #expect(one.total == 0, "a queued item is not selected")
            // Every queued item has exactly one live job and one more outbox message.
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.jobs WHERE status = 'queued'") == 5)
            #expect(try await gateway.scalar("SELECT count(*) FROM processing.outbox") == 9)
        }
    }
}
