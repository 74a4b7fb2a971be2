import FiduciaDomain
import FiduciaServices
import Foundation
import HTTPTypes
import Hummingbird

/// Seal management for certifiers: the seals they issued with their live status, a form to issue a
/// new one after an audit, and revocation with a public reason.
struct CertifierPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/certifier") { request in try await seals(request) }
        router.page("/certifier/seals", method: .post) { request in try await issue(request) }
        router.page("/certifier/seals/{id}/revocation", method: .post) { request in try await revoke(request) }
    }

    struct IssuedSeal: Sendable {
        let id, merchantName, merchantId, issued, validUntil, status, statusClass: String
        let checks: [String]
        let isValid: Bool
        let revocation: String?
    }
    struct SealsView: Sendable {
        let seals: [IssuedSeal]
        let defaultValidUntil: String
        let error: String?
    }

    private func requireCertifier(_ request: Request) throws -> User {
        let viewer = try site.requireViewer(request)
        guard viewer.has(.certifier) else { throw AccessError.forbidden("Seals are issued by certifiers.") }
        return viewer
    }

    private func seals(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try requireCertifier(request)
        let now = services.clock.now()
        let issued = try await services.seals.issued(by: site.principal)
        let merchants = try await services.accounts.users(issued.map(\.merchantID))
        let rows = issued.map { seal in
            let state = seal.status(at: now)
            return IssuedSeal(
                id: seal.id.rawValue, merchantName: merchants[seal.merchantID]?.displayName ?? seal.merchantID.rawValue, merchantId: seal.merchantID.rawValue,
                issued: PageFormat.date(seal.issuedAt), validUntil: PageFormat.date(seal.validUntil),
                status: IdentityPages.sealStatus(state).label, statusClass: IdentityPages.sealStatus(state).cssClass,
                checks: seal.checks, isValid: state == .valid,
                revocation: seal.revokedAt.map { "Revoked on \(PageFormat.date($0)): \(seal.revocationReason ?? "")" }
            )
        }
        let view = SealsView(seals: rows, defaultValidUntil: Self.day.string(from: now.addingTimeInterval(365 * 86_400)), error: error)
        return site.renderer.render("certifier", page: view, request: request, status: status)
    }

    /// `yyyy-MM-dd`, as an `<input type="date">` sends it; a seal is valid until the end of that day (UTC).
    static let day: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }()

    /// The merchant as a certifier knows them: an account id, or the address of their profile page.
    static func merchantID(from text: String) -> UserID? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let last = trimmed.split(separator: "/").last.map(String.init) ?? ""
        let candidate = last.split(separator: "?").first.map(String.init) ?? ""
        return candidate.hasPrefix(User.identifierPrefix + "_") ? UserID(candidate) : nil
    }

    struct IssueForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var merchant, checks, validUntil: String?
    }

    private func issue(_ request: Request) async throws -> Response {
        _ = try requireCertifier(request)
        let form = try await site.form(IssueForm.self, from: request)
        do {
            guard let merchant = Self.merchantID(from: form.merchant ?? "") else {
                throw ValidationError(field: "merchant", "Give the merchant's account id or the address of their profile page.")
            }
            guard let day = Self.day.date(from: form.validUntil ?? "") else { throw ValidationError(field: "validUntil", "Give the last day the seal is valid.") }
            _ = try await services.seals.issue(to: merchant, checks: PageFormat.lines(form.checks), validUntil: day.addingTimeInterval(86_399), by: site.principal)
            return PageRenderer.redirect(to: "/certifier?notice=seal-issued")
        } catch let error as any DomainError where error.kind != .unauthenticated && error.kind != .forbidden {
            return try await seals(request, error: error.fieldErrors.first?.message ?? error.detail, status: error.kind.httpStatus)
        }
    }

    struct RevokeForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var reason: String?
    }

    private func revoke(_ request: Request) async throws -> Response {
        _ = try requireCertifier(request)
        let form = try await site.form(RevokeForm.self, from: request)
        let id = SealID(try request.pathSegment(2))
        do {
            _ = try await services.seals.revoke(id, reason: form.reason ?? "", by: site.principal)
            return PageRenderer.redirect(to: "/certifier?notice=seal-revoked")
        } catch let error as any DomainError where error.kind != .unauthenticated && error.kind != .forbidden {
            return try await seals(request, error: error.fieldErrors.first?.message ?? error.detail, status: error.kind.httpStatus)
        }
    }
}
