import Foundation
import Testing

/// The layers drawn in Package.swift hold in the sources: arrows point inward only. (The compiler
/// finds every module of the package, so an `import` across a wall would build; this test does not
/// let it.)
@Suite("Layers")
struct LayerTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardizedFileURL

    /// The modules of ours that files under `module` import.
    static func imports(of module: String) throws -> [String: Set<String>] {
        let ours: Set<String> = ["FiduciaDomain", "FiduciaPersistence", "FiduciaServices", "FiduciaAPI", "FiduciaWeb", "FiduciaCLI"]
        var found: [String: Set<String>] = [:]
        let root = sources.appendingPathComponent(module)
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        #expect(!files.isEmpty, "no sources under \(root.path)")
        for file in files {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where line.hasPrefix("import ") {
                let name = String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces)
                if ours.contains(name) { found[file.lastPathComponent, default: []].insert(name) }
            }
        }
        return found
    }

    @Test func theDomainImportsNothingOfOurs() throws {
        #expect(try Self.imports(of: "FiduciaDomain").isEmpty)
    }

    @Test func storageKnowsOnlyTheDomain() throws {
        for (file, modules) in try Self.imports(of: "FiduciaPersistence") {
            #expect(modules == ["FiduciaDomain"], "\(file) imports \(modules)")
        }
    }

    @Test func theWebTalksToServicesNeverToStorage() throws {
        for (file, modules) in try Self.imports(of: "FiduciaWeb") {
            #expect(modules.isSubset(of: ["FiduciaDomain", "FiduciaServices", "FiduciaAPI"]), "\(file) imports \(modules)")
        }
        let manifest = try String(contentsOf: Self.sources.appendingPathComponent("../Package.swift"), encoding: .utf8)
        let web = try #require(manifest.range(of: "name: \"FiduciaWeb\"").map { manifest[$0.upperBound...] })
        let dependencies = web[..<(web.range(of: "resources:")?.lowerBound ?? web.endIndex)]
        #expect(!dependencies.contains("\"FiduciaPersistence\""))
    }
}
