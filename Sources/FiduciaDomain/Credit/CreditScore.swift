import Foundation

/// Public tiers (分级管理), from the score and the record. The thresholds are published on the
/// profile pages and in docs/CREDIT_SCORE.md.
public enum Tier: String, Sendable, Codable, CaseIterable, Comparable {
    case new, bronze, silver, gold, diamond

    public static let minimumTrades = 5
    public static let silverScore = 550
    public static let goldScore = 700
    public static let diamondScore = 850
    public static let diamondTrades = 50
    public static let diamondConfidence = 0.8

    public static func of(score: Int, completedTrades: Int, confidence: Double) -> Tier {
        if completedTrades < minimumTrades { return .new }
        if score >= diamondScore, completedTrades >= diamondTrades, confidence >= diamondConfidence { return .diamond }
        if score >= goldScore { return .gold }
        if score >= silverScore { return .silver }
        return .bronze
    }

    public var name: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

    public var rule: String {
        switch self {
        case .new: "fewer than \(Self.minimumTrades) completed trades"
        case .bronze: "\(Self.minimumTrades)+ trades, score below \(Self.silverScore)"
        case .silver: "score \(Self.silverScore)–\(Self.goldScore - 1)"
        case .gold: "score \(Self.goldScore) or more"
        case .diamond: "score \(Self.diamondScore)+, \(Self.diamondTrades)+ trades and confidence \(Int(Self.diamondConfidence * 100))%+"
        }
    }

    public static func < (lhs: Tier, rhs: Tier) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Everything the score is computed from, for one user in one role.
public struct CreditHistory: Sendable, Equatable {
    /// A published rating the user received in this role.
    public struct ReceivedRating: Sendable, Equatable {
        public let overall: OverallRating
        public let orderTotal: Money
        public let at: Date
        /// How credible the rater is according to the trust engine (0 … 1); nil when the engine
        /// does not know the rater; 0 for ratings the engine neutralised as part of a swarm.
        public let raterCredibility: Double?
        public let neutralized: Bool
        public let flagged: Bool

        public init(overall: OverallRating, orderTotal: Money, at: Date, raterCredibility: Double?, neutralized: Bool = false, flagged: Bool = false) {
            self.overall = overall
            self.orderTotal = orderTotal
            self.at = at
            self.raterCredibility = raterCredibility
            self.neutralized = neutralized
            self.flagged = flagged
        }
    }

    public let role: Role
    public var memberSince: Date
    public var ratings: [ReceivedRating]
    public var completedTrades: Int
    public var refundedTrades: Int
    /// Seller only: orders shipped, and of them shipped on time (`SellerRecord.onTimeShippingSeconds`).
    public var shippedOrders: Int
    public var shippedOnTime: Int
    /// Seller only: the security deposit, valued in the deployment's reference currency (nil: none).
    public var deposit: Money?
    /// The verification levels valid now (A2); each raises a newcomer's starting point.
    public var verifiedLevels: Set<VerificationLevel> = []
    /// Certification seals valid now (A4).
    public var activeSeals: Int = 0
    /// Joined by invitation from someone in good standing (A3).
    public var vouchedByInviter: Bool = false
    /// Disputes opened about this user's trades (as seller: by their buyers) in the last year.
    public var disputesOpened: Int = 0
    /// Of them, lost: ruled against the user, or lost by letting a deadline pass.
    public var disputesLost: Int = 0
    /// Active penalty points (D1).
    public var penaltyPoints: Int = 0

