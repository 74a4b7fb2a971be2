import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The community page of a merchant (questions and answers, friends' experiences), the friends'
/// feed, and the forms behind them (E4).
struct CommunityPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/merchants/{id}/community") { request in try await community(request, merchant: UserID(try request.pathSegment(1))) }
        router.page("/merchants/{id}/questions", method: .post) { request in try await ask(request) }
        router.page("/questions/{id}/answers", method: .post) { request in try await answer(request) }
        router.page("/questions/{id}/accept", method: .post) { request in try await accept(request) }
        router.page("/answers/{id}/vote", method: .post) { request in try await vote(request) }
        router.page("/community/{id}/hide", method: .post) { request in try await hide(request) }
        router.page("/feed") { request in try await feed(request) }
        router.page("/orders/{id}/experience", method: .post) { request in try await share(request) }
    }

    // MARK: Views

    struct ExperienceRow: Sendable {
        struct Photo: Sendable { let url, name: String }
        let id, author, experienceMerchantId, merchantName, at, text: String
        let photos: [Photo]
        let hiddenReason: String?
        let canModerate: Bool
    }

    struct AnswerRow: Sendable {
        let id, questionId, author, at, text: String
        let helpfulText, mark: String?
        let accepted, canVote, votedHelpful, canAccept, canModerate: Bool
        let hiddenReason: String?
    }

    struct QuestionRow: Sendable {
        let id, asker, at, text: String
        let product, productLink: String?
        let answers: [AnswerRow]
        let canAnswer, canModerate: Bool
        let hiddenReason: String?
    }

    struct CommunityView: Sendable {
        let merchantId, merchantName: String
        let signedIn: Bool
        let questions: [QuestionRow]
        let experiences: [ExperienceRow]
        let olderQuestions: String?
        let product: String?
        let error: String?
    }

    struct FeedView: Sendable {
        let experiences: [ExperienceRow]
        let older: String?
    }

    private func row(_ experience: Experience, names: [UserID: String], viewer: User) -> ExperienceRow {
        ExperienceRow(
            id: experience.id.rawValue, author: experience.authorID == viewer.id ? "You" : names[experience.authorID] ?? experience.authorID.rawValue,
            experienceMerchantId: experience.merchantID.rawValue, merchantName: names[experience.merchantID] ?? experience.merchantID.rawValue,
            at: PageFormat.date(experience.createdAt), text: experience.text,
            photos: experience.photos.map { .init(url: "/attachments/\($0.id)", name: $0.fileName) },
            hiddenReason: experience.hidden?.reason, canModerate: viewer.isStaff && experience.hidden == nil
        )
    }

    // MARK: The community page

    private func community(_ request: Request, merchant: UserID, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = site.principal.actingUser
        let product = request.uri.queryParameters["product"].map(String.init)?.trimmedOrNil
        let page = try PageRequest(limit: 20, cursor: request.uri.queryParameters["cursor"].map(String.init))
        let (threads, names) = try await services.community.questions(about: merchant, product: product, page: page, by: site.principal)
        var experiences: [ExperienceRow] = []
        if let viewer {
            let (feed, feedNames) = try await services.community.feed(about: merchant, page: try PageRequest(limit: 10), by: site.principal)
            experiences = feed.items.map { row($0, names: feedNames, viewer: viewer) }
        }
        let staff = viewer?.isStaff ?? false
        let questions = threads.items.map { thread in
            let question = thread.question
            return QuestionRow(
                id: question.id.rawValue, asker: question.askerID == viewer?.id ? "You" : names[question.askerID] ?? question.askerID.rawValue,
                at: PageFormat.date(question.createdAt), text: question.text, product: question.product,
                productLink: question.product.map { "/merchants/\(merchant)/community?product=\(Self.queryEscaped($0))" },
                answers: thread.answers.map { answer in
                    AnswerRow(
                        id: answer.id.rawValue, questionId: question.id.rawValue, author: answer.authorID == viewer?.id ? "You" : names[answer.authorID] ?? answer.authorID.rawValue,
                        at: PageFormat.date(answer.createdAt), text: answer.text,
                        helpfulText: answer.helpfulVotes == 0 ? nil
                            : answer.helpfulVotes == 1 ? "1 person found this helpful" : "\(answer.helpfulVotes) people found this helpful",
                        mark: answer.mark.map { $0 == .merchant ? "The merchant" : "Bought from this seller" },
                        accepted: answer.id == question.acceptedAnswerID,
                        canVote: viewer != nil && answer.authorID != viewer?.id && answer.hidden == nil,
                        votedHelpful: thread.helpfulToViewer.contains(answer.id),
                        canAccept: question.askerID == viewer?.id && answer.authorID != viewer?.id && answer.id != question.acceptedAnswerID && answer.hidden == nil,
                        canModerate: staff && answer.hidden == nil, hiddenReason: answer.hidden?.reason
                    )
                },
                canAnswer: viewer != nil && question.hidden == nil, canModerate: staff && question.hidden == nil, hiddenReason: question.hidden?.reason
            )
        }
        let view = CommunityView(
            merchantId: merchant.rawValue, merchantName: names[merchant] ?? merchant.rawValue, signedIn: viewer != nil,
            questions: questions, experiences: experiences,
            olderQuestions: threads.nextCursor.map { "/merchants/\(merchant)/community?cursor=\($0)" + (product.map { "&product=\(Self.queryEscaped($0))" } ?? "") },
            product: product, error: error
        )
        return site.renderer.render("community", page: view, request: request, status: status)
    }

    private static func queryEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    // MARK: Forms

    struct CommunityForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var merchantId, text, product, answerId, helpful, reason, back: String?
    }

    /// Runs a posted form: on success back to the page it came from (the merchant's community page
    /// by default), on a refusal that page with the reason.
    private func submit(_ request: Request, _ body: (CommunityForm) async throws -> Void) async throws -> Response {
        _ = try site.requireViewer(request)
        let form = try await site.form(CommunityForm.self, from: request)
        let home = form.merchantId.map { "/merchants/\($0)/community" } ?? "/feed"
        do {
            try await body(form)
            return PageRenderer.redirect(to: PageRenderer.localPath(form.back) ?? home)
        } catch let error as any DomainError where error.kind != .unauthenticated {
            let message = error.fieldErrors.first?.message ?? error.detail
            guard let merchant = form.merchantId else { return try await feed(request, error: message, status: error.kind.httpStatus) }
            return try await community(request, merchant: UserID(merchant), error: message, status: error.kind.httpStatus)
        }
    }

    private func ask(_ request: Request) async throws -> Response {
        let merchant = UserID(try request.pathSegment(1))
        return try await submit(request) { form in
            _ = try await services.community.ask(about: merchant, product: form.product, text: form.text ?? "", by: site.principal)
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        let question = QuestionID(try request.pathSegment(1))
        return try await submit(request) { form in
            _ = try await services.community.answer(question, text: form.text ?? "", by: site.principal)
        }
    }

    private func accept(_ request: Request) async throws -> Response {
        let question = QuestionID(try request.pathSegment(1))
        return try await submit(request) { form in
            _ = try await services.community.accept(AnswerID(form.answerId ?? ""), for: question, by: site.principal)
        }
    }

    private func vote(_ request: Request) async throws -> Response {
        let answer = AnswerID(try request.pathSegment(1))
        return try await submit(request) { form in
            _ = try await services.community.vote(answer, helpful: form.helpful == "yes", by: site.principal)
        }
    }

    private func hide(_ request: Request) async throws -> Response {
        let id = try request.pathSegment(1)
        return try await submit(request) { form in
            guard let content = CommunityContent(id: id) else { throw NotFoundError(entity: "community post", id: id) }
            try await services.community.hide(content, reason: form.reason ?? "", by: site.principal)
        }
    }

    // MARK: Feed and sharing

    private func feed(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try site.requireViewer(request)
        let page = try PageRequest(limit: 20, cursor: request.uri.queryParameters["cursor"].map(String.init))
        let (feed, names) = try await services.community.feed(page: page, by: site.principal)
        let view = FeedView(experiences: feed.items.map { row($0, names: names, viewer: viewer) }, older: feed.nextCursor.map { "/feed?cursor=\($0)" })
        return site.renderer.render("feed", page: view, request: request, status: status)
    }

    private func share(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let order = OrderID(try request.pathSegment(1))
        let form = try await site.multipartForm(from: request)
        do {
            _ = try await services.community.share(order: order, text: form["text"] ?? "", files: form.files, by: site.principal)
            return PageRenderer.redirect(to: "/orders/\(order)?notice=experience-shared")
        } catch let error as any DomainError where error.kind != .unauthenticated && error.kind != .notFound {
            return try await EscrowPages(site: site).showOrder(request, id: order, error: error.fieldErrors.first?.message ?? error.detail, status: error.kind.httpStatus)
        }
    }
}
