import Foundation

// The community (E4): experiences shared with friends, and questions about a merchant answered by
// the people who bought from them. The rules here are pure; the service checks them against the
// database in one transaction.

/// A moderator's decision to hide a piece of community content, with its reason.
public struct Hidden: Sendable, Equatable {
    public let reason: String
    public let at: Date
    public let by: UserID

    public init(reason: String, at: Date, by: UserID) {
        self.reason = reason
        self.at = at
        self.by = by
    }
}

public typealias ExperienceID = Identifier<Experience>

/// What a person tells their friends about a completed order: text and up to four photos.
public struct Experience: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "exp"

    public let id: ExperienceID
    public let authorID: UserID
    public let orderID: OrderID
    /// The other party of the order: the merchant the experience is about.
    public let merchantID: UserID
    public let text: String
    public let photos: [Attachment]
    public let createdAt: Date
    public var hidden: Hidden?

    public init(id: ExperienceID, authorID: UserID, orderID: OrderID, merchantID: UserID, text: String, photos: [Attachment], createdAt: Date, hidden: Hidden? = nil) {
        self.id = id
        self.authorID = authorID
        self.orderID = orderID
        self.merchantID = merchantID
        self.text = text
        self.photos = photos
        self.createdAt = createdAt
        self.hidden = hidden
    }
}

public typealias QuestionID = Identifier<Question>

/// A question about a merchant, or about one of their products, that anyone signed in may answer.
public struct Question: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "qst"

    public let id: QuestionID
    public let askerID: UserID
    public let merchantID: UserID
    /// The product it is about, in the asker's words; none when it is about the merchant.
    public let product: String?
    public let text: String
    public let createdAt: Date
    public var acceptedAnswerID: AnswerID?
    public var hidden: Hidden?

    public init(id: QuestionID, askerID: UserID, merchantID: UserID, product: String?, text: String, createdAt: Date,
                acceptedAnswerID: AnswerID? = nil, hidden: Hidden? = nil) {
        self.id = id
        self.askerID = askerID
        self.merchantID = merchantID
        self.product = product
        self.text = text
        self.createdAt = createdAt
        self.acceptedAnswerID = acceptedAnswerID
        self.hidden = hidden
    }
}

public typealias AnswerID = Identifier<Answer>

/// An answer to a question, marked by what its author knows of the merchant.
public struct Answer: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "ans"

    /// Why an answer deserves more weight than a stranger's, decided when it is written.
    public enum Mark: String, Sendable, Codable {
        /// The author completed a purchase from the merchant ("bought from this seller").
        case boughtFromSeller
        /// The merchant answering about themselves.
        case merchant
    }

    public let id: AnswerID
    public let questionID: QuestionID
    public let authorID: UserID
    public let text: String
    public let mark: Mark?
    public let createdAt: Date
    public var helpfulVotes: Int
    public var hidden: Hidden?

    public init(id: AnswerID, questionID: QuestionID, authorID: UserID, text: String, mark: Mark?, createdAt: Date, helpfulVotes: Int = 0, hidden: Hidden? = nil) {
        self.id = id
        self.questionID = questionID
        self.authorID = authorID
        self.text = text
        self.mark = mark
        self.createdAt = createdAt
        self.helpfulVotes = helpfulVotes
        self.hidden = hidden
    }
}

/// A piece of community content, told apart by its identifier's prefix (what reports and
/// moderators point at).
public enum CommunityContent: Sendable, Equatable {
    case experience(ExperienceID)
    case question(QuestionID)
    case answer(AnswerID)

    public init?(id: String) {
        if id.hasPrefix(Experience.identifierPrefix + "_") { self = .experience(ExperienceID(id)) }
        else if id.hasPrefix(Question.identifierPrefix + "_") { self = .question(QuestionID(id)) }
        else if id.hasPrefix(Answer.identifierPrefix + "_") { self = .answer(AnswerID(id)) }
        else { return nil }
    }

    public var id: String {
        switch self {
        case .experience(let id): id.rawValue
        case .question(let id): id.rawValue
        case .answer(let id): id.rawValue
        }
    }

    public var kind: String {
        switch self {
        case .experience: "experience"
        case .question: "question"
        case .answer: "answer"
        }
    }
}