    public init(role: Role, memberSince: Date, ratings: [ReceivedRating] = [], completedTrades: Int = 0, refundedTrades: Int = 0,
                shippedOrders: Int = 0, shippedOnTime: Int = 0, deposit: Money? = nil, verifiedLevels: Set<VerificationLevel> = []) {
        self.role = role
        self.memberSince = memberSince
        self.ratings = ratings
        self.completedTrades = completedTrades
        self.refundedTrades = refundedTrades
        self.shippedOrders = shippedOrders
        self.shippedOnTime = shippedOnTime
        self.deposit = deposit
        self.verifiedLevels = verifiedLevels
    }
}

/// A credit score (信用积分) that explains itself.
public struct CreditScore: Sendable, Equatable {
    public struct Factor: Sendable, Equatable, Codable {
        /// A stable name, e.g. `newcomer`, `ratings.positive`.
        public let factor: String
        /// Points this factor adds (or, negative, takes away).
        public let effect: Int
        public let explanation: String
    }

    /// 0 … 1000, higher is better.
    public let score: Int
    /// The sum of the factors before clamping to 0 … 1000.
    public let points: Double
    public let tier: Tier
    /// 0 … 1: how much evidence stands behind the score.
    public let confidence: Double
    /// ± points: how far the score may be from the truth, wide when there are few trades.
    public let uncertainty: Int
    public let breakdown: [Factor]
}

/// The pure scoring function. `score(history, now)` → `CreditScore`.
///
/// Points: a newcomer starts at 400 (more, up to 200, with verified levels, a seal, an inviter's vouch or a security deposit). Good
/// ratings add 90 × ln(1 + weight), so trust is slow to build; every bad rating takes 120 × its
/// weight, and 60 more while it is under 30 days old, so it is quick to lose. A rating's weight is
/// the rater's credibility from the trust engine (0.3 + 0.7 × credibility; nothing for a swarm),
/// times the trade's value weight (0.5 … 1), times its age (0.3 + 0.7 × ½^(age/365 days)), halved
/// when it is flagged. The trade record adds volume, and (for sellers) shipping on time and few refunds.
public enum CreditScoring {
    public static let newcomerPoints = 400.0
    /// Points each verified level adds to the starting point (C4).
    public static func verifiedPoints(_ level: VerificationLevel) -> Double {
        switch level {
        case .email: 10
        case .phone: 15
        case .realName: 40
        case .business: 45
        }
    }
    /// A valid certification seal (however many): an independent audit.
    public static let sealPoints = 50.0
    /// An inviter in good standing vouches for this person.
    public static let vouchPoints = 20.0
    /// Everything a newcomer can bring before their first trade (verifications, seals, vouching and
    /// the deposit) adds at most this much: less than what three recent negative ratings take away
    /// (3 × 180), so that no head start outweighs a real record.
    public static let headStartCap = 200.0
    public static let goodCoefficient = 90.0
    public static let neutralCoefficient = 40.0
    public static let badCoefficient = 120.0
    public static let recentBadCoefficient = 60.0
    public static let recentDays = 30.0
    public static let depositMaximumPoints = 150.0
    /// Each dispute lost in the last year.
    public static let disputeLostPoints = 60.0
    /// A dispute rate above eBay's 2% defect threshold costs this much per unit of rate above it.
    public static let disputeRateAllowed = 0.02
    public static let disputeRateCoefficient = 500.0
    /// Each active penalty point.
    public static let penaltyPointCost = 8.0

    /// The weight of one rating in the score.
    public static func weight(_ rating: CreditHistory.ReceivedRating, now: Date) -> Double {
        guard !rating.neutralized else { return 0 }
        let credibility = 0.3 + 0.7 * min(1, max(0, rating.raterCredibility ?? 0))
        let value = TrustEngine.evidenceWeight(amount: rating.orderTotal, escrow: true)
        let ageDays = max(0, now.timeIntervalSince(rating.at) / 86_400)
        let recency = 0.3 + 0.7 * pow(0.5, ageDays / 365)
        return credibility * value * recency * (rating.flagged ? 0.5 : 1)
    }

