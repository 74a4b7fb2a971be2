import Foundation

public typealias PenaltyID = Identifier<Penalty>
public typealias AppealID = Identifier<Appeal>

/// Why a moderation decision was taken, in the shape the EU Digital Services Act (Art. 17) asks of
/// every statement of reasons: the facts, the rule applied with its version, the remedy, and how
/// to appeal. Shown to the person it concerns and on the public record.
public struct StatementOfReasons: Sendable, Equatable, Codable {
    public let facts: String
    public let rule: String
    public let remedy: String
    public let appeal: String

    public init(facts: String, rule: String, remedy: String, appeal: String) {
        self.facts = facts
        self.rule = rule
        self.remedy = remedy
        self.appeal = appeal
    }
}

/// A penalty on a user for a violation of the rulebook: points, perhaps a fine, and its reasons.
/// Never edited away: an appeal that overturns it marks it and reverses its effects with new records.
public struct Penalty: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "pen"

    public enum Status: String, Sendable, Codable {
        case active
        /// An appeal reduced its points (and returned part of the fine).
        case reduced
        /// An appeal overturned it: no points, the fine returned.
        case overturned
    }

    public let id: PenaltyID
    public let userID: UserID
    public let violationCode: String
    public let violationName: String
    public var points: Int
    /// The fine actually taken from the deposit (0 when none, or the deposit was empty).
    public let fineMinor: Int64
    public let fineCurrency: Currency?
    public let rulebookVersion: Int
    public let reasons: StatementOfReasons
    /// The moderator who decided (nil when a dispute's outcome applied it; then `disputeID` says which).
    public let decidedBy: UserID?
    public let disputeID: DisputeID?
    public let orderID: OrderID?
    public let appliedAt: Date
    public let expiresAt: Date
    public var status: Status
    /// The fine returned so far by appeals.
    public var fineReturnedMinor: Int64

    public init(
        id: PenaltyID, userID: UserID, violationCode: String, violationName: String, points: Int, fineMinor: Int64, fineCurrency: Currency?,
        rulebookVersion: Int, reasons: StatementOfReasons, decidedBy: UserID?, disputeID: DisputeID?, orderID: OrderID?, appliedAt: Date,
        expiresAt: Date, status: Status = .active, fineReturnedMinor: Int64 = 0
    ) {
        self.id = id
        self.userID = userID
        self.violationCode = violationCode
        self.violationName = violationName
        self.points = points
        self.fineMinor = fineMinor
        self.fineCurrency = fineCurrency
        self.rulebookVersion = rulebookVersion
        self.reasons = reasons
        self.decidedBy = decidedBy
        self.disputeID = disputeID
        self.orderID = orderID
        self.appliedAt = appliedAt
        self.expiresAt = expiresAt
        self.status = status
        self.fineReturnedMinor = fineReturnedMinor
    }

    /// The points that count at `now` (none once expired or overturned).
    public func activePoints(at now: Date) -> Int {
        status == .overturned || now >= expiresAt ? 0 : points
    }
}

/// The rules of penalties, pure.
public enum PenaltyRules {
    /// A penalty for `violation` under `rulebook`, with its statement of reasons. `fineMinor` is
    /// what the deposit could pay of the rulebook's fine.
    public static func penalty(
        id: PenaltyID, user: UserID, violation: PenaltyRulebook.Violation, rulebook: PenaltyRulebook, facts: String, fineMinor: Int64,
        fineCurrency: Currency?, decidedBy: UserID?, disputeID: DisputeID?, orderID: OrderID?, at now: Date
    ) -> Penalty {
        let fine = fineMinor > 0 ? " and a fine of \(Money.format(fineMinor, fineCurrency ?? Currency("EUR")!)) from the deposit to the buyer guarantee fund" : ""
        let reasons = StatementOfReasons(
            facts: facts,
            rule: "\(violation.name) (\(violation.code)): \(violation.points) points, rulebook version \(rulebook.version). \(violation.description)",
            remedy: "\(violation.points) points on the record for \(rulebook.pointsExpireAfterDays) days\(fine).",
            appeal: "You may appeal within \(rulebook.appealWindowDays) days, with a statement and evidence; a moderator other than the one who decided reviews it."
        )
        return Penalty(
            id: id, userID: user, violationCode: violation.code, violationName: violation.name, points: violation.points, fineMinor: fineMinor,
            fineCurrency: fineMinor > 0 ? fineCurrency : nil, rulebookVersion: rulebook.version, reasons: reasons, decidedBy: decidedBy,
            disputeID: disputeID, orderID: orderID, appliedAt: now,
            expiresAt: now.addingTimeInterval(Double(rulebook.pointsExpireAfterDays) * 86_400)
        )
    }

