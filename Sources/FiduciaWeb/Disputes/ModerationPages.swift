import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The moderators' queues on one page, each sorted by what is most urgent: escalated disputes by
/// deadline, open disputes, reports by how credible their reporter has been, appeals oldest first.
struct ModerationPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/moderation") { request in try await queues(request) }
    }

    struct QueuedReport: Sendable {
        let report: ReportPages.ReportRow
        let weightPercent: Int
        let isRating: Bool
        let isCommunity: Bool
        /// What a reported community post says, for the moderator to judge.
        let quoted: String?
    }
    struct QueuedAppeal: Sendable {
        let id, appellant, penalty, statement, filed: String
        let points: Int
        let attachments: [DisputePages.AttachmentLink]
    }
    struct Choice: Sendable { let value, label: String }
    struct QueuesView: Sendable {
        let queue: [DisputePages.DisputeRow]
        let open: [DisputePages.DisputeRow]
        let reports: [QueuedReport]
        let appeals: [QueuedAppeal]
        let violations: [Choice]
        let error: String?
    }

    func queues(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        guard viewer.isStaff else { throw AccessError.forbidden("The moderation queues are for moderators.") }
        let now = services.clock.now()
        let pages = DisputePages(site: site)
        let queue = try await services.disputes.disputes(.queue, by: site.principal)
        let open = try await services.disputes.disputes(.open, by: site.principal).filter { $0.status != .inMediation }
        let reports = try await services.reports.queue(by: site.principal)
        let appeals = try await services.penalties.pendingAppeals(by: site.principal)
        let appellants = try await services.accounts.users(appeals.map(\.appeal.appellantID))
        let rulebook = try await services.penalties.rulebooks().inForce.rulebook
        let view = QueuesView(
            queue: pages.rows(queue, now: now),
            open: pages.rows(open, now: now),
            reports: try await queuedReports(reports),
            appeals: appeals.map { appeal, penalty in
                .init(
                    id: appeal.id.rawValue, appellant: appellants[appeal.appellantID]?.displayName ?? appeal.appellantID.rawValue,
                    penalty: "\(penalty.violationName) (\(penalty.reasons.facts))", statement: appeal.statement,
                    filed: PageFormat.dateTime(appeal.createdAt), points: penalty.points,
                    attachments: appeal.attachments.map { .init(url: "/attachments/\($0.id)", name: $0.fileName, type: $0.type.label) }
                )
            },
            violations: rulebook.violations.map { .init(value: $0.code, label: "\($0.name) (\($0.points) points)") },
            error: error
        )
        return site.renderer.render("moderation", page: view, request: request, status: status)
    }

    /// The report queue's rows, with the text of each reported community post.
    private func queuedReports(_ reports: [ReportService.Queued]) async throws -> [QueuedReport] {
        var rows: [QueuedReport] = []
        for queued in reports {
            var quoted: String?
            if case .community(let content) = queued.report.target { quoted = try await services.community.text(of: content, by: site.principal) }
            rows.append(.init(
                report: ReportPages.row(queued.report), weightPercent: Int((queued.reporterWeight * 100).rounded()),
                isRating: queued.report.target.kind == "rating", isCommunity: quoted != nil, quoted: quoted
            ))
        }
        return rows
    }
}