    public static func score(_ history: CreditHistory, now: Date) -> CreditScore {
        var factors: [(String, Double, String)] = []
        let party = history.role == .seller ? "seller" : "buyer"
        factors.append(("newcomer", newcomerPoints, "Every new \(party) starts at \(Int(newcomerPoints))."))
        var headStart: [(String, Double, String)] = []
        for level in history.verifiedLevels.sorted() {
            let points = verifiedPoints(level)
            headStart.append(("verified.\(level.rawValue)", points, "\(level.label) verified: +\(Int(points)) to the starting point."))
        }
        if history.activeSeals > 0 {
            headStart.append(("seal", sealPoints, "Certified by an independent auditor: +\(Int(sealPoints)) to the starting point."))
        }
        if history.vouchedByInviter {
            headStart.append(("vouched", vouchPoints, "Invited by a member in good standing who vouches for them: +\(Int(vouchPoints))."))
        }
        if history.role == .seller, let deposit = history.deposit, deposit.amountMinor > 0 {
            let major = Double(deposit.amountMinor) / Double(deposit.currency.minorUnitsPerMajor)
            let bonus = min(depositMaximumPoints, 40 * log2(1 + major / 50))
            headStart.append(("deposit", bonus, "A security deposit of \(deposit) raises the starting point."))
        }
        let headStartTotal = headStart.reduce(0) { $0 + $1.1 }
        factors += headStart
        if headStartTotal > headStartCap {
            factors.append(("headStart.cap", headStartCap - headStartTotal,
                            "A head start counts for at most \(Int(headStartCap)) points, so that it never outweighs a real record."))
        }

        var good = 0.0, goodCount = 0
        var neutral = 0.0, neutralCount = 0
        var badOld = 0.0, badOldCount = 0
        var badRecent = 0.0, badRecentCount = 0
        var ignored = 0
        for rating in history.ratings {
            let weight = Self.weight(rating, now: now)
            if rating.neutralized { ignored += 1; continue }
            switch rating.overall {
            case .positive:
                good += weight
                goodCount += 1
            case .neutral:
                neutral += weight
                neutralCount += 1
            case .negative:
                if now.timeIntervalSince(rating.at) < recentDays * 86_400 {
                    badRecent += weight
                    badRecentCount += 1
                } else {
                    badOld += weight
                    badOldCount += 1
                }
            }
        }
        if goodCount > 0 {
            factors.append(("ratings.positive", goodCoefficient * log(1 + good),
                            String(format: "%d positive rating%@ (worth %.1f after weighing rater credibility, trade value and age).", goodCount, goodCount == 1 ? "" : "s", good)))
        }
        if neutralCount > 0 {
            factors.append(("ratings.neutral", -neutralCoefficient * neutral, "\(neutralCount) neutral rating\(neutralCount == 1 ? "" : "s")."))
        }
        if badRecentCount > 0 {
            factors.append(("ratings.negative.recent", -(badCoefficient + recentBadCoefficient) * badRecent,
                            "\(badRecentCount) negative rating\(badRecentCount == 1 ? "" : "s") in the last 30 days."))
        }
        if badOldCount > 0 {
            factors.append(("ratings.negative", -badCoefficient * badOld, "\(badOldCount) older negative rating\(badOldCount == 1 ? "" : "s")."))
        }
        if ignored > 0 {
            factors.append(("ratings.ignored", 0, "\(ignored) rating\(ignored == 1 ? "" : "s") from a swarm of unproven accounts ignored."))
        }
        if history.completedTrades > 0 {
            factors.append(("trades", 15 * log(1 + Double(history.completedTrades)),
                            "\(history.completedTrades) completed trade\(history.completedTrades == 1 ? "" : "s")."))
        }
        let finished = history.completedTrades + history.refundedTrades
        if history.role == .seller, finished >= 5 {
            let refundRate = Double(history.refundedTrades) / Double(finished)
            if refundRate > 0.05 {
                factors.append(("refunds", -300 * (refundRate - 0.05), String(format: "%.0f%% of trades refunded (5%% is normal).", refundRate * 100)))
            }
        }
        if history.disputesLost > 0 {
            factors.append(("disputes.lost", -disputeLostPoints * Double(history.disputesLost),
                            "\(history.disputesLost) dispute\(history.disputesLost == 1 ? "" : "s") lost in the last year."))
        }
        if history.role == .seller, finished >= 5, history.disputesOpened > 0 {
            let rate = Double(history.disputesOpened) / Double(finished)
            if rate > disputeRateAllowed {
                factors.append(("disputes.rate", -disputeRateCoefficient * (rate - disputeRateAllowed),
                                String(format: "%.0f%% of trades disputed (up to 2%% is normal).", rate * 100)))
            }
        }
        if history.penaltyPoints > 0 {
            factors.append(("penalties", -penaltyPointCost * Double(history.penaltyPoints),
                            "\(history.penaltyPoints) penalty point\(history.penaltyPoints == 1 ? "" : "s") on the record."))
        }
        if history.role == .seller, history.shippedOrders >= 5 {
            let onTime = Double(history.shippedOnTime) / Double(history.shippedOrders)
            let effect = max(-120, min(40, 40 * (onTime - 0.9) / 0.1))
            factors.append(("shipping", effect, String(format: "%.0f%% of orders shipped within 48 hours of payment.", onTime * 100)))
        }

        let points = factors.reduce(0) { $0 + $1.1 }
        let score = Int(max(0, min(1000, points)).rounded())
        let evidence = good + neutral + badOld + badRecent + 0.3 * Double(history.completedTrades)
        let confidence = evidence / (evidence + 8)
        return CreditScore(
            score: score,
            points: points,
            tier: Tier.of(score: score, completedTrades: history.completedTrades, confidence: confidence),
            confidence: confidence,
            uncertainty: Int((250 * (1 - confidence)).rounded()),
            breakdown: factors.map { CreditScore.Factor(factor: $0.0, effect: Int($0.1.rounded()), explanation: $0.2) }
        )
    }
}

/// Honest-seller commendations (表彰诚信卖家): a seller is named for a month when, in that month,
/// they completed at least 5 sales, shipped at least 95 % of orders within 48 hours, left no
/// refund request unanswered, kept at least 98 % positive ratings over the last six months, and
/// ended the month with a score of at least 700.
public enum Commendations {
    public static let minimumSales = 5
    public static let minimumOnTime = 0.95
    public static let minimumPositiveShare = 0.98
    public static let minimumScore = 700