    public static let factsLength = 1...2_000
}

/// What a user may do, from their penalties: the strongest consequence in force.
public struct AccountStanding: Sendable, Equatable {
    public enum Level: Int, Sendable, Comparable {
        case good, warned, restricted, suspended, banned

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let level: Level
    public let points: Int
    /// When the consequence ends (nil: good standing, a warning, or a ban).
    public let until: Date?

    public init(level: Level, points: Int, until: Date?) {
        self.level = level
        self.points = points
        self.until = until
    }

    /// Whether the user may receive new orders as a seller.
    public var maySell: Bool { level < .restricted }
    /// Whether the user may place new orders as a buyer.
    public var mayBuy: Bool { level < .suspended }

    public var words: String {
        switch level {
        case .good: "in good standing"
        case .warned: "warned (\(points) points)"
        case .restricted: "restricted from new sales\(until.map { " until \(Self.dateText($0))" } ?? "")"
        case .suspended: "suspended\(until.map { " until \(Self.dateText($0))" } ?? "")"
        case .banned: "banned"
        }
    }

    static func dateText(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }

    /// The standing at `now`: points counted in the order they were given; each threshold crossed
    /// brings its consequence from the moment it was crossed.
    public static func of(_ penalties: [Penalty], rulebook: PenaltyRulebook, at now: Date) -> AccountStanding {
        var running = 0
        var level = Level.good
        var until: Date?
        for penalty in penalties.sorted(by: { $0.appliedAt < $1.appliedAt }) {
            let points = penalty.activePoints(at: now)
            guard points > 0 else { continue }
            let before = running
            running += points
            for threshold in rulebook.thresholds where before < threshold.points && running >= threshold.points {
                let (thresholdLevel, ends): (Level, Date?) =
                    switch threshold.consequence {
                    case .warning: (.warned, nil)
                    case .restriction: (.restricted, penalty.appliedAt.addingTimeInterval(Double(threshold.days ?? 0) * 86_400))
                    case .suspension: (.suspended, penalty.appliedAt.addingTimeInterval(Double(threshold.days ?? 0) * 86_400))
                    case .ban: (.banned, nil)
                    }
                if let ends, ends <= now { continue }
                if thresholdLevel >= level {
                    level = thresholdLevel
                    until = ends
                }
            }
        }
        if level == .good, running > 0 { level = .warned }
        return AccountStanding(level: level, points: running, until: until)
    }
}

/// An account whose standing forbids what it tried.
public struct StandingError: DomainError, Equatable {
    public let standing: AccountStanding
    /// "buy" or "sell".
    public let activity: String

    public init(standing: AccountStanding, activity: String) {
        self.standing = standing
        self.activity = activity
    }

    public var kind: FailureKind { .forbidden }
    public var code: String { "account-restricted" }
    public var title: String { "Account restricted" }
    public var detail: String {
        "This account is \(standing.words) under the penalty rulebook, so it cannot \(activity) on new orders. Orders already paid keep their protection."
    }
}

/// An appeal against a penalty (D5), reviewed by a moderator other than the one who decided.
public struct Appeal: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "apl"

