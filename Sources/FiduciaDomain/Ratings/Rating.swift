import Foundation

public typealias RatingID = Identifier<Rating>

/// Who rates whom in a trade.
public enum RatingSide: String, Sendable, Codable, CaseIterable {
    /// The buyer rates the seller: overall plus three detailed scores.
    case buyerRatesSeller = "buyer"
    /// The seller rates the buyer: overall only.
    case sellerRatesBuyer = "seller"

    /// The role the rated user played.
    public var rateeRole: Role { self == .buyerRatesSeller ? .seller : .buyer }
}

/// The overall verdict (好评 / 中评 / 差评).
public enum OverallRating: String, Sendable, Codable, CaseIterable {
    case positive, neutral, negative
}

/// The buyer's detailed scores of a seller, 1 to 5 stars each (like eBay's detailed seller ratings).
public struct DetailedRatings: Sendable, Equatable, Codable {
    public let itemAsDescribed: Int
    public let serviceAttitude: Int
    public let shippingSpeed: Int

    public init(itemAsDescribed: Int, serviceAttitude: Int, shippingSpeed: Int) {
        self.itemAsDescribed = itemAsDescribed
        self.serviceAttitude = serviceAttitude
        self.shippingSpeed = shippingSpeed
    }

    public var average: Double { Double(itemAsDescribed + serviceAttitude + shippingSpeed) / 3 }
}

/// Why a rating is kept but marked for the trust engine (it counts for less, and moderators see why).
public enum RatingFlag: String, Sendable, Codable, CaseIterable {
    /// The order ended in a refund or a refund request: feelings may run high.
    case afterRefund = "after_refund"
    /// The two parties traded with each other three or more times in the 90 days before: friends
    /// or colluders.
    case sharedHistory = "shared_history"
    /// The order had a dispute: a rating right after one may be retaliation or relief.
    case afterDispute = "after_dispute"
}

/// A rating of one party of an order by the other. Published (visible) only once both have rated
/// or the rating window closed: double-blind, so nobody can retaliate.
public struct Rating: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "rat"

    public let id: RatingID
    public let orderID: OrderID
    public let raterID: UserID
    public let rateeID: UserID
    public let side: RatingSide
    public var overall: OverallRating
    public var detailed: DetailedRatings?
    public var comment: String?
    public let flags: Set<RatingFlag>
    /// The order's total, which weighs the rating.
    public let orderTotalMinor: Int64
    public let currency: Currency
    public let createdAt: Date
    public var updatedAt: Date
    public var publishedAt: Date?
    public var reply: String?
    public var repliedAt: Date?
    /// Its leaf in the rating log, once published.
    public var logIndex: Int?

    public init(
        id: RatingID, orderID: OrderID, raterID: UserID, rateeID: UserID, side: RatingSide, overall: OverallRating,
        detailed: DetailedRatings?, comment: String?, flags: Set<RatingFlag>, orderTotalMinor: Int64, currency: Currency,
        createdAt: Date, updatedAt: Date, publishedAt: Date? = nil, reply: String? = nil, repliedAt: Date? = nil, logIndex: Int? = nil
    ) {
        self.id = id
        self.orderID = orderID
        self.raterID = raterID
        self.rateeID = rateeID
        self.side = side
        self.overall = overall
        self.detailed = detailed
        self.comment = comment
        self.flags = flags
        self.orderTotalMinor = orderTotalMinor
        self.currency = currency
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.publishedAt = publishedAt
        self.reply = reply
        self.repliedAt = repliedAt
        self.logIndex = logIndex
    }

    public var isPublished: Bool { publishedAt != nil }

    /// The rating on the trust engine's −1 … 1 scale: the overall verdict, nudged by the detailed
    /// scores when there are some (a neutral rating with five stars leans good).
    public var engineValue: Double {
        let verdict: Double =
            switch overall {
            case .positive: 1
            case .neutral: 0
            case .negative: -1
            }
        guard let detailed else { return verdict }
        return 0.7 * verdict + 0.3 * (detailed.average - 3) / 2
    }
}

/// What a rater submits.
public struct RatingSubmission: Sendable, Equatable {
    public var overall: OverallRating
    public var detailed: DetailedRatings?
    public var comment: String?

    public init(overall: OverallRating, detailed: DetailedRatings? = nil, comment: String? = nil) {
        self.overall = overall
        self.detailed = detailed
        self.comment = comment
    }
}

/// The rules of rating, pure.
public enum RatingRules {
    /// Days after completion (or refund) in which both parties may rate; then whatever exists is published.
    public static let defaultWindowDays = 14
    public static let commentLength = 0...1_000
    public static let replyLength = 1...1_000

    /// When an order's rating window opens: when the trade ended (completed or refunded).
    public static func windowOpens(for order: Order) -> Date? {
        guard order.status == .completed || order.status == .refunded else { return nil }
        return order.completedAt ?? order.closedAt
    }

    public static func windowCloses(for order: Order, windowDays: Int) -> Date? {
        windowOpens(for: order).map { $0.addingTimeInterval(Double(windowDays) * 86_400) }
    }