    public struct SellerMonth: Sendable, Equatable {
        public let completedSales: Int
        public let shipped: Int
        public let shippedOnTime: Int
        public let openRefundRequests: Int
        public let positiveRatings: Int
        public let ratings: Int
        public let score: Int

        public init(completedSales: Int, shipped: Int, shippedOnTime: Int, openRefundRequests: Int, positiveRatings: Int, ratings: Int, score: Int) {
            self.completedSales = completedSales
            self.shipped = shipped
            self.shippedOnTime = shippedOnTime
            self.openRefundRequests = openRefundRequests
            self.positiveRatings = positiveRatings
            self.ratings = ratings
            self.score = score
        }
    }

    /// The criteria in words, for the profile and the docs.
    public static let criteria = "At least \(minimumSales) sales in the month, \(Int(minimumOnTime * 100))% shipped within 48 hours, no open refund requests, \(Int(minimumPositiveShare * 100))% positive ratings over six months, and a score of \(minimumScore) or more."

    public static func qualifies(_ month: SellerMonth) -> Bool {
        month.completedSales >= minimumSales
            && month.shipped > 0 && Double(month.shippedOnTime) / Double(month.shipped) >= minimumOnTime
            && month.openRefundRequests == 0
            && month.ratings > 0 && Double(month.positiveRatings) / Double(month.ratings) >= minimumPositiveShare
            && month.score >= minimumScore
    }
}