    public enum Status: String, Sendable, Codable { case pending, upheld, reduced, overturned }

    public let id: AppealID
    public let penaltyID: PenaltyID
    public let appellantID: UserID
    public let statement: String
    public let attachments: [Attachment]
    public let createdAt: Date
    public var status: Status
    public var decidedBy: UserID?
    public var decidedAt: Date?
    /// The reviewer's statement of reasons.
    public var reasons: String?
    /// For a reduction: the points the penalty keeps.
    public var reducedPoints: Int?

    public init(id: AppealID, penaltyID: PenaltyID, appellantID: UserID, statement: String, attachments: [Attachment], createdAt: Date,
                status: Status = .pending, decidedBy: UserID? = nil, decidedAt: Date? = nil, reasons: String? = nil, reducedPoints: Int? = nil) {
        self.id = id
        self.penaltyID = penaltyID
        self.appellantID = appellantID
        self.statement = statement
        self.attachments = attachments
        self.createdAt = createdAt
        self.status = status
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.reasons = reasons
        self.reducedPoints = reducedPoints
    }

    public static let statementLength = 1...4_000

    /// Checks that `appellant` may appeal `penalty` at `now`.
    public static func checkOpening(_ penalty: Penalty, by appellant: UserID, rulebook: PenaltyRulebook, hasPendingAppeal: Bool, at now: Date) throws(AppealError) {
        guard penalty.userID == appellant else { throw .notYourPenalty }
        guard penalty.status != .overturned else { throw .alreadyOverturned }
        guard !hasPendingAppeal else { throw .alreadyPending }
        guard now <= penalty.appliedAt.addingTimeInterval(Double(rulebook.appealWindowDays) * 86_400) else { throw .windowClosed(days: rulebook.appealWindowDays) }
    }

    /// Checks that `reviewer` may decide this appeal: not the one who decided the penalty (nor,
    /// for a dispute's penalty, the moderator who ruled it).
    public func checkReviewer(_ reviewer: UserID, penalty: Penalty, rulingModerator: UserID?) throws(AppealError) {
        guard status == .pending else { throw .alreadyDecided }
        guard reviewer != penalty.decidedBy, reviewer != rulingModerator else { throw .sameModerator }
    }
}

/// Named failures of appeals.
public enum AppealError: DomainError, Equatable {
    case notYourPenalty
    case alreadyOverturned
    case alreadyPending
    case windowClosed(days: Int)
    case alreadyDecided
    case sameModerator

    public var kind: FailureKind {
        switch self {
        case .notYourPenalty, .sameModerator: .forbidden
        case .alreadyOverturned, .alreadyPending, .alreadyDecided, .windowClosed: .conflict
        }
    }

    public var code: String {
        switch self {
        case .notYourPenalty: "not-your-penalty"
        case .alreadyOverturned: "penalty-overturned"
        case .alreadyPending: "appeal-pending"
        case .windowClosed: "appeal-window-closed"
        case .alreadyDecided: "appeal-decided"
        case .sameModerator: "different-moderator-required"
        }
    }

    public var title: String {
        switch self {
        case .notYourPenalty: "Not your penalty"
        case .alreadyOverturned: "Penalty already overturned"
        case .alreadyPending: "An appeal is already pending"
        case .windowClosed: "Appeal window closed"
        case .alreadyDecided: "Appeal already decided"
        case .sameModerator: "A different moderator must review"
        }
    }

    public var detail: String {
        switch self {
        case .notYourPenalty: "Only the person penalised can appeal the penalty."
        case .alreadyOverturned: "This penalty was already overturned."
        case .alreadyPending: "This penalty already has an appeal waiting for review."
        case .windowClosed(let days): "Penalties can be appealed within \(days) days."
        case .alreadyDecided: "This appeal has already been decided."
        case .sameModerator: "The moderator who decided the penalty (or ruled the dispute behind it) cannot review its appeal."
        }
    }
}
