import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// The published rules documents (F2), for anyone.
extension FiduciaAPIHandler {
    func listRules(_ input: Operations.ListRules.Input) async throws -> Operations.ListRules.Output {
        let rules = services.rules
        return .ok(.init(body: .json(.init(items: rules.library.versions.map { Components.Schemas.RulesVersion($0, rules: rules, withText: false) }))))
    }

    func getRulesVersion(_ input: Operations.GetRulesVersion.Input) async throws -> Operations.GetRulesVersion.Output {
        let rules = services.rules
        guard let version = rules.library.version(input.path.version, of: input.path.document.rawValue) else {
            throw NotFoundError(entity: "rules version", id: "\(input.path.document.rawValue) \(input.path.version)")
        }
        return .ok(.init(body: .json(.init(version, rules: rules, withText: true))))
    }
}

extension Components.Schemas.RulesVersion {
    init(_ version: RulesVersion, rules: RulesService, withText: Bool) {
        let inForce = rules.inForce(version.document)?.version ?? 0
        let status: StatusPayload = version.version == inForce ? .inForce : version.version > inForce ? .announced : .replaced
        self.init(
            document: version.document, title: version.title, version: version.version, effective: version.effective, changes: version.changes,
            status: status, text: withText ? version.text : nil
        )
    }
}
