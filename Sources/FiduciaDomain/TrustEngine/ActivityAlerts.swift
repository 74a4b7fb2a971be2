import Foundation

/// Sudden changes in a merchant's activity that moderators should look at (D4), beside what the
/// trust engine sees in the ratings: order volume that jumps tenfold in a week (a bought or
/// taken-over account cashing in), and a share of bad ratings that jumps.
public enum ActivityAlerts {
    /// This week's orders against the weekly average of the four weeks before.
    public static let volumeFactor = 10.0
    public static let minimumWeeklyOrders = 10
    /// The share of bad ratings in the last 30 days against the 180 days before.
    public static let negativeShareFactor = 3.0
    public static let minimumRecentNegatives = 3
    public static let minimumRecentShare = 0.3

    public static func volumeJump(thisWeek: Int, previousFourWeeks: Int) -> FraudAssessment.Reason? {
        let weekly = Double(previousFourWeeks) / 4
        guard thisWeek >= minimumWeeklyOrders, Double(thisWeek) >= volumeFactor * max(1, weekly) else { return nil }
        return .init(kind: .orderVolumeJump, risk: 0.5, explanation: String(
            format: "%d orders in the last 7 days against %.1f a week in the four weeks before: a sudden jump (an account bought or taken over often cashes in like this).",
            thisWeek, weekly))
    }

    public static func negativeRateJump(recentNegative: Int, recentTotal: Int, earlierNegative: Int, earlierTotal: Int) -> FraudAssessment.Reason? {
        guard recentNegative >= minimumRecentNegatives, recentTotal > 0 else { return nil }
        let recentShare = Double(recentNegative) / Double(recentTotal)
        let earlierShare = earlierTotal > 0 ? Double(earlierNegative) / Double(earlierTotal) : 0
        guard recentShare >= minimumRecentShare, recentShare >= negativeShareFactor * max(0.05, earlierShare) else { return nil }
        return .init(kind: .negativeRateJump, risk: 0.5, explanation: String(
            format: "%.0f%% of its ratings in the last 30 days are bad (%d of %d), against %.0f%% in the 180 days before.",
            recentShare * 100, recentNegative, recentTotal, earlierShare * 100))
    }

    /// `assessment` with `reasons` added (noisy-OR, as the engine combines its own).
    public static func adding(_ reasons: [FraudAssessment.Reason], to assessment: FraudAssessment) -> FraudAssessment {
        guard !reasons.isEmpty else { return assessment }
        let all = (assessment.reasons + reasons).sorted { $0.risk > $1.risk }
        return FraudAssessment(risk: 1 - all.reduce(1.0) { $0 * (1 - $1.risk) }, reasons: all)
    }
}
