import Foundation
import GatewayApp
import MediaVaultCore
import Testing
import WorkerApp

/// Keeps the documented configuration in step with the settings the code declares.
@Suite("Configuration reference")
struct ConfigurationReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var allSettings: [Setting] {
        GatewayConfiguration.catalog.settings + WorkerConfiguration.catalog.settings
    }

    /// Names declared with `Setting("NAME", …)` anywhere under Sources/.
    static func declaredNames() throws -> Set<String> {
        var names = Set<String>()
        let sources = root.appendingPathComponent("Sources")
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        let pattern = try Regex(#"Setting\(\s*"([A-Z][A-Z0-9_]*)""#)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let name = match.output[1].substring { names.insert(String(name)) }
            }
        }
        return names
    }

    @Test("every declared setting is in a catalogue")
    func declaredSettingsAreCatalogued() throws {
        let catalogued = Set(Self.allSettings.map(\.name))
        let declared = try Self.declaredNames()
        #expect(!declared.isEmpty)
        #expect(declared.subtracting(catalogued).isEmpty, "not in any catalogue: \(declared.subtracting(catalogued))")
    }

    @Test("only the configuration loader reads the process environment")
    func noStrayEnvironmentReads() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        var offenders: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift", !url.path.contains("/TestSupport/") else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            // ConfigSource reads the environment for settings; ToolPaths only for PATH, to find ffmpeg.
            let allowed = ["ConfigSource.swift", "ToolPaths.swift"]
            if text.contains("processInfo.environment") && !allowed.contains(url.lastPathComponent) {
                offenders.append(url.lastPathComponent)
            }
        }
        #expect(offenders.isEmpty, "read settings through ConfigReader instead: \(offenders)")
    }

    @Test("docs/configuration.md and .env.example mention every setting")
    func documentsMentionEverySetting() throws {
        let reference = try String(contentsOf: Self.root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8)
        for setting in Self.allSettings {
            #expect(reference.contains("`\(setting.name)`"), "docs/configuration.md lacks \(setting.name)")
            #expect(example.contains("\(setting.name)="), ".env.example lacks \(setting.name)")
        }
        #expect(reference.contains(GatewayConfiguration.catalog.markdownReference()),
            "regenerate the gateway table with `mediavault settings`")
        #expect(reference.contains(WorkerConfiguration.catalog.markdownReference()),
            "regenerate the worker table with `mediavault-worker --settings`")
    }
}
