import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// Reporting a user, an order, a rating or a community post, the reporter's list with outcomes,
/// and the moderator's resolution of a report.
struct ReportPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/reports") { request in try await mine(request) }
        router.page("/reports/new") { request in try await mine(request) }
        router.page("/reports", method: .post) { request in try await create(request) }
        router.page("/reports/{id}/resolve", method: .post) { request in try await resolve(request) }
    }

    struct ReportRow: Sendable {
        let id, target, category, text, created, status, statusClass: String
        let reasons: String?
    }
    struct Choice: Sendable { let value, label: String; let selected: Bool }
    struct MineView: Sendable {
        let reports: [ReportRow]
        let kinds: [Choice]
        let categories: [Choice]
        let targetId: String
        let error: String?
    }

    static func categoryLabel(_ category: Report.Category) -> String {
        switch category {
        case .fakeRating: "Fake rating"
        case .fraud: "Fraud"
        case .counterfeit: "Counterfeit goods"
        case .harassment: "Harassment"
        case .other: "Something else"
        }
    }

    static func row(_ report: Report) -> ReportRow {
        ReportRow(
            id: report.id.rawValue, target: "\(report.target.kind) \(report.target.id)", category: categoryLabel(report.category),
            text: report.text, created: PageFormat.dateTime(report.createdAt),
            status: report.status == .open ? "Open" : report.status == .dismissed ? "Dismissed" : "Action taken",
            statusClass: report.status == .open ? "warn" : report.status == .dismissed ? "neutral" : "good",
            reasons: report.reasons.map { "\($0.facts) Rule: \($0.rule) Remedy: \($0.remedy) \($0.appeal)" }
        )
    }

    private func mine(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try site.requireViewer(request)
        let kind = request.uri.queryParameters["kind"].map(String.init) ?? "user"
        let reports = try await services.reports.mine(by: site.principal)
        let view = MineView(
            reports: reports.map(Self.row),
            kinds: [("user", "A user"), ("order", "An order"), ("rating", "A rating"), ("experience", "A shared experience"), ("question", "A question"),
                    ("answer", "An answer")].map { .init(value: $0.0, label: $0.1, selected: $0.0 == kind) },
            categories: Report.Category.allCases.map { .init(value: $0.rawValue, label: Self.categoryLabel($0), selected: false) },
            targetId: request.uri.queryParameters["id"].map(String.init) ?? "",
            error: error
        )
        return site.renderer.render("reports", page: view, request: request, status: status)
    }

    private func create(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.multipartForm(from: request)
        do {
            guard let target = Report.Target(kind: form["kind"] ?? "", id: form["targetId"]?.trimmingWhitespace() ?? "") else {
                throw ValidationError(field: "kind", "Choose what you report.")
            }
            guard let category = Report.Category(rawValue: form["category"] ?? "") else { throw ValidationError(field: "category", "Choose what is wrong.") }
            _ = try await services.reports.create(about: target, category: category, text: form["text"] ?? "", files: form.files, by: site.principal)
            return PageRenderer.redirect(to: "/reports?notice=report-filed")
        } catch let error as any DomainError where error.kind != .unauthenticated {
            return try await mine(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    struct ResolveForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var outcome, violation, reasons: String?
    }

    private func resolve(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let reportID = ReportID(try request.pathSegment(1))
        let form = try await site.form(ResolveForm.self, from: request)
        do {
            let resolution: ReportService.Resolution
            switch form.outcome ?? "" {
            case "dismiss": resolution = .dismiss
            case "hideRating": resolution = .hideRating
            case "hideContent": resolution = .hideContent
            case "actionTaken": resolution = .actionTaken
            case "penalise": resolution = .penalise(violation: form.violation ?? "", user: nil)
            default: throw ValidationError(field: "outcome", "Choose an outcome.")
            }
            _ = try await services.reports.resolve(reportID, resolution: resolution, reasons: form.reasons ?? "", by: site.principal)
            return PageRenderer.redirect(to: "/moderation?notice=report-resolved")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await ModerationPages(site: site).queues(request, error: error.detail, status: error.kind.httpStatus)
        }
    }
}
