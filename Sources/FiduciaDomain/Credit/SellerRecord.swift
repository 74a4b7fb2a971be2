import Foundation

/// The periods and thresholds a seller's record is measured with, for the credit score, the
/// profile and the commendations. Storage is asked for counts over these periods; the rules
/// live here once.
public enum SellerRecord {
    /// An order ships on time when it ships within 48 hours of payment.
    public static let onTimeShippingSeconds: TimeInterval = 48 * 3_600
    /// The credit score looks at shipping over the last 180 days.
    public static let shippingWindowSeconds: TimeInterval = 180 * 86_400
    /// Commendations look at the share of positive ratings over the last six months (182 days).
    public static let ratingShareWindowSeconds: TimeInterval = 182 * 86_400
    /// Disputes count in the score and on the profile for a year.
    public static let disputeWindowSeconds: TimeInterval = 365 * 86_400

    /// Whether an order paid at `paidAt` and shipped at `shippedAt` shipped on time.
    public static func shippedOnTime(paidAt: Date, shippedAt: Date) -> Bool {
        shippedAt.timeIntervalSince(paidAt) <= onTimeShippingSeconds
    }

    /// The periods a profile counts ratings over: name and length (nil: all time).
    public static let profilePeriods: [(name: String, seconds: TimeInterval?)] = [
        ("last 30 days", 30 * 86_400),
        ("last 6 months", 182 * 86_400),
        ("all time", nil),
    ]
}

/// The home page's ranking of sellers: sellers past the New tier (so with at least
/// `Tier.minimumTrades` completed trades), best score first, ties by identifier so that the
/// order is stable.
public enum SellerRanking {
    /// The tiers that may appear in the ranking.
    public static let rankedTiers: [Tier] = Tier.allCases.filter { $0 != .new }

    public static let description = "Sellers with \(Tier.minimumTrades) or more completed trades, by credit score."
}

/// When a stored score adds a point to its history: when the score or the tier changed, not on
/// every recompute (a refresh that changes nothing leaves the chart as it is).
public enum ScoreHistory {
    public static func recordsPoint(previous: (score: Int, tier: Tier)?, new score: CreditScore) -> Bool {
        guard let previous else { return true }
        return previous.score != score.score || previous.tier != score.tier
    }

    /// The tier change to record, if the tier changed (the first score is not a change).
    public static func tierChange(previous: Tier?, new score: CreditScore) -> (from: Tier, to: Tier)? {
        guard let previous, previous != score.tier else { return nil }
        return (previous, score.tier)
    }
}

/// A stored score with when it was computed.
public struct StoredCreditScore: Sendable, Equatable {
    public let score: Int
    public let tier: Tier
    public let confidence: Double
    public let uncertainty: Int
    public let breakdown: [CreditScore.Factor]
    public let computedAt: Date

    public init(score: Int, tier: Tier, confidence: Double, uncertainty: Int, breakdown: [CreditScore.Factor], computedAt: Date) {
        self.score = score
        self.tier = tier
        self.confidence = confidence
        self.uncertainty = uncertainty
        self.breakdown = breakdown
        self.computedAt = computedAt
    }
}

/// One point of a score's history.
public struct ScorePoint: Sendable, Equatable {
    public let at: Date
    public let score: Int
    public let tier: Tier

    public init(at: Date, score: Int, tier: Tier) {
        self.at = at
        self.score = score
        self.tier = tier
    }
}

/// A seller in a ranking: who, and their latest seller score.
public struct RankedSeller: Sendable, Equatable {
    public let id: UserID
    public let displayName: String
    public let score: Int
    public let tier: Tier

    public init(id: UserID, displayName: String, score: Int, tier: Tier) {
        self.id = id
        self.displayName = displayName
        self.score = score
        self.tier = tier
    }
}
