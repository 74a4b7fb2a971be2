import FiduciaDomain
import Foundation

/// The published rules (F2): the versions of each document as shipped in `Resources/Rules/<document>/v<N>.md`.
public struct RulesService: Sendable {
    let clock: any WallClock
    public let library: RulesLibrary

    /// Every rules document that ships with Fiducia. A malformed file stops the server at start-up
    /// (and the tests), never a request.
    public static let shipped: RulesLibrary = {
        var versions: [RulesVersion] = []
        for document in [RulesVersions.tradeDocument, RulesVersions.afterSalesDocument] {
            guard let folder = Bundle.module.url(forResource: document, withExtension: nil, subdirectory: "Resources/Rules"),
                let files = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            else { preconditionFailure("the rules folder \(document) is missing from the bundle") }
            for url in files where url.pathExtension == "md" {
                guard let text = try? String(contentsOf: url, encoding: .utf8) else { preconditionFailure("unreadable rules file \(url.path)") }
                do {
                    versions.append(try RulesVersion.parse(document: document, file: text))
                } catch {
                    preconditionFailure("\(url.lastPathComponent) of \(document): \(error)")
                }
            }
        }
        return RulesLibrary(versions)
    }()

    init(clock: any WallClock, library: RulesLibrary = RulesService.shipped) {
        self.clock = clock
        self.library = library
    }

    /// The versions in force now, which a new order records.
    public var inForce: RulesVersions? { RulesVersions.inForce(library, at: clock.now()) }

    public func inForce(_ document: String) -> RulesVersion? { library.inForce(document, at: clock.now()) }

    public func upcoming(_ document: String) -> [RulesVersion] { library.upcoming(document, at: clock.now()) }
}
