import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The friends page, the trust-list page, and the forms behind the social parts of a merchant's
/// profile (E1–E3).
struct SocialPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/friends") { request in try await friends(request) }
        router.page("/friends/requests", method: .post) { request in try await sendRequest(request) }
        router.page("/friends/requests/{id}/answer", method: .post) { request in try await answer(request) }
        router.page("/friends/requests/{id}/withdraw", method: .post) { request in try await withdraw(request) }
        router.page("/friends/{id}/remove", method: .post) { request in try await removeFriend(request) }
        router.page("/blocks/{id}", method: .post) { request in try await block(request) }
        router.page("/blocks/{id}/remove", method: .post) { request in try await unblock(request) }
        router.page("/trust-list") { request in try await trustList(request) }
        router.page("/trust-list/visibility", method: .post) { request in try await setVisibility(request) }
        router.page("/trust-list/{id}", method: .post) { request in try await addToList(request) }
        router.page("/trust-list/{id}/remove", method: .post) { request in try await removeFromList(request) }
    }

    struct SimpleForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var userId, message, accept, list, note, visibility, back: String?
    }

    /// Where to go after a form: back to the page it came from when that is one of ours.
    private func back(_ form: SimpleForm, default fallback: String) -> Response {
        let target = PageRenderer.localPath(form.back) ?? fallback
        return PageRenderer.redirect(to: target)
    }

    // MARK: Friends

    struct FriendsView: Sendable {
        struct FriendRow: Sendable { let id, name, since: String; let levels: [String] }
        struct RequestRow: Sendable { let id, userId, name, at: String; let message: String? }
        struct BlockedRow: Sendable { let id, name: String }
        let friends: [FriendRow]
        let incoming, outgoing: [RequestRow]
        let blocked: [BlockedRow]
        let error: String?
    }

    private func friends(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try site.requireViewer(request)
        let circle = try await services.social.circle(by: site.principal)
        func row(_ request: FriendRequest, other: UserID) -> FriendsView.RequestRow {
            .init(id: request.id.rawValue, userId: other.rawValue, name: circle.names[other] ?? other.rawValue, at: PageFormat.date(request.createdAt), message: request.message)
        }
        let view = FriendsView(
            friends: circle.friends.map {
                .init(id: $0.user.id.rawValue, name: $0.user.displayName, since: PageFormat.date($0.since), levels: $0.verifiedLevels.sorted().map(\.label))
            },
            incoming: circle.incoming.map { row($0, other: $0.fromID) },
            outgoing: circle.outgoing.map { row($0, other: $0.toID) },
            blocked: circle.blocked.map { .init(id: $0.rawValue, name: circle.names[$0] ?? $0.rawValue) },
            error: error
        )
        return site.renderer.render("friends", page: view, request: request, status: status)
    }

    /// The page a form belongs to: where it returns, and where a refusal is shown.
    enum Home { case friends, trustList }

    /// Runs a posted form: on success back where it came from, on a refusal the form's home page
    /// with the reason.
    private func submit(_ request: Request, home: Home, _ body: (SimpleForm) async throws -> Void) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(SimpleForm.self, from: request)
        do {
            try await body(form)
            return back(form, default: home == .friends ? "/friends" : "/trust-list")
        } catch let error as any DomainError where error.kind != .unauthenticated {
            let message = error.fieldErrors.first?.message ?? error.detail
            return home == .friends
                ? try await friends(request, error: message, status: error.kind.httpStatus)
                : try await trustList(request, error: message, status: error.kind.httpStatus)
        }
    }

    private func sendRequest(_ request: Request) async throws -> Response {
        try await submit(request, home: .friends) { form in
            let text = (form.userId ?? "").trimmingWhitespace()
            guard let user = CertifierPages.merchantID(from: text) else {
                throw ValidationError(field: "userId", "Give the person's account id (usr_…) or the address of their profile page.")
            }
            _ = try await services.social.sendRequest(to: user, message: form.message, by: site.principal)
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        let id = FriendRequestID(try request.pathSegment(2))
        return try await submit(request, home: .friends) { form in
            _ = try await services.social.answer(id, accept: form.accept == "yes", by: site.principal)
        }
    }

    private func withdraw(_ request: Request) async throws -> Response {
        let id = FriendRequestID(try request.pathSegment(2))
        return try await submit(request, home: .friends) { _ in try await services.social.withdraw(id, by: site.principal) }
    }

    private func removeFriend(_ request: Request) async throws -> Response {
        let id = UserID(try request.pathSegment(1))
        return try await submit(request, home: .friends) { _ in try await services.social.removeFriend(id, by: site.principal) }
    }

    private func block(_ request: Request) async throws -> Response {
        let id = UserID(try request.pathSegment(1))
        return try await submit(request, home: .friends) { _ in try await services.social.block(id, by: site.principal) }
    }

    private func unblock(_ request: Request) async throws -> Response {
        let id = UserID(try request.pathSegment(1))
        return try await submit(request, home: .friends) { _ in try await services.social.unblock(id, by: site.principal) }
    }

    // MARK: Trust lists

    struct TrustListView: Sendable {
        struct Entry: Sendable { let merchantId, merchantName, updated: String; let note: String? }
        struct Choice: Sendable { let value, label: String; let selected: Bool }
        struct List: Sendable { let kind, heading, explanation: String; let entries: [Entry]; let visibility: [Choice] }
        let lists: [List]
        let error: String?
    }

    private func trustList(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let (lists, names) = try await services.social.lists(of: viewer.id, by: site.principal)
        let labels: [ListVisibility: String] = [.friends: "My friends", .public: "Everyone", .private: "Only me"]
        let view = TrustListView(
            lists: lists.map { list in
                .init(
                    kind: list.kind.rawValue,
                    heading: list.kind == .trusted ? "Merchants I trust" : "Merchants I would not trade with again",
                    explanation: list.kind == .trusted
                        ? "Your friends see these when they look at a merchant, and their personalised trust counts your word."
                        : "Your friends are warned before they pay one of these merchants.",
                    entries: list.entries.map {
                        .init(merchantId: $0.merchantID.rawValue, merchantName: names[$0.merchantID] ?? $0.merchantID.rawValue,
                              updated: PageFormat.date($0.updatedAt), note: $0.note)
                    },
                    visibility: ListVisibility.allCases.map { .init(value: $0.rawValue, label: labels[$0] ?? $0.rawValue, selected: $0 == list.visibility) }
                )
            },
            error: error
        )
        return site.renderer.render("trust-list", page: view, request: request, status: status)
    }

    private func addToList(_ request: Request) async throws -> Response {
        let merchant = UserID(try request.pathSegment(1))
        return try await submit(request, home: .trustList) { form in
            guard let kind = TrustListKind(rawValue: form.list ?? "") else { throw ValidationError(field: "list", "Choose the trusted list or the warn list.") }
            _ = try await services.social.list(merchant, as: kind, note: form.note, by: site.principal)
        }
    }

    private func removeFromList(_ request: Request) async throws -> Response {
        let merchant = UserID(try request.pathSegment(1))
        return try await submit(request, home: .trustList) { _ in try await services.social.unlist(merchant, by: site.principal) }
    }

    private func setVisibility(_ request: Request) async throws -> Response {
        try await submit(request, home: .trustList) { form in
            guard let kind = TrustListKind(rawValue: form.list ?? ""), let visibility = ListVisibility(rawValue: form.visibility ?? "") else {
                throw ValidationError(field: "visibility", "Choose who may see the list.")
            }
            try await services.social.setVisibility(visibility, of: kind, by: site.principal)
        }
    }
}
