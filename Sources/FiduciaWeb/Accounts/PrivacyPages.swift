import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The privacy page (G2): the notice in force for everyone; for a signed-in person, which version
/// they accepted, what Fiducia holds about them, the download of all of it, and account deletion.
struct PrivacyPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/privacy") { request in try await page(request) }
        router.page("/privacy/accept", method: .post) { request in try await accept(request) }
        router.page("/privacy/export") { request in try await export(request) }
        router.page("/privacy/delete", method: .post) { request in try await delete(request) }
    }

    struct Item: Sendable { let what, why, kept: String }
    struct Version: Sendable { let version: Int; let effective, changes: String }
    struct Record: Sendable { let name: String; let count: Int }
    struct Accepted: Sendable { let version: Int; let at: String }
    struct Mine: Sendable {
        let mustAccept: Bool
        let accepted: [Accepted]
        let records: [Record]
        let files: Int
        let mayDelete: Bool
        let blockers: [String]
    }
    struct View: Sendable {
        let version: Int
        let effective: String
        let items: [Item]
        let history: [Version]
        let mine: Mine?
        let error: String?
    }

    private func page(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let notice = PrivacyNotice.current
        var mine: Mine?
        if site.principal.actingUser != nil {
            let standing = try await services.privacy.notice(by: site.principal)
            let holdings = try await services.privacy.holdings(by: site.principal)
            mine = Mine(
                mustAccept: standing.mustAccept, accepted: standing.accepted.map { .init(version: $0.version, at: PageFormat.dateTime($0.at)) },
                records: holdings.records.filter { $0.count > 0 }.map { .init(name: $0.name, count: $0.count) }, files: holdings.files,
                mayDelete: holdings.mayDelete, blockers: holdings.blockers
            )
        }
        let view = View(
            version: notice.version, effective: notice.effective, items: notice.items.map { .init(what: $0.what, why: $0.why, kept: $0.kept) },
            history: PrivacyNotice.versions.reversed().map { .init(version: $0.version, effective: $0.effective, changes: $0.changes) }, mine: mine,
            error: error
        )
        return site.renderer.render("privacy", page: view, request: request, status: status)
    }

    struct AcceptForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var version: Int?
    }

    private func accept(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(AcceptForm.self, from: request)
        do {
            _ = try await services.privacy.accept(version: form.version ?? 0, by: site.principal)
            return PageRenderer.redirect(to: "/privacy?notice=privacy-accepted")
        } catch let error as DataRightsError {
            return try await page(request, error: error.detail, status: error.kind.httpStatus)
        }
    }

    private func export(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let export = try await services.privacy.export(by: site.principal)
        return Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"\(export.fileName)\"", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: export.bytes))
        )
    }

    struct DeleteForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var confirm: String?
    }

    private func delete(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(DeleteForm.self, from: request)
        guard form.confirm?.trimmingWhitespace().lowercased() == "delete" else {
            return try await page(request, error: "Type DELETE in the box to confirm that you want your account deleted.", status: .badRequest)
        }
        do {
            try await services.privacy.deleteAccount(by: site.principal)
        } catch let error as DataRightsError {
            return try await page(request, error: error.detail, status: error.kind.httpStatus)
        }
        var response = PageRenderer.redirect(to: "/?notice=account-deleted")
        response.setCookie(site.clearedSessionCookie())
        return response
    }
}
