import FiduciaDomain
import FiduciaServices
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The moderators' review queue for verifications that need a person to look: real names and
/// businesses, with their documents. A document is shown only inside this page, and each time it
/// is fetched the view is written to the audit log (`document_views`) in the same transaction.
struct VerificationReviewPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/moderation/verifications") { request in try await queue(request) }
        router.page("/moderation/verifications/{id}") { request in try await review(request) }
        router.page("/moderation/verifications/{id}/document") { request in try await document(request) }
        router.page("/moderation/verifications/{id}/decision", method: .post) { request in try await decide(request) }
    }

    struct Detail: Sendable { let label, value: String }
    struct Viewed: Sendable { let by, at: String }
    struct Entry: Sendable {
        let id, level, person, personId, submitted: String
        let hasDocument: Bool
    }
    struct QueueView: Sendable { let entries: [Entry] }
    struct ReviewView: Sendable {
        let id, level, person, personId, submitted, state: String
        let details: [Detail]
        let hasDocument, isPending: Bool
        let views: [Viewed]
        let error: String?
    }

    private func requireModerator(_ request: Request) throws -> User {
        let viewer = try site.requireViewer(request)
        guard viewer.isStaff else { throw AccessError.forbidden("Verifications are reviewed by moderators.") }
        return viewer
    }

    private func verificationID(_ request: Request) throws -> VerificationID {
        VerificationID(try request.pathSegment(2))
    }

    /// Oldest first, without details: what a verification says is seen on its review page only.
    private func queue(_ request: Request) async throws -> Response {
        _ = try requireModerator(request)
        let pending = try await services.identity.queue(by: site.principal)
        let people = try await services.accounts.users(pending.map(\.userID))
        let entries = pending.map { verification in
            Entry(
                id: verification.id.rawValue, level: verification.level.label,
                person: people[verification.userID]?.displayName ?? verification.userID.rawValue, personId: verification.userID.rawValue,
                submitted: PageFormat.dateTime(verification.createdAt), hasDocument: verification.documentID != nil
            )
        }
        return site.renderer.render("verification-queue", page: QueueView(entries: entries), request: request)
    }

    private func review(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try requireModerator(request)
        let verification = try await services.identity.verification(try verificationID(request), by: site.principal)
        let views = try await services.identity.documentViews(verification.id, by: site.principal)
        let people = try await services.accounts.users([verification.userID] + views.map(\.viewerID))
        let state = verification.state(at: services.clock.now())
        let view = ReviewView(
            id: verification.id.rawValue, level: verification.level.label,
            person: people[verification.userID]?.displayName ?? verification.userID.rawValue, personId: verification.userID.rawValue,
            submitted: PageFormat.dateTime(verification.createdAt), state: IdentityPages.stateLabel(state),
            details: verification.details.sorted { $0.key < $1.key }.map { Detail(label: IdentityPages.fieldLabel($0.key), value: $0.value) },
            hasDocument: verification.documentID != nil, isPending: state == .pending,
            views: views.map { Viewed(by: people[$0.viewerID]?.displayName ?? $0.viewerID.rawValue, at: PageFormat.dateTime($0.viewedAt)) },
            error: error
        )
        return site.renderer.render("verification-review", page: view, request: request, status: status)
    }

    /// The document itself, for the review page's frame: never cached or sniffed, framed only by our
    /// own pages, allowed to load nothing else.
    private func document(_ request: Request) async throws -> Response {
        _ = try requireModerator(request)
        let document = try await services.identity.document(for: try verificationID(request), by: site.principal)
        return Response(
            status: .ok,
            headers: [
                .contentType: document.kind.rawValue, .cacheControl: "no-store", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                .contentSecurityPolicy: "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
                .contentDisposition: "inline",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: document.bytes))
        )
    }

    struct DecisionForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var decision: String?
        var reason: String?
    }

    private func decide(_ request: Request) async throws -> Response {
        _ = try requireModerator(request)
        let form = try await site.form(DecisionForm.self, from: request)
        let id = try verificationID(request)
        do {
            guard let decision = form.decision, decision == "approve" || decision == "reject" else {
                throw ValidationError(field: "decision", "Approve or reject.")
            }
            let reason = form.reason.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
            _ = try await services.identity.decide(id, approve: decision == "approve", reason: reason, by: site.principal)
            return PageRenderer.redirect(to: "/moderation/verifications?notice=verification-decided")
        } catch let error as any DomainError where error.kind != .unauthenticated && error.kind != .forbidden && error.kind != .notFound {
            return try await review(request, error: error.fieldErrors.first?.message ?? error.detail, status: error.kind.httpStatus)
        }
    }
}
