import Foundation

/// A user's trust with its confidence and the factors behind it, in words.
public struct TrustEstimate: Sendable, Equatable {
    public struct Factor: Sendable, Equatable {
        public let name: String
        /// How far this factor moves trust (on 0 ... 1).
        public let effect: Double
        public let explanation: String
    }

    public let value: Double
    public let confidence: Double
    public let factors: [Factor]
}

/// What a viewer's own circle says about a party, on top of the general estimate.
public struct PersonalizedTrust: Sendable, Equatable {
    /// The probability that a trade between this viewer and the party goes well.
    public let probability: Double
    /// People the viewer rated well who have also rated the party, and how many of them well.
    public let acquaintancesWhoRated: Int
    public let acquaintancesPositive: Int
    public let prediction: PairPrediction
    public let summary: String
}

extension TrustEngine {
    /// Trust in a user with the factors that make it, for people to read.
    public func explainTrust(of user: Int32, at time: Double) -> TrustEstimate {
        let evidence = self.evidence(of: user, at: time)
        let value = trustValue(of: user, at: time)
        let long = (evidence.positive + 1) / (evidence.positive + evidence.negative + 2)
        // An exact additive breakdown: start at 0.5, add what the bad ratings alone do, then what
        // the good ratings add on top, then the recent-record correction; the effects sum to the value.
        func record(_ positive: Double, _ negative: Double) -> Double { (positive + 1) / (positive + negative + 2) }
        var factors: [TrustEstimate.Factor] = [
            .init(name: "starting point", effect: 0.5, explanation: "Everyone starts at 0.5: nothing known either way."),
        ]
        if evidence.negative > 0 {
            factors.append(.init(
                name: "bad ratings", effect: record(0, evidence.negative) - 0.5,
                explanation: String(format: "Bad ratings worth %.1f (a bad rating counts %.0f× a good one of the same strength).", evidence.negative, configuration.negativeWeight)
            ))
        }
        if evidence.positive > 0 {
            factors.append(.init(
                name: "good ratings", effect: long - record(0, evidence.negative),
                explanation: String(format: "Good ratings worth %.1f, after weighing each rater's credibility, the trade's value and its age.", evidence.positive)
            ))
        }
        if value < long - 0.0005 {
            factors.append(.init(
                name: "recent ratings", effect: value - long,
                explanation: "Recent ratings are worse than the long record, and recent trouble weighs quickly."
            ))
        }
        let ignored = knows(user) ? incoming[Int(user)].filter { pairs[Self.key($0, user)]?.neutralized == true }.count : 0
        if ignored > 0 {
            factors.append(.init(name: "ignored ratings", effect: 0, explanation: "\(ignored) ratings from a swarm of unproven accounts are ignored."))
        }
        return TrustEstimate(value: value, confidence: confidence(of: user, at: time), factors: factors)
    }

    /// "How this party has treated people like you": the pair prediction, and what the people the
    /// viewer rated well have said about the party.
    public func personalizedTrust(viewer: Int32, party: Int32, at time: Double) -> PersonalizedTrust {
        let prediction = explainPrediction(viewer: viewer, party: party, at: time)
        var rated = 0
        var positive = 0
        if knows(viewer) {
            for acquaintance in outgoing[Int(viewer)] where (pairs[Self.key(viewer, acquaintance)]?.lastValue ?? 0) > 0 {
                if let opinion = pairs[Self.key(acquaintance, party)] {
                    rated += 1
                    if opinion.lastValue > 0 { positive += 1 }
                }
            }
        }
        // People the viewer trusts count more than strangers: each of them moves the estimate
        // half a unit of log-odds their way, at most three units in all.
        let shift = max(-3, min(3, 0.5 * Double(positive - (rated - positive))))
        let logit = log(prediction.probability / (1 - prediction.probability)) + shift
        let probability = 1 / (1 + exp(-logit))
        let summary =
            rated == 0
            ? "None of the people you rated well has dealt with them yet."
            : "\(positive) of the \(rated) people you rated well who dealt with them rated them well."
        return PersonalizedTrust(probability: probability, acquaintancesWhoRated: rated, acquaintancesPositive: positive, prediction: prediction, summary: summary)
    }
}