/// The rules of the community, pure.
public enum CommunityRules {
    public static let experienceLength = 1...2_000
    public static let photoLimit = 4
    public static let questionLength = 1...1_000
    public static let productLength = 1...120
    public static let answerLength = 1...2_000
    public static let hideReasonLength = 1...2_000
    /// How many questions, and answers, a person may write in a rolling day.
    public static let questionsPerDay = 20
    public static let answersPerDay = 50

    /// Checks that `person` may share an experience of `order`: they were its buyer or its seller,
    /// it completed, and they have not shared one for it before. Returns the other party.
    public static func checkExperience(of order: Order, by person: UserID, alreadyShared: Bool, text: String, photoCount: Int) throws -> UserID {
        guard person == order.buyerID || person == order.sellerID else { throw CommunityError.orderNotFound }
        guard order.status == .completed else { throw CommunityError.orderNotCompleted }
        guard !alreadyShared else { throw CommunityError.alreadyShared }
        try checkLength(text, experienceLength, field: "text", "Say how it went (1 to \(experienceLength.upperBound) characters).")
        guard photoCount <= photoLimit else { throw CommunityError.tooManyPhotos(limit: photoLimit) }
        return person == order.buyerID ? order.sellerID : order.buyerID
    }

    /// Photos only: an experience shows pictures, not documents.
    public static func checkPhotos(_ types: [AttachmentType]) throws {
        guard types.allSatisfy({ $0 == .jpeg || $0 == .png }) else { throw CommunityError.photosOnly }
    }

    public static func checkQuestion(by asker: UserID, about merchant: UserID, text: String, product: String?, askedLastDay: Int) throws {
        guard asker != merchant else { throw CommunityError.notAboutYourself }
        try checkLength(text, questionLength, field: "text", "Ask your question in 1 to \(questionLength.upperBound) characters.")
        if let product { try checkLength(product, productLength, field: "product", "Name the product in at most \(productLength.upperBound) characters.") }
        guard askedLastDay < questionsPerDay else { throw CommunityError.tooManyQuestions(perDay: questionsPerDay) }
    }

    /// Text as sent, before it is trimmed: no longer than the API document allows, counted as it
    /// counts (code points), so that padding cannot carry an over-long text past the limit.
    public static func trimmed(_ raw: String, within range: ClosedRange<Int>, field: String) throws -> String {
        guard raw.codePointCount <= range.upperBound else {
            throw ValidationError(field: field, "At most \(range.upperBound) characters, spaces included.")
        }
        return raw.trimmingWhitespace()
    }

    /// Checks an answer and decides its mark: the merchant's own, or a buyer's when `author`
    /// completed a purchase from the merchant.
    public static func checkAnswer(to question: Question, by author: UserID, text: String, answeredLastDay: Int, boughtFromMerchant: Bool) throws -> Answer.Mark? {
        guard question.hidden == nil else { throw CommunityError.questionNotFound }
        try checkLength(text, answerLength, field: "text", "Write your answer in 1 to \(answerLength.upperBound) characters.")
        guard answeredLastDay < answersPerDay else { throw CommunityError.tooManyAnswers(perDay: answersPerDay) }
        if author == question.merchantID { return .merchant }
        return boughtFromMerchant ? .boughtFromSeller : nil
    }

    /// The asker accepts one of the answers to their question (accepting another replaces it).
    public static func accept(_ answer: Answer, for question: Question, by person: UserID) throws -> Question {
        guard question.hidden == nil else { throw CommunityError.questionNotFound }
        guard question.askerID == person else { throw CommunityError.notYourQuestion }
        guard answer.questionID == question.id, answer.hidden == nil else { throw CommunityError.answerNotFound }
        guard answer.authorID != person else { throw CommunityError.ownAnswer }
        var accepted = question
        accepted.acceptedAnswerID = answer.id
        return accepted
    }

    /// A helpful vote: one per person and answer, never on one's own answer.
    public static func checkVote(on answer: Answer, by voter: UserID) throws {
        guard answer.hidden == nil else { throw CommunityError.answerNotFound }
        guard answer.authorID != voter else { throw CommunityError.ownAnswer }
    }

    /// The order answers are shown in: the accepted answer, then the merchant's and buyers' answers,
    /// then by helpful votes, then the oldest first.
    public static func ranked(_ answers: [Answer], accepted: AnswerID?) -> [Answer] {
        func tier(_ answer: Answer) -> Int {
            if answer.id == accepted { return 0 }
            return answer.mark == nil ? 2 : 1
        }
        return answers.sorted {
            (tier($0), -$0.helpfulVotes, $0.createdAt, $0.id.rawValue) < (tier($1), -$1.helpfulVotes, $1.createdAt, $1.id.rawValue)
        }
    }