    /// Checks a submission for one side of an order at `now`; returns the side.
    public static func validate(
        _ submission: RatingSubmission, order: Order, rater: UserID, now: Date, windowDays: Int
    ) throws(RatingError) -> RatingSide {
        let side: RatingSide
        if rater == order.buyerID { side = .buyerRatesSeller } else if rater == order.sellerID { side = .sellerRatesBuyer } else { throw .notAParty }
        guard let closes = windowCloses(for: order, windowDays: windowDays) else { throw .orderNotFinished(order.status) }
        guard now < closes else { throw .windowClosed }
        var problems: [FieldError] = []
        if let detailed = submission.detailed {
            for (field, stars) in [("itemAsDescribed", detailed.itemAsDescribed), ("serviceAttitude", detailed.serviceAttitude), ("shippingSpeed", detailed.shippingSpeed)]
            where !(1...5).contains(stars) {
                problems.append(FieldError(field: field, message: "Give 1 to 5 stars."))
            }
        }
        if let comment = submission.comment, !commentLength.contains(comment.codePointCount) {
            problems.append(FieldError(field: "comment", message: "A comment is at most 1000 characters."))
        }
        guard problems.isEmpty else { throw .invalid(problems) }
        // Which side of the order the rater is on decides whether detailed ratings belong.
        switch side {
        case .buyerRatesSeller where submission.detailed == nil:
            throw .notForYourSide(FieldError(field: "itemAsDescribed", message: "A buyer also rates item as described, service attitude and shipping speed, 1 to 5 stars each."))
        case .sellerRatesBuyer where submission.detailed != nil:
            throw .notForYourSide(FieldError(field: "itemAsDescribed", message: "Only buyers give detailed ratings."))
        default:
            return side
        }
    }

    /// Flags from the order and the parties' history.
    /// How far back a shared history between the two parties is looked for.
    public static let sharedHistoryWindowSeconds: TimeInterval = 90 * 86_400
    /// Finished trades between the parties in that window that make a shared history.
    public static let sharedHistoryTrades = 3

    /// The period in which earlier trades between the parties of `order` count as shared history.
    public static func sharedHistoryPeriod(of order: Order) -> (from: Date, to: Date) {
        (order.createdAt.addingTimeInterval(-sharedHistoryWindowSeconds), order.createdAt)
    }

    public static func flags(for order: Order, previousTradesBetweenParties: Int) -> Set<RatingFlag> {
        var flags: Set<RatingFlag> = []
        if order.status == .refunded || order.refundedMinor > 0 || order.timeline.contains(where: { $0.kind == .refundRequested }) {
            flags.insert(.afterRefund)
        }
        if previousTradesBetweenParties >= sharedHistoryTrades { flags.insert(.sharedHistory) }
        if order.timeline.contains(where: { $0.kind == .disputeOpened }) { flags.insert(.afterDispute) }
        return flags
    }

    /// Who may see a rating: everyone once published; before that, only its author and staff.
    public static func maySee(_ rating: Rating, _ principal: Principal) -> Bool {
        if rating.isPublished { return true }
        guard let viewer = principal.actingUser else { return false }
        return viewer.id == rating.raterID || viewer.isStaff
    }
}

/// Named failures of rating.
public enum RatingError: DomainError, Equatable {
    case notAParty
    case orderNotFinished(OrderStatus)
    case windowClosed
    case alreadyPublished
    case notPublished
    case notTheRatee
    case alreadyReplied
    case invalid([FieldError])
    /// Detailed ratings are the buyer's: required from them, refused from the seller (422).
    case notForYourSide(FieldError)

    public var kind: FailureKind {
        switch self {
        case .notAParty: .notFound
        case .orderNotFinished, .windowClosed, .alreadyPublished, .notPublished, .alreadyReplied: .conflict
        case .notTheRatee: .forbidden
        case .invalid: .invalidInput
        case .notForYourSide: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .notAParty: "not-found"
        case .orderNotFinished: "order-not-finished"
        case .windowClosed: "rating-window-closed"
        case .alreadyPublished: "rating-already-published"
        case .notPublished: "rating-not-published"
        case .notTheRatee: "forbidden"
        case .alreadyReplied: "reply-already-given"
        case .invalid: "validation-failed"
        case .notForYourSide: "rule-not-met"
        }
    }

    public var title: String {
        switch self {
        case .notAParty: "Not found"
        case .orderNotFinished: "Order not finished"
        case .windowClosed: "Rating window closed"
        case .alreadyPublished: "Rating already published"
        case .notPublished: "Rating not published yet"
        case .notTheRatee: "Not allowed"
        case .alreadyReplied: "Already replied"
        case .invalid: "Some fields are invalid"
        case .notForYourSide: RuleNotMet.title
        }
    }

    public var detail: String {
        switch self {
        case .notAParty: "There is no such order for you to rate."
        case .orderNotFinished(let status): "An order can be rated once it is completed or refunded; this one is \(status.rawValue)."
        case .windowClosed: "The rating window of this order has closed."
        case .alreadyPublished: "This rating has been published and can no longer be changed."
        case .notPublished: "A rating can be replied to once it is published."
        case .notTheRatee: "Only the rated party can reply to a rating."
        case .alreadyReplied: "A rating gets one reply."
        case .invalid(let errors): errors.map(\.message).joined(separator: " ")
        case .notForYourSide(let error): error.message
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .invalid(let errors): errors
        case .notForYourSide(let error): [error]
        default: []
        }
    }
}

/// Counts of overall ratings in one period.
public struct RatingCounts: Sendable, Equatable {
    public var positive = 0
    public var neutral = 0
    public var negative = 0

    public init(positive: Int = 0, neutral: Int = 0, negative: Int = 0) {
        self.positive = positive
        self.neutral = neutral
        self.negative = negative
    }

    public var total: Int { positive + neutral + negative }
}
