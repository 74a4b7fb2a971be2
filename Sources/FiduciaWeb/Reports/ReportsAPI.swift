import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Reports about users, orders, ratings and community posts, and their triage by moderators (D2, E4).
extension FiduciaAPIHandler {
    func createReport(_ input: Operations.CreateReport.Input) async throws -> Operations.CreateReport.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        guard let target = Report.Target(kind: body.targetKind.rawValue, id: body.targetId) else {
            throw ValidationError(field: "targetId", "Report a user, an order, a rating, or an experience, question or answer by its id.")
        }
        let report = try await services.reports.create(
            about: target, category: Report.Category(rawValue: body.category.rawValue)!, text: body.text,
            attachmentIDs: Self.attachmentIDs(body.attachmentIds), by: principal
        )
        return .created(.init(body: .json(.init(report))))
    }

    func listReports(_ input: Operations.ListReports.Input) async throws -> Operations.ListReports.Output {
        let items: [Components.Schemas.Report]
        switch input.query.scope ?? .mine {
        case .mine: items = try await services.reports.mine(by: principal).map { .init($0) }
        case .queue: items = try await services.reports.queue(by: principal).map { .init($0.report, reporterWeight: $0.reporterWeight) }
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func resolveReport(_ input: Operations.ResolveReport.Input) async throws -> Operations.ResolveReport.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let resolution: ReportService.Resolution
        switch body.outcome {
        case .dismiss: resolution = .dismiss
        case .hideRating: resolution = .hideRating
        case .hideContent: resolution = .hideContent
        case .actionTaken: resolution = .actionTaken
        case .penalise:
            guard let code = body.violationCode, !code.isEmpty else { throw ValidationError(field: "violationCode", "Say which violation of the rulebook applies.") }
            resolution = .penalise(violation: code, user: body.userId.map(UserID.init))
        }
        let report = try await services.reports.resolve(ReportID(input.path.reportId), resolution: resolution, reasons: body.reasons, by: principal)
        return .ok(.init(body: .json(.init(report))))
    }
}

extension Components.Schemas.Report {
    init(_ report: Report, reporterWeight: Double? = nil) {
        self.init(
            id: report.id.rawValue, reporterId: report.reporterID.rawValue, targetKind: .init(rawValue: report.target.kind)!,
            targetId: report.target.id, category: .init(rawValue: report.category.rawValue)!, text: report.text,
            attachments: report.attachments.map(Components.Schemas.Attachment.init), status: .init(rawValue: report.status.rawValue)!,
            createdAt: report.createdAt, resolvedAt: report.resolvedAt, action: report.action.flatMap { .init(rawValue: $0.rawValue) },
            penaltyId: report.penaltyID?.rawValue, reasons: report.reasons.map(Components.Schemas.StatementOfReasons.init),
            reporterWeight: reporterWeight
        )
    }
}