    /// Hidden content is seen only by its author (who learns why) and by staff.
    public static func isVisible(hidden: Hidden?, author: UserID, to viewer: UserID?, viewerIsStaff: Bool) -> Bool {
        hidden == nil || viewerIsStaff || author == viewer
    }

    private static func checkLength(_ text: String, _ range: ClosedRange<Int>, field: String, _ message: String) throws {
        guard range.contains(text.codePointCount) else { throw ValidationError(field: field, message) }
    }
}

/// The errors of the community.
public enum CommunityError: DomainError, Equatable {
    case orderNotFound
    case orderNotCompleted
    case alreadyShared
    case tooManyPhotos(limit: Int)
    case photosOnly
    case notAboutYourself
    case tooManyQuestions(perDay: Int)
    case tooManyAnswers(perDay: Int)
    case questionNotFound
    case answerNotFound
    case experienceNotFound
    case notYourQuestion
    case ownAnswer
    case alreadyHidden

    public var kind: FailureKind {
        switch self {
        case .orderNotFound, .questionNotFound, .answerNotFound, .experienceNotFound: .notFound
        case .orderNotCompleted, .alreadyShared, .alreadyHidden: .conflict
        case .tooManyPhotos: .invalidInput
        case .photosOnly, .notAboutYourself: .unprocessable
        case .tooManyQuestions, .tooManyAnswers: .rateLimited
        case .notYourQuestion, .ownAnswer: .forbidden
        }
    }

    public var code: String {
        switch self {
        case .orderNotFound: "not-found"
        case .orderNotCompleted: "order-not-completed"
        case .alreadyShared: "experience-already-shared"
        case .tooManyPhotos: "too-many-photos"
        case .photosOnly: "photos-only"
        case .notAboutYourself: "not-about-yourself"
        case .tooManyQuestions: "too-many-questions"
        case .tooManyAnswers: "too-many-answers"
        case .questionNotFound: "question-not-found"
        case .answerNotFound: "answer-not-found"
        case .experienceNotFound: "experience-not-found"
        case .notYourQuestion: "not-your-question"
        case .ownAnswer: "own-answer"
        case .alreadyHidden: "already-hidden"
        }
    }

    public var title: String {
        switch self {
        case .orderNotFound: "Not found"
        case .orderNotCompleted: "Order not completed"
        case .alreadyShared: "Experience already shared"
        case .tooManyPhotos: "Too many photos"
        case .photosOnly: "Photos only"
        case .notAboutYourself: "Not about yourself"
        case .tooManyQuestions: "Too many questions"
        case .tooManyAnswers: "Too many answers"
        case .questionNotFound: "Question not found"
        case .answerNotFound: "Answer not found"
        case .experienceNotFound: "Experience not found"
        case .notYourQuestion: "Not your question"
        case .ownAnswer: "Your own answer"
        case .alreadyHidden: "Already hidden"
        }
    }

    public var detail: String {
        switch self {
        case .orderNotFound: "There is no order of yours under this id."
        case .orderNotCompleted: "You can share an experience once the order is completed."
        case .alreadyShared: "You already shared your experience of this order."
        case .tooManyPhotos(let limit): "An experience has at most \(limit) photos."
        case .photosOnly: "An experience shows photos (JPEG or PNG), not documents."
        case .notAboutYourself: "Ask about a merchant other than yourself."
        case .tooManyQuestions(let perDay): "A person can ask \(perDay) questions a day; try again tomorrow."
        case .tooManyAnswers(let perDay): "A person can write \(perDay) answers a day; try again tomorrow."
        case .questionNotFound: "There is no question under this id."
        case .answerNotFound: "There is no answer under this id for this question."
        case .experienceNotFound: "There is no experience under this id for you to see."
        case .notYourQuestion: "Only the person who asked accepts an answer."
        case .ownAnswer: "Votes and acceptance are for answers someone else wrote."
        case .alreadyHidden: "This is already hidden."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .tooManyPhotos, .photosOnly: [FieldError(field: "attachmentIds", message: detail)]
        default: []
        }
    }
}
