import Foundation

/// The signals the engine reads for a pair (viewer, party) before a trade.
public enum PairSignal: Int, CaseIterable, Sendable {
    case baseline
    /// Log-odds of the party's credible record: weighted good against weighted bad ratings.
    case record
    /// How much credible evidence the record holds (log scale).
    case evidence
    /// The party has never been rated.
    case newParty
    /// Log-odds of the viewer rating positively, from how they rated before (harsh raters are harsh).
    case viewerLeniency
    /// The viewer has never rated anyone.
    case newViewer
    /// +1 if the party rated the viewer well before, -1 if badly (reciprocity, retaliation), 0 if never.
    case reciprocity

    /// The words that explain a contribution of this signal.
    func explanation(value: Double, contribution: Double) -> String {
        let direction = contribution >= 0 ? "raises" : "lowers"
        switch self {
        case .baseline:
            return "Most trades go well; this is where every estimate starts."
        case .record:
            return value >= 0
                ? "The party's record with credible raters is good (log-odds \(Self.format(value))); this \(direction) the estimate."
                : "The party's record with credible raters is bad (log-odds \(Self.format(value))); this \(direction) the estimate."
        case .evidence:
            return "The record holds \(Self.format(exp(value) - 1)) units of credible evidence; this \(direction) the estimate."
        case .newParty:
            return "The party has never been rated."
        case .viewerLeniency:
            return value >= 0 ? "You usually rate trades as good." : "You often rate trades as bad."
        case .newViewer:
            return "You have not rated anyone yet."
        case .reciprocity:
            return value > 0 ? "The party rated you well before." : "The party rated you badly before; ratings between you may be retaliation."
        }
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// A feature vector for one pair.
public struct PairFeatures: Sendable, Equatable {
    var values: [Double] = Array(repeating: 0, count: PairSignal.allCases.count)

    public subscript(signal: PairSignal) -> Double {
        get { values[signal.rawValue] }
        set { values[signal.rawValue] = newValue }
    }
}

/// Online logistic regression with AdaGrad: the probability that a trade goes well, learned from
/// the outcomes of earlier trades only. Its weights times the signals are the explanation.
struct PairModel: Sendable {
    var weights: [Double]
    var gradientSquares: [Double]
    static let learningRate = 0.3
    static let regularisation = 1e-4

    init() {
        weights = Array(repeating: 0, count: PairSignal.allCases.count)
        gradientSquares = Array(repeating: 1e-6, count: PairSignal.allCases.count)
        // Priors that make sense before anything is learned.
        weights[PairSignal.baseline.rawValue] = 2
        weights[PairSignal.record.rawValue] = 1
        weights[PairSignal.viewerLeniency.rawValue] = 0.5
        weights[PairSignal.reciprocity.rawValue] = 2
    }

    func logit(_ features: PairFeatures) -> Double {
        var sum = 0.0
        for index in weights.indices { sum += weights[index] * features.values[index] }
        return max(-30, min(30, sum))
    }

    func probability(_ features: PairFeatures) -> Double {
        1 / (1 + exp(-logit(features)))
    }

    mutating func learn(_ features: PairFeatures, probability: Double, outcome: Bool) {
        let error = (outcome ? 1.0 : 0.0) - probability
        for index in weights.indices {
            let gradient = error * features.values[index] - Self.regularisation * weights[index]
            gradientSquares[index] += gradient * gradient
            weights[index] += Self.learningRate * gradient / gradientSquares[index].squareRoot()
        }
    }
}

/// A prediction for a pair with what made it.
public struct PairPrediction: Sendable, Equatable {
    public struct Contribution: Sendable, Equatable {
        public let signal: PairSignal
        /// Change in log-odds.
        public let effect: Double
        public let explanation: String
    }

    /// The probability that a trade between the two goes well.
    public let probability: Double
    public let contributions: [Contribution]
}

extension TrustEngine {
    /// The signals for (source, target) as of `time`, from the state before any rating at `time`.
    public func pairFeatures(source: Int32, target: Int32, at time: Double) -> PairFeatures {
        var features = PairFeatures()
        features[.baseline] = 1
        let evidence = self.evidence(of: target, at: time)
        features[.record] = log((evidence.positive + 1) / (evidence.negative + 1))
        features[.evidence] = log1p(evidence.positive + evidence.negative)
        let targetState = knows(target) ? users[Int(target)] : UserState()
        let sourceState = knows(source) ? users[Int(source)] : UserState()
        features[.newParty] = targetState.received == 0 ? 1 : 0
        let given = Double(sourceState.given)
        let givenNegative = Double(sourceState.givenNegative)
        features[.viewerLeniency] = log((given - givenNegative + 1) / (givenNegative + 0.2))
        features[.newViewer] = sourceState.given == 0 ? 1 : 0
        if let back = pairs[Self.key(target, source)] {
            features[.reciprocity] = back.lastValue > 0 ? 1 : -1
        }
        return features
    }

    /// The probability that a trade in which `viewer` deals with `party` goes well.
    public func predict(viewer: Int32, party: Int32, at time: Double) -> Double {
        model.probability(pairFeatures(source: viewer, target: party, at: time))
    }

    /// The prediction with the contribution of each signal, largest first.
    public func explainPrediction(viewer: Int32, party: Int32, at time: Double) -> PairPrediction {
        let features = pairFeatures(source: viewer, target: party, at: time)
        let contributions = PairSignal.allCases.compactMap { signal -> PairPrediction.Contribution? in
            let effect = model.weights[signal.rawValue] * features[signal]
            guard abs(effect) >= 0.01 else { return nil }
            return .init(signal: signal, effect: effect, explanation: signal.explanation(value: features[signal], contribution: effect))
        }.sorted { abs($0.effect) > abs($1.effect) }
        return PairPrediction(probability: model.probability(features), contributions: contributions)
    }

    /// The learned weight of each signal (for documentation and tests).
    public var signalWeights: [PairSignal: Double] {
        Dictionary(uniqueKeysWithValues: PairSignal.allCases.map { ($0, model.weights[$0.rawValue]) })
    }
}
