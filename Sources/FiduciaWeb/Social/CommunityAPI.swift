import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// The community (E4): shared experiences, the friends' feed, questions and answers, helpful
/// votes, accepted answers, and moderators hiding posts.
extension FiduciaAPIHandler {
    func withdrawFriendRequest(_ input: Operations.WithdrawFriendRequest.Input) async throws -> Operations.WithdrawFriendRequest.Output {
        try await services.social.withdraw(FriendRequestID(input.path.requestId), by: principal)
        return .noContent(.init())
    }

    func shareExperience(_ input: Operations.ShareExperience.Input) async throws -> Operations.ShareExperience.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let experience = try await services.community.share(
            order: OrderID(input.path.orderId), text: body.text, attachmentIDs: Self.attachmentIDs(body.attachmentIds), by: principal
        )
        let names = try await services.accounts.users([experience.authorID, experience.merchantID]).mapValues(\.displayName)
        return .created(.init(body: .json(.init(experience, names: names))))
    }

    func listFeed(_ input: Operations.ListFeed.Input) async throws -> Operations.ListFeed.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let (feed, names) = try await services.community.feed(about: input.query.merchantId.map(UserID.init), page: page, by: principal)
        return .ok(.init(body: .json(.init(items: feed.items.map { .init($0, names: names) }, nextCursor: feed.nextCursor))))
    }

    func askQuestion(_ input: Operations.AskQuestion.Input) async throws -> Operations.AskQuestion.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let question = try await services.community.ask(about: UserID(input.path.userId), product: body.product, text: body.text, by: principal)
        let thread = CommunityService.Thread(question: question, answers: [], helpfulToViewer: [])
        let names = try await services.accounts.users([question.askerID]).mapValues(\.displayName)
        return .created(.init(body: .json(.init(thread, names: names))))
    }

    func listQuestions(_ input: Operations.ListQuestions.Input) async throws -> Operations.ListQuestions.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let (threads, names) = try await services.community.questions(
            about: UserID(input.path.userId), product: input.query.product, page: page, by: principal
        )
        return .ok(.init(body: .json(.init(items: threads.items.map { .init($0, names: names) }, nextCursor: threads.nextCursor))))
    }

    func answerQuestion(_ input: Operations.AnswerQuestion.Input) async throws -> Operations.AnswerQuestion.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let answer = try await services.community.answer(QuestionID(input.path.questionId), text: body.text, by: principal)
        let names = try await services.accounts.users([answer.authorID]).mapValues(\.displayName)
        return .created(.init(body: .json(.init(answer, names: names, helpfulToYou: false))))
    }

    func acceptAnswer(_ input: Operations.AcceptAnswer.Input) async throws -> Operations.AcceptAnswer.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let question = QuestionID(input.path.questionId)
        _ = try await services.community.accept(AnswerID(body.answerId), for: question, by: principal)
        let (thread, names) = try await services.community.thread(question, by: principal)
        return .ok(.init(body: .json(.init(thread, names: names))))
    }

    func voteAnswer(_ input: Operations.VoteAnswer.Input) async throws -> Operations.VoteAnswer.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let answer = try await services.community.vote(AnswerID(input.path.answerId), helpful: body.helpful, by: principal)
        let names = try await services.accounts.users([answer.authorID]).mapValues(\.displayName)
        return .ok(.init(body: .json(.init(answer, names: names, helpfulToYou: body.helpful))))
    }

    func hideCommunityContent(_ input: Operations.HideCommunityContent.Input) async throws -> Operations.HideCommunityContent.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        guard let content = CommunityContent(id: input.path.contentId) else {
            throw NotFoundError(entity: "community post", id: input.path.contentId)
        }
        try await services.community.hide(content, reason: body.reason, by: principal)
        return .noContent(.init())
    }
}

extension Components.Schemas.HiddenNote {
    init(_ hidden: Hidden) {
        self.init(reason: hidden.reason, hiddenAt: hidden.at)
    }
}

extension Components.Schemas.Experience {
    init(_ experience: Experience, names: [UserID: String]) {
        self.init(
            id: experience.id.rawValue, authorId: experience.authorID.rawValue, authorName: names[experience.authorID] ?? experience.authorID.rawValue,
            orderId: experience.orderID.rawValue, merchantId: experience.merchantID.rawValue,
            merchantName: names[experience.merchantID] ?? experience.merchantID.rawValue, text: experience.text,
            photos: experience.photos.map(Components.Schemas.Attachment.init), createdAt: experience.createdAt, hidden: experience.hidden.map { .init($0) }
        )
    }
}

extension Components.Schemas.Question {
    init(_ thread: CommunityService.Thread, names: [UserID: String]) {
        let question = thread.question
        self.init(
            id: question.id.rawValue, askerId: question.askerID.rawValue, askerName: names[question.askerID] ?? question.askerID.rawValue,
            merchantId: question.merchantID.rawValue, product: question.product, text: question.text, createdAt: question.createdAt,
            acceptedAnswerId: question.acceptedAnswerID?.rawValue, hidden: question.hidden.map { .init($0) },
            answers: thread.answers.map { .init($0, names: names, helpfulToYou: thread.helpfulToViewer.contains($0.id)) }
        )
    }
}

extension Components.Schemas.Answer {
    init(_ answer: Answer, names: [UserID: String], helpfulToYou: Bool) {
        self.init(
            id: answer.id.rawValue, questionId: answer.questionID.rawValue, authorId: answer.authorID.rawValue,
            authorName: names[answer.authorID] ?? answer.authorID.rawValue, text: answer.text, mark: answer.mark.map { .init(rawValue: $0.rawValue)! },
            helpfulVotes: answer.helpfulVotes, helpfulToYou: helpfulToYou, createdAt: answer.createdAt, hidden: answer.hidden.map { .init($0) }
        )
    }
}
