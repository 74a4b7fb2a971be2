import Foundation

/// How likely an account is to be fraudulent, with the reasons.
public struct FraudAssessment: Sendable, Equatable {
    public struct Reason: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case credibleFraudReports
            case swarm
            case isolatedRing
            case unfairRater
            case suddenDrop
            case boostedBySwarm
            case orderVolumeJump
            case negativeRateJump
        }

        public let kind: Kind
        /// How much this reason alone makes fraud likely, 0 ... 1.
        public let risk: Double
        public let explanation: String
    }

    /// 0 ... 1; 0.5 and above is an alert for moderators.
    public let risk: Double
    public let reasons: [Reason]

    public static let alertThreshold = 0.5
    public var isAlert: Bool { risk >= Self.alertThreshold }

    /// Nothing known against the account.
    public static let none = FraudAssessment(risk: 0, reasons: [])
}

extension TrustEngine {
    /// The fraud risk of a user as of `time`. Independent signals combine as a noisy-OR: each
    /// reason alone would make fraud this likely, and together they add up without exceeding 1.
    ///
    /// Runs in time proportional to the user's number of rating partners.
    public func fraudRisk(of user: Int32, at time: Double) -> FraudAssessment {
        guard knows(user) else { return FraudAssessment(risk: 0, reasons: []) }
        let state = users[Int(user)]
        var reasons: [FraudAssessment.Reason] = []
        let trust = trustValue(of: user, at: time)

        // Credible buyers or sellers reporting fraud (strongly negative ratings).
        var reports = 0
        for rater in incoming[Int(user)] {
            if let pair = pairs[Self.key(rater, user)], !pair.neutralized, pair.lastValue <= -0.5, pair.credibilityAtRating >= 0.2 {
                reports += 1
            }
        }
        if reports >= 2, trust < 0.4 {
            reasons.append(.init(kind: .credibleFraudReports, risk: min(0.95, 0.2 + 0.1 * Double(reports)),
                                 explanation: "\(reports) credible raters rated dealings with this account as bad or fraudulent."))
        }

        if state.swarmedWith >= Int32(configuration.swarmSize) {
            reasons.append(.init(kind: .swarm, risk: 0.7,
                                 explanation: "One of \(state.swarmedWith) unproven accounts that rated the same user at an extreme within a week."))
        }

        // A ring: an unproven account whose rating partners are nearly all unproven too.
        let ownCredibility = credibility(of: user, at: time)
        if ownCredibility < 0.1 {
            var partners = Set(outgoing[Int(user)])
            partners.formUnion(incoming[Int(user)])
            if partners.count >= 5 {
                let unproven = partners.reduce(0) { $0 + (credibility(of: $1, at: time) < 0.1 ? 1 : 0) }
                let share = Double(unproven) / Double(partners.count)
                if share > 0.8 {
                    reasons.append(.init(kind: .isolatedRing, risk: 0.9 * share,
                                         explanation: "\(unproven) of its \(partners.count) rating partners are unproven accounts too: an isolated group."))
                }
            }
        }

        if state.fairnessWeight >= 3, fairness(of: user) < 0.35 {
            reasons.append(.init(kind: .unfairRater, risk: 0.6,
                                 explanation: "Its ratings consistently disagree with everyone else's view of those it rates."))
        }

        let evidence = self.evidence(of: user, at: time)
        let long = (evidence.positive + 1) / (evidence.positive + evidence.negative + 2)
        let recent = (evidence.recentPositive + 1) / (evidence.recentPositive + evidence.recentNegative + 2)
        let drop = (long - recent) * recentTrouble(evidence.recentNegative)
        if drop >= 0.25 {
            reasons.append(.init(kind: .suddenDrop, risk: 0.4,
                                 explanation: "Its recent ratings are much worse than its long record: a good reputation may be being cashed in."))
        }

        if state.boostedBySwarm >= Int32(configuration.swarmSize) {
            reasons.append(.init(kind: .boostedBySwarm, risk: 0.3,
                                 explanation: "It received top ratings from a swarm of \(state.boostedBySwarm) unproven accounts (ignored in its record)."))
        }

        let risk = 1 - reasons.reduce(1.0) { $0 * (1 - $1.risk) }
        return FraudAssessment(risk: risk, reasons: reasons.sorted { $0.risk > $1.risk })
    }
}
