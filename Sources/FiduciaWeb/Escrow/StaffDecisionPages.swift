import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The moderators' queue of staff decisions that wait for a second staff member, with approve and
/// reject buttons (maker–checker). Decisions are proposed from the order page.
struct StaffDecisionPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/moderation/decisions") { request in try await queue(request) }
        router.page("/moderation/decisions/{id}/{verdict}", method: .post) { request in try await decide(request) }
    }

    struct QueueView: Sendable {
        struct Row: Sendable {
            let id, orderID, action, amount, reason, proposedBy, proposedAt: String
            let mine: Bool
        }
        let decisions: [Row]
        let thresholdText: String
        let error: String?
    }

    private func queue(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let decisions = try await services.escrow.decisionsAwaitingApproval(by: site.principal)
        let names = try await services.accounts.users(decisions.map(\.proposedBy))
        let view = QueueView(
            decisions: decisions.map {
                .init(
                    id: $0.id.rawValue, orderID: $0.orderID.rawValue, action: $0.action.rawValue, amount: Money.format($0.amountMinor, $0.currency),
                    reason: $0.reason, proposedBy: names[$0.proposedBy]?.displayName ?? $0.proposedBy.rawValue,
                    proposedAt: PageFormat.dateTime($0.proposedAt), mine: $0.proposedBy == viewer.id
                )
            },
            thresholdText: "Staff refunds and cancellations above \(services.settings.escrow.secondApprovalAboveMajor) major units of their currency wait here for a second staff member.",
            error: error
        )
        return site.renderer.render("staff-decisions", page: view, request: request, status: status)
    }

    private func decide(_ request: Request) async throws -> Response {
        struct VerdictForm: Decodable, CSRFProtectedForm { var csrfToken: String? }
        _ = try site.requireViewer(request)
        _ = try await site.form(VerdictForm.self, from: request)
        let id = StaffDecisionID(try request.pathSegment(2))
        let verdict = try request.pathSegment(3)
        do {
            let decision: StaffDecision
            switch verdict {
            case "approve": decision = try await services.escrow.approveDecision(id, by: site.principal)
            case "reject": decision = try await services.escrow.rejectDecision(id, by: site.principal)
            default: throw WebError.routeNotFound
            }
            return PageRenderer.redirect(to: "/moderation/decisions?notice=decision-\(decision.status.rawValue)")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await queue(request, error: error.detail, status: error.kind.httpStatus)
        }
    }
}
