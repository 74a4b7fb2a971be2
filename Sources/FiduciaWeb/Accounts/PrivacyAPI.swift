import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import OpenAPIRuntime

/// A person's data (G2): the privacy notice, what is held, the export and account deletion.
extension FiduciaAPIHandler {
    func getPrivacyNotice(_ input: Operations.GetPrivacyNotice.Input) async throws -> Operations.GetPrivacyNotice.Output {
        let notice = PrivacyNotice.current
        return .ok(.init(body: .json(.init(
            version: notice.version, effective: notice.effective, changes: notice.changes,
            items: notice.items.map { .init(what: $0.what, why: $0.why, kept: $0.kept) },
            history: PrivacyNotice.versions.map { .init(version: $0.version, effective: $0.effective, changes: $0.changes) }
        ))))
    }

    func getMyPrivacy(_ input: Operations.GetMyPrivacy.Input) async throws -> Operations.GetMyPrivacy.Output {
        .ok(.init(body: .json(try await myPrivacy(services.privacy.notice(by: principal)))))
    }

    func acceptPrivacyNotice(_ input: Operations.AcceptPrivacyNotice.Input) async throws -> Operations.AcceptPrivacyNotice.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        return .ok(.init(body: .json(try await myPrivacy(services.privacy.accept(version: body.version, by: principal)))))
    }

    private func myPrivacy(_ status: PrivacyService.NoticeStatus) async throws -> Components.Schemas.MyPrivacy {
        let holdings = try await services.privacy.holdings(by: principal)
        return .init(
            currentVersion: status.current.version, mustAccept: status.mustAccept,
            accepted: status.accepted.map { .init(version: $0.version, acceptedAt: $0.at) },
            records: holdings.records.map { .init(name: $0.name, count: $0.count) }, files: holdings.files, mayDelete: holdings.mayDelete,
            blockers: holdings.blockers
        )
    }

    func exportMyData(_ input: Operations.ExportMyData.Input) async throws -> Operations.ExportMyData.Output {
        let export = try await services.privacy.export(by: principal)
        return .ok(.init(body: .applicationZip(HTTPBody(export.bytes))))
    }

    func deleteMyAccount(_ input: Operations.DeleteMyAccount.Input) async throws -> Operations.DeleteMyAccount.Output {
        try await services.privacy.deleteAccount(by: principal)
        return .noContent(.init())
    }
}
