import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The administrators' incident switch (`/admin/incident`) and its history.
struct IncidentPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/admin/incident") { request in try await page(request) }
        router.page("/admin/incident/start", method: .post) { request in try await start(request) }
        router.page("/admin/incident/end", method: .post) { request in try await end(request) }
    }

    struct Row: Sendable { let reason, started, ended: String }
    struct View: Sendable {
        let active: Bool
        let history: [Row]
        let error: String?
    }

    private func page(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try site.requireViewer(request)
        let history = try await services.incidents.history(by: site.principal)
        let view = View(
            active: history.first?.isActive ?? false,
            history: history.map { .init(reason: $0.reason, started: PageFormat.dateTime($0.startedAt), ended: $0.endedAt.map(PageFormat.dateTime) ?? "in progress") },
            error: error
        )
        return site.renderer.render("incident", page: view, request: request, status: status)
    }

    struct StartForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var reason: String?
    }

    private func start(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(StartForm.self, from: request)
        do {
            _ = try await services.incidents.start(reason: form.reason ?? "", by: site.principal)
        } catch let error as any DomainError where error.kind != .forbidden && error.kind != .unauthenticated {
            return try await page(request, error: error.detail, status: error.kind.httpStatus)
        }
        return PageRenderer.redirect(to: "/admin/incident?notice=incident-started")
    }

    private func end(_ request: Request) async throws -> Response {
        struct EndForm: Decodable, CSRFProtectedForm { var csrfToken: String? }
        _ = try site.requireViewer(request)
        _ = try await site.form(EndForm.self, from: request)
        do {
            _ = try await services.incidents.end(by: site.principal)
        } catch let error as IncidentError {
            return try await page(request, error: error.detail, status: error.kind.httpStatus)
        }
        return PageRenderer.redirect(to: "/admin/incident?notice=incident-ended")
    }
}
