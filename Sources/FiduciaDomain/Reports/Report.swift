import Foundation

public typealias ReportID = Identifier<Report>

/// A complaint or report by a signed-in person about a user, an order or a rating (D2).
public struct Report: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "rep"

    public enum Target: Sendable, Equatable {
        case user(UserID)
        case order(OrderID)
        case rating(RatingID)
        /// An experience, a question or an answer of the community (E4).
        case community(CommunityContent)

        public var kind: String {
            switch self {
            case .user: "user"
            case .order: "order"
            case .rating: "rating"
            case .community(let content): content.kind
            }
        }

        public var id: String {
            switch self {
            case .user(let id): id.rawValue
            case .order(let id): id.rawValue
            case .rating(let id): id.rawValue
            case .community(let content): content.id
            }
        }

        public init?(kind: String, id: String) {
            switch kind {
            case "user": self = .user(UserID(id))
            case "order": self = .order(OrderID(id))
            case "rating": self = .rating(RatingID(id))
            case "experience", "question", "answer":
                guard let content = CommunityContent(id: id), content.kind == kind else { return nil }
                self = .community(content)
            default: return nil
            }
        }
    }

    public enum Category: String, Sendable, Codable, CaseIterable {
        case fakeRating, fraud, counterfeit, harassment, other
    }

    public enum Status: String, Sendable, Codable { case open, dismissed, actionTaken }

    /// What a moderator did about a report, besides recording the outcome.
    public enum Action: String, Sendable, Codable {
        /// The reported rating is hidden from profiles and scores.
        case hideRating
        /// The reported experience, question or answer is hidden from everyone but its author.
        case hideContent
        /// A penalty was applied (its id is recorded).
        case penalty
        /// Nothing more than the outcome and its reasons.
        case none
    }

    public let id: ReportID
    public let reporterID: UserID
    public let target: Target
    public let category: Category
    public let text: String
    public let attachments: [Attachment]
    public let createdAt: Date
    public var status: Status
    public var resolvedBy: UserID?
    public var resolvedAt: Date?
    public var reasons: StatementOfReasons?
    public var action: Action?
    public var penaltyID: PenaltyID?

    public init(id: ReportID, reporterID: UserID, target: Target, category: Category, text: String, attachments: [Attachment], createdAt: Date,
                status: Status = .open, resolvedBy: UserID? = nil, resolvedAt: Date? = nil, reasons: StatementOfReasons? = nil,
                action: Action? = nil, penaltyID: PenaltyID? = nil) {
        self.id = id
        self.reporterID = reporterID
        self.target = target
        self.category = category
        self.text = text
        self.attachments = attachments
        self.createdAt = createdAt
        self.status = status
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
        self.reasons = reasons
        self.action = action
        self.penaltyID = penaltyID
    }
}

/// The rules of reports, pure.
public enum ReportRules {
    public static let textLength = 1...4_000
    /// A person may file this many reports per rolling day.
    public static let dailyLimit = 10
    public static let daySeconds: TimeInterval = 86_400

    /// How much a reporter's reports count, from their record: the share of their past reports
    /// that led to action, smoothed (a newcomer counts 0.5; one whose reports are repeatedly
    /// dismissed counts for less and sinks in the queue).
    public static func reporterWeight(actioned: Int, dismissed: Int) -> Double {
        Double(actioned + 1) / Double(actioned + dismissed + 2)
    }

    public static func checkRate(recentReports: Int) throws(ReportError) {
        guard recentReports < dailyLimit else { throw .tooManyReports(limit: dailyLimit) }
    }
}

/// Named failures of reports.
public enum ReportError: DomainError, Equatable {
    case tooManyReports(limit: Int)
    case alreadyResolved
    case targetNotFound
    case actionDoesNotFit

    public var kind: FailureKind {
        switch self {
        case .tooManyReports: .rateLimited
        case .alreadyResolved: .conflict
        case .targetNotFound: .notFound
        case .actionDoesNotFit: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .tooManyReports: "too-many-reports"
        case .alreadyResolved: "report-already-resolved"
        case .targetNotFound: "not-found"
        case .actionDoesNotFit: "rule-not-met"
        }
    }

    public var title: String {
        switch self {
        case .tooManyReports: "Too many reports"
        case .alreadyResolved: "Report already resolved"
        case .targetNotFound: "Not found"
        case .actionDoesNotFit: RuleNotMet.title
        }
    }

    public var detail: String {
        switch self {
        case .tooManyReports(let limit): "A person can file \(limit) reports a day; try again tomorrow."
        case .alreadyResolved: "This report has already been resolved."
        case .targetNotFound: "There is nothing to report under this id."
        case .actionDoesNotFit: "Hiding a rating fits only a report about a rating, hiding content only one about an experience, a question or an answer; a penalty needs a user to penalise."
        }
    }

    public var fieldErrors: [FieldError] {
        self == .actionDoesNotFit ? [FieldError(field: "action", message: detail)] : []
    }
}
