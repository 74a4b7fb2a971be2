import FiduciaDomain
import FiduciaPersistence
import Foundation

/// The community (E4): experiences of completed orders shared with friends, questions about a
/// merchant answered by the people who bought from them, helpful votes and accepted answers, and
/// moderators hiding what breaks the rules. Each change is one transaction.
public struct CommunityService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let attachments: AttachmentService

    init(store: Store, clock: any WallClock, random: any RandomSource, attachments: AttachmentService) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.attachments = attachments
    }

    // MARK: Experiences

    /// Shares the caller's experience of one of their completed orders with their friends: text
    /// and up to four photos (uploads by id, or files sent with a page's form).
    public func share(
        order orderID: OrderID, text: String, attachmentIDs: [AttachmentID] = [], files: [UploadedFile] = [], by principal: Principal
    ) async throws -> Experience {
        let author = try principal.requireUser()
        let text = try CommunityRules.trimmed(text, within: CommunityRules.experienceLength, field: "text")
        let now = clock.now()
        let id: ExperienceID = ids.make()
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(orderID, lock: false) else { throw CommunityError.orderNotFound }
            let merchant = try CommunityRules.checkExperience(
                of: order, by: author.id, alreadyShared: try await repositories.community.experience(author: author.id, order: orderID) != nil,
                text: text, photoCount: Set(attachmentIDs).count + files.count
            )
            let photos = try await attachments.attach(
                uploaded: attachmentIDs, files: files, to: AttachmentContext(kind: .experience, id: id.rawValue, orderID: nil),
                owner: author.id, in: repositories, now: now
            )
            try CommunityRules.checkPhotos(photos.map(\.type))
            let experience = Experience(id: id, authorID: author.id, orderID: orderID, merchantID: merchant, text: text, photos: photos, createdAt: now)
            do {
                try await repositories.community.insertExperience(experience)
            } catch where DatabaseErrors.isUniqueViolation(error) {
                throw CommunityError.alreadyShared
            }
            return experience
        }
    }

    /// The experience the caller shared of `order`, if any.
    public func shared(of order: OrderID, by principal: Principal) async throws -> Experience? {
        let author = try principal.requireUser()
        return try await store.read { try await $0.community.experience(author: author.id, order: order) }
    }

    /// Experiences of the caller and their friends, newest first; with `merchant`, only those
    /// about that merchant (the community page).
    public func feed(about merchant: UserID? = nil, page: PageRequest, by principal: Principal) async throws -> (page: Page<Experience>, names: [UserID: String]) {
        let viewer = try principal.requireUser()
        return try await store.read { repositories in
            let fetched = try await repositories.community.feed(viewer: viewer.id, merchant: merchant, before: page.after, limit: page.limit + 1)
            let result = Page(fetched: fetched, limit: page.limit) { $0.id.rawValue }
            let names = try await repositories.users.find(Array(Set(result.items.flatMap { [$0.authorID, $0.merchantID] }))).mapValues(\.displayName)
            return (result, names)
        }
    }

    /// Whether `viewer` may see an experience: its author, the author's friends, staff; hidden
    /// ones only the author and staff.
    static func maySee(_ experience: Experience, viewer: User, in repositories: Repositories) async throws -> Bool {
        guard CommunityRules.isVisible(hidden: experience.hidden, author: experience.authorID, to: viewer.id, viewerIsStaff: viewer.isStaff) else { return false }
        if viewer.id == experience.authorID || viewer.isStaff { return true }
        return try await repositories.social.areFriends(viewer.id, experience.authorID)
    }

    // MARK: Questions and answers

    /// Asks a question about a merchant (an account that sells), or about one of their products.
    public func ask(about merchant: UserID, product: String?, text: String, by principal: Principal) async throws -> Question {
        let asker = try principal.requireUser()
        let text = try CommunityRules.trimmed(text, within: CommunityRules.questionLength, field: "text")
        let product = product?.trimmedOrNil
        let now = clock.now()
        let question = Question(id: ids.make(), askerID: asker.id, merchantID: merchant, product: product, text: text, createdAt: now)
        return try await store.write { repositories in
            guard let target = try await repositories.users.find(merchant), target.has(.seller) else { throw NotFoundError(entity: "merchant", id: merchant.rawValue) }
            try CommunityRules.checkQuestion(
                by: asker.id, about: merchant, text: text, product: product,
                askedLastDay: try await repositories.community.questionsAsked(by: asker.id, since: now.addingTimeInterval(-86_400))
            )
            try await repositories.community.insertQuestion(question)
            return question
        }
    }

    /// Answers a question. The answer is marked when its author bought from the merchant, or is the
    /// merchant. Someone the asker blocked cannot answer them.
    public func answer(_ questionID: QuestionID, text: String, by principal: Principal) async throws -> Answer {
        let author = try principal.requireUser()
        let text = try CommunityRules.trimmed(text, within: CommunityRules.answerLength, field: "text")
        let now = clock.now()
        let id: AnswerID = ids.make()
        return try await store.write { repositories in
            guard let question = try await repositories.community.question(questionID, lock: false) else { throw CommunityError.questionNotFound }
            guard try await !repositories.social.isBlocked(author.id, by: question.askerID) else { throw SocialError.messagesRefused }
            let mark = try CommunityRules.checkAnswer(
                to: question, by: author.id, text: text,
                answeredLastDay: try await repositories.community.answersWritten(by: author.id, since: now.addingTimeInterval(-86_400)),
                boughtFromMerchant: try await repositories.community.hasBought(buyer: author.id, from: question.merchantID)
            )
            let answer = Answer(id: id, questionID: questionID, authorID: author.id, text: text, mark: mark, createdAt: now)
            try await repositories.community.insertAnswer(answer)
            return answer
        }
    }

    /// The asker accepts one of the answers to their question.
    public func accept(_ answerID: AnswerID, for questionID: QuestionID, by principal: Principal) async throws -> Question {
        let person = try principal.requireUser()
        return try await store.write { repositories in
            guard let question = try await repositories.community.question(questionID, lock: true) else { throw CommunityError.questionNotFound }
            guard let answer = try await repositories.community.answer(answerID) else { throw CommunityError.answerNotFound }
            let accepted = try CommunityRules.accept(answer, for: question, by: person.id)
            try await repositories.community.setAcceptedAnswer(answerID, of: questionID)
            return accepted
        }
    }

    /// Marks an answer helpful, or takes the mark back. Voting twice counts once.
    public func vote(_ answerID: AnswerID, helpful: Bool, by principal: Principal) async throws -> Answer {
        let voter = try principal.requireUser()
        let now = clock.now()
        return try await store.write { repositories in
            guard let answer = try await repositories.community.answer(answerID) else { throw CommunityError.answerNotFound }
            try CommunityRules.checkVote(on: answer, by: voter.id)
            if helpful {
                _ = try await repositories.community.vote(answerID, by: voter.id, at: now)
            } else {
                _ = try await repositories.community.unvote(answerID, by: voter.id)
            }
            guard let counted = try await repositories.community.answer(answerID) else { throw CommunityError.answerNotFound }
            return counted
        }
    }

    /// A question with its answers in the order they are shown, and which of them the viewer found helpful.
    public struct Thread: Sendable {
        public let question: Question
        public let answers: [Answer]
        public let helpfulToViewer: Set<AnswerID>

        public init(question: Question, answers: [Answer], helpfulToViewer: Set<AnswerID>) {
            self.question = question
            self.answers = answers
            self.helpfulToViewer = helpfulToViewer
        }
    }

    /// One question with its answers, as `questions` shows it.
    public func thread(_ questionID: QuestionID, by principal: Principal) async throws -> (thread: Thread, names: [UserID: String]) {
        let viewer = principal.actingUser
        let staff = principal.isStaff
        return try await store.read { repositories in
            guard let question = try await repositories.community.question(questionID, lock: false),
                CommunityRules.isVisible(hidden: question.hidden, author: question.askerID, to: viewer?.id, viewerIsStaff: staff)
            else { throw CommunityError.questionNotFound }
            let (threads, names) = try await Self.threads([question], viewer: viewer, staff: staff, in: repositories)
            return (threads[0], names)
        }
    }

    /// Questions about `merchant` (about `product` when given), newest first, each with its
    /// answers ranked. Open to everyone; hidden content only for its author and staff.
    public func questions(
        about merchant: UserID, product: String? = nil, page: PageRequest, by principal: Principal
    ) async throws -> (page: Page<Thread>, names: [UserID: String]) {
        // The product a list is narrowed to: no longer than the document allows.
        if let product { _ = try CommunityRules.trimmed(product, within: CommunityRules.productLength, field: "product") }
        let viewer = principal.actingUser
        let staff = principal.isStaff
        return try await store.read { repositories in
            guard try await repositories.users.find(merchant) != nil else { throw NotFoundError(entity: "user", id: merchant.rawValue) }
            let fetched = try await repositories.community.questions(
                merchant: merchant, product: product?.trimmedOrNil, before: page.after, limit: page.limit + 1, viewer: viewer?.id, staff: staff
            )
            let questions = Page(fetched: fetched, limit: page.limit) { $0.id.rawValue }
            let (threads, names) = try await Self.threads(questions.items, viewer: viewer, staff: staff, in: repositories)
            return (Page(items: threads, nextCursor: questions.nextCursor), names)
        }
    }

    /// The questions with their visible answers ranked, what the viewer found helpful, and everyone's names.
    private static func threads(_ questions: [Question], viewer: User?, staff: Bool, in repositories: Repositories) async throws -> ([Thread], [UserID: String]) {
        let answers = try await repositories.community.answers(to: questions.map(\.id), limit: 50 * max(questions.count, 1))
            .filter { CommunityRules.isVisible(hidden: $0.hidden, author: $0.authorID, to: viewer?.id, viewerIsStaff: staff) }
        let byQuestion = Dictionary(grouping: answers, by: \.questionID)
        var voted: Set<AnswerID> = []
        if let viewer { voted = try await repositories.community.votes(by: viewer.id, on: answers.map(\.id)) }
        let threads = questions.map { question in
            let answers = CommunityRules.ranked(byQuestion[question.id] ?? [], accepted: question.acceptedAnswerID)
            return Thread(question: question, answers: answers, helpfulToViewer: voted.intersection(answers.map(\.id)))
        }
        var people = Set(questions.flatMap { [$0.askerID, $0.merchantID] })
        people.formUnion(answers.map(\.authorID))
        let names = try await repositories.users.find(Array(people)).mapValues(\.displayName)
        return (threads, names)
    }

    // MARK: Moderation

    /// A moderator hides an experience, a question or an answer from everyone but its author, with
    /// the reason the author sees.
    public func hide(_ content: CommunityContent, reason: String, by principal: Principal) async throws {
        let moderator = try principal.requireRole(.moderator, .admin)
        let reason = try CommunityRules.trimmed(reason, within: CommunityRules.hideReasonLength, field: "reason")
        guard CommunityRules.hideReasonLength.contains(reason.codePointCount) else { throw ValidationError(field: "reason", "State the reason (1 to 2000 characters).") }
        let now = clock.now()
        try await store.write { repositories in
            try await Self.hide(content, Hidden(reason: reason, at: now, by: moderator.id), in: repositories)
        }
    }

    /// Hides `content` inside the caller's transaction (a moderator's decision or a report's resolution).
    static func hide(_ content: CommunityContent, _ hidden: Hidden, in repositories: Repositories) async throws {
        guard try await repositories.community.hide(content, hidden) else {
            guard try await exists(content, in: repositories) else { throw notFound(content) }
            throw CommunityError.alreadyHidden
        }
    }

    /// What a post says, for staff judging a report about it.
    public func text(of content: CommunityContent, by principal: Principal) async throws -> String? {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { repositories in
            switch content {
            case .experience(let id): try await repositories.community.experience(id)?.text
            case .question(let id): try await repositories.community.question(id, lock: false).map { q in q.product.map { "[\($0)] " + q.text } ?? q.text }
            case .answer(let id): try await repositories.community.answer(id)?.text
            }
        }
    }

    /// Whether `viewer` may see (and so report) `content`.
    static func maySee(_ content: CommunityContent, viewer: User, in repositories: Repositories) async throws -> Bool {
        switch content {
        case .experience(let id):
            guard let experience = try await repositories.community.experience(id) else { return false }
            return try await maySee(experience, viewer: viewer, in: repositories)
        case .question(let id):
            guard let question = try await repositories.community.question(id, lock: false) else { return false }
            return CommunityRules.isVisible(hidden: question.hidden, author: question.askerID, to: viewer.id, viewerIsStaff: viewer.isStaff)
        case .answer(let id):
            guard let answer = try await repositories.community.answer(id) else { return false }
            return CommunityRules.isVisible(hidden: answer.hidden, author: answer.authorID, to: viewer.id, viewerIsStaff: viewer.isStaff)
        }
    }

    /// Who wrote `content` (whom a report's penalty falls on by default).
    static func author(of content: CommunityContent, in repositories: Repositories) async throws -> UserID? {
        switch content {
        case .experience(let id): try await repositories.community.experience(id)?.authorID
        case .question(let id): try await repositories.community.question(id, lock: false)?.askerID
        case .answer(let id): try await repositories.community.answer(id)?.authorID
        }
    }

    private static func exists(_ content: CommunityContent, in repositories: Repositories) async throws -> Bool {
        try await author(of: content, in: repositories) != nil
    }

    private static func notFound(_ content: CommunityContent) -> CommunityError {
        switch content {
        case .experience: .experienceNotFound
        case .question: .questionNotFound
        case .answer: .answerNotFound
        }
    }
}
