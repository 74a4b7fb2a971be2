import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The public penalty rulebook, appeals from the violation record, and the moderators' decisions
/// on appeals and penalties.
struct PenaltyPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/rules/penalties") { request in try await rulebook(request) }
        router.page("/penalties/{id}/appeal", method: .post) { request in try await appeal(request) }
        router.page("/appeals/{id}/decide", method: .post) { request in try await decide(request) }
        router.page("/users/{id}/penalties", method: .post) { request in try await penalise(request) }
    }

    // MARK: The violation record (on the profile)

    struct AppealRow: Sendable { let at, status: String; let reasons: String? }
    struct ViolationRow: Sendable {
        let id, name, applied, statusText, statusClass, facts, rule, remedy, appealText: String
        let points: Int
        let fine: String?
        let appeals: [AppealRow]
        let canAppeal: Bool
    }

    /// The rows of a violation record; the penalised user sees their appeals and may appeal.
    static func rows(_ penalties: [Penalty], principal: Principal, services: AppServices) async throws -> [ViolationRow] {
        guard !penalties.isEmpty else { return [] }
        let viewer = principal.actingUser
        let rulebook = try await services.penalties.rulebooks().inForce.rulebook
        let now = services.clock.now()
        var rows: [ViolationRow] = []
        for penalty in penalties {
            var appeals: [Appeal] = []
            if let viewer, viewer.id == penalty.userID || viewer.isStaff {
                appeals = try await services.penalties.appeals(of: penalty.id, by: principal)
            }
            let mayAppeal = viewer.map { viewer in
                (try? Appeal.checkOpening(penalty, by: viewer.id, rulebook: rulebook, hasPendingAppeal: appeals.contains { $0.status == .pending }, at: now)) != nil
            } ?? false
            rows.append(ViolationRow(
                id: penalty.id.rawValue, name: penalty.violationName, applied: PageFormat.date(penalty.appliedAt),
                statusText: penalty.status == .overturned ? "overturned on appeal" : penalty.status == .reduced ? "reduced on appeal"
                    : now >= penalty.expiresAt ? "expired" : "in force until \(PageFormat.date(penalty.expiresAt))",
                statusClass: penalty.status == .overturned || now >= penalty.expiresAt ? "good" : "bad",
                facts: penalty.reasons.facts, rule: penalty.reasons.rule, remedy: penalty.reasons.remedy, appealText: penalty.reasons.appeal,
                points: penalty.points,
                fine: penalty.fineMinor > 0 ? penalty.fineCurrency.map { Money.format(penalty.fineMinor, $0) } : nil,
                appeals: appeals.map { .init(at: PageFormat.date($0.createdAt), status: $0.status.rawValue, reasons: $0.reasons) },
                canAppeal: mayAppeal
            ))
        }
        return rows
    }

    struct Choice: Sendable { let value, label: String }

    /// The violations of the rulebook in force, for a moderator's penalty form.
    static func choices(services: AppServices) async throws -> [Choice] {
        try await services.penalties.rulebooks().inForce.rulebook.violations.map { .init(value: $0.code, label: "\($0.name) (\($0.points) points)") }
    }

    private func appeal(_ request: Request) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let penaltyID = PenaltyID(try request.pathSegment(1))
        let form = try await site.multipartForm(from: request)
        // A refused appeal (too late, already pending) is answered by the error page, which says why.
        _ = try await services.penalties.appeal(penaltyID, statement: form["statement"] ?? "", files: form.files, by: site.principal)
        return PageRenderer.redirect(to: "/merchants/\(viewer.id)?notice=appeal-filed#violations")
    }

    // MARK: Moderators

    struct DecideForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var outcome, points, reasons: String?
    }

    private func decide(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let appealID = AppealID(try request.pathSegment(1))
        let form = try await site.form(DecideForm.self, from: request)
        do {
            let decision: PenaltyService.AppealDecision
            switch form.outcome ?? "" {
            case "upheld": decision = .uphold
            case "overturned": decision = .overturn
            case "reduced":
                guard let points = Int(form.points ?? "") else { throw ValidationError(field: "points", "Say how many points the penalty keeps.") }
                decision = .reduce(points: points)
            default: throw ValidationError(field: "outcome", "Choose to uphold, reduce or overturn.")
            }
            _ = try await services.penalties.decideAppeal(appealID, decision: decision, reasons: form.reasons ?? "", by: site.principal)
            return PageRenderer.redirect(to: "/moderation?notice=appeal-decided")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await ModerationPages(site: site).queues(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    private func penalise(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        struct PenaltyForm: Decodable, CSRFProtectedForm { var csrfToken: String?; var violation: String?; var facts: String?; var orderId: String? }
        let userID = UserID(try request.pathSegment(1))
        let form = try await site.form(PenaltyForm.self, from: request)
        // The form is on the profile, which has no error slot: a refusal is answered by the error
        // page, which says why.
        _ = try await services.penalties.apply(
            violation: form.violation ?? "", to: userID, facts: form.facts ?? "",
            orderID: form.orderId.flatMap { $0.isEmpty ? nil : OrderID($0) }, by: site.principal
        )
        return PageRenderer.redirect(to: "/merchants/\(userID)?notice=penalty-applied#violations")
    }

    // MARK: The rulebook

    struct RulebookView: Sendable {
        struct ViolationView: Sendable { let code, name, description, severity: String; let points: Int; let fine: String? }
        struct ThresholdView: Sendable { let points: Int; let consequence: String }
        struct VersionView: Sendable { let version: Int; let status, proposedAt: String; let decidedAt: String? }
        let version: Int
        let title: String
        let expiryDays, appealDays: Int
        let violations: [ViolationView]
        let thresholds: [ThresholdView]
        let versions: [VersionView]
        let fineCurrency: String
    }

    private func rulebook(_ request: Request) async throws -> Response {
        let (inForce, all) = try await services.penalties.rulebooks()
        let book = inForce.rulebook
        let currency = services.penalties.fineCurrency
        let view = RulebookView(
            version: book.version, title: book.title, expiryDays: book.pointsExpireAfterDays, appealDays: book.appealWindowDays,
            violations: book.violations.map {
                .init(code: $0.code, name: $0.name, description: $0.description, severity: $0.severity.rawValue, points: $0.points,
                      fine: $0.fineMajor > 0 ? "\($0.fineMajor) \(currency.code)" : nil)
            },
            thresholds: book.thresholds.map { .init(points: $0.points, consequence: $0.words) },
            versions: all.map {
                .init(version: $0.version, status: $0.status.rawValue, proposedAt: $0.proposedBy == nil ? "shipped with Fiducia" : PageFormat.date($0.proposedAt),
                      decidedAt: $0.decidedAt.map(PageFormat.date))
            },
            fineCurrency: currency.code
        )
        return site.renderer.render("rules-penalties", page: view, request: request)
    }
}
