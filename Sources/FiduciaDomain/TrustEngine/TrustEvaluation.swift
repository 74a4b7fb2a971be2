import Foundation

/// The evaluation of the engine on a rating network: prequential AUC against the baselines, and
/// synthetic attacks. Pure; the command line reads files, keeps time and prints.
public enum TrustEvaluation {
    /// Runs every rating through `engine.observe` in time order; `each` gets the rating's position
    /// and the prediction made before it. Each of `seeds` becomes a seed when it first appears.
    public static func replay(_ table: RatingTable, into engine: inout TrustEngine, seeds: Set<Int32> = [], each: (Int, Double) -> Void = { _, _ in }) {
        feed(table, into: &engine, seeds: seeds) { engine, rating, position in each(position, engine.observe(rating)) }
    }

    /// Applies every rating in time order without predicting (the full recompute); `each` gets
    /// the position of each rating applied.
    public static func apply(_ table: RatingTable, into engine: inout TrustEngine, seeds: Set<Int32> = [], each: (Int) -> Void = { _ in }) {
        feed(table, into: &engine, seeds: seeds) { engine, rating, position in
            engine.apply(rating)
            each(position)
        }
    }

    private static func feed(_ table: RatingTable, into engine: inout TrustEngine, seeds: Set<Int32>, _ step: (inout TrustEngine, TrustEngine.Rating, Int) -> Void) {
        var seeded = Set<Int32>()
        for (position, record) in table.records.enumerated() {
            if !seeds.isEmpty {
                for user in [record.source, record.target] where seeds.contains(user) && !seeded.contains(user) {
                    engine.addSeed(user, at: record.time)
                    seeded.insert(user)
                }
            }
            step(&engine, table.engineRating(record), position)
        }
    }

    /// The network's founding members: the users who appear within `days` of its first rating.
    /// A marketplace knows its founders; in an evaluation they stand in for verified identities
    /// as the seeds of standing.
    public static func founders(of table: RatingTable, days: Double) -> Set<Int32> {
        guard days > 0, let start = table.records.first?.time else { return [] }
        var founders = Set<Int32>()
        for record in table.records {
            guard record.time - start <= days * 86_400 else { break }
            founders.insert(record.source)
            founders.insert(record.target)
        }
        return founders
    }

    /// The three baselines' predictions for every rating, and whether its target had been rated.
    public static func baselines(_ table: RatingTable) -> (percent: [Double], beta: [Double], decayed: [Double], seen: [Bool]) {
        var predictors = BaselinePredictors()
        var percent: [Double] = [], beta: [Double] = [], decayed: [Double] = [], seen: [Bool] = []
        var rated = Set<Int32>()
        percent.reserveCapacity(table.records.count)
        beta.reserveCapacity(table.records.count)
        decayed.reserveCapacity(table.records.count)
        seen.reserveCapacity(table.records.count)
        for record in table.records {
            let prediction = predictors.predict(target: record.target, at: record.time)
            percent.append(prediction.percentPositive)
            beta.append(prediction.beta)
            decayed.append(prediction.decayedBeta)
            seen.append(rated.contains(record.target))
            predictors.apply(target: record.target, positive: record.rating > 0, at: record.time)
            rated.insert(record.target)
        }
        return (percent, beta, decayed, seen)
    }

    /// Prequential AUCs of the engine's predictions and of the baselines.
    public static func report(_ table: RatingTable, enginePredictions: [Double], ratingsPerSecond: Double) -> PrequentialReport {
        let labels = table.records.map { $0.rating > 0 }
        let baselines = Self.baselines(table)
        func scores(_ predictions: [Double]) -> PrequentialReport.Scores {
            let seenLabels = zip(labels, baselines.seen).filter(\.1).map(\.0)
            let seenScores = zip(predictions, baselines.seen).filter(\.1).map(\.0)
            return .init(all: ROC.auc(labels: labels, scores: predictions), seenTargets: ROC.auc(labels: seenLabels, scores: seenScores))
        }
        return PrequentialReport(
            ratings: table.records.count,
            engine: scores(enginePredictions),
            percentPositive: scores(baselines.percent),
            beta: scores(baselines.beta),
            decayedBeta: scores(baselines.decayed),
            engineRatingsPerSecond: ratingsPerSecond
        )
    }
}

/// Kinds of synthetic attack injected into a real network to measure the engine's resistance.
public enum AttackKind: String, CaseIterable, Sendable {
    /// Sock puppets rate each other and a target at the maximum (ballot stuffing).
    case sybil
    /// Sock puppets rate each other at the maximum and a reputable target at the minimum.
    case badmouth
    /// New accounts rate established users honestly (to look credible), then all rate a target at the maximum.
    case camouflage
    /// A reputable user's long record, then a burst of fraud: credible victims rate it at the minimum.
    case milking
    /// Sock puppets created long before the attack (past the age that proves an account), with a
    /// little activity among themselves, then all boosting a target (aged accounts bought and sold).
    case patientSybil = "patient-sybil"
}

/// What one injected attack did.
public struct AttackOutcome: Sendable {
    public let kind: AttackKind
    public let attackers: Int
    public let target: String
    public let trustBefore: Double
    public let trustAfter: Double
    public let targetRiskAfter: Double
    /// Attacker accounts whose fraud risk reached the alert threshold (none for milking, whose
    /// "attackers" are the real victims).
    public let attackersFlagged: Int
    /// Attacker accounts the engine counts as proven (full credibility) after the attack.
    public let attackersProven: Int
    /// Users other than the attackers and the target flagged, with and without the attack.
    public let othersFlagged: Int
    public let othersFlaggedWithoutAttack: Int
    public let otherUsers: Int

    public var trustMove: Double { trustAfter - trustBefore }
}

/// Builds attacks on top of a real network, deterministically from a seed.
public struct AttackSimulator: Sendable {
    public let table: RatingTable
    let baseline: TrustEngine
    let seeds: Set<Int32>
    let evaluationTime: Double
    var generator: SplitMix

    /// `baseline` must be the engine after replaying `table` unchanged with `seeds`.
    public init(table: RatingTable, baseline: TrustEngine, seeds: Set<Int32> = [], seed: UInt64) {
        self.table = table
        self.baseline = baseline
        self.seeds = seeds
        self.evaluationTime = (table.records.last?.time ?? 0) + 2 * 86_400
        self.generator = SplitMix(seed: seed)
    }

    /// How long before the attack the patient sybils' accounts appear.
    public static let patientAgeDays = 200

    /// For patient sybils: how many ring members get a good rating from a real, reputable user
    /// (a trade bought or faked with an honest account) a month after they appear.
    public var boughtTies = 0

    /// Injects one attack of `kind` with `attackers` accounts, replays, and measures.
    public mutating func run(_ kind: AttackKind, attackers: Int) -> AttackOutcome {
        precondition(attackers > 0)
        let last = table.records.last?.time ?? 0
        let start = last + 3_600
        let scale = table.scale
        let users = (0..<Int32(table.userCount)).filter { baseline.knows($0) }
        let reputable = users.filter { baseline.trustValue(of: $0, at: evaluationTime) > 0.7 && baseline.confidence(of: $0, at: evaluationTime) > 0.5 }
        let middling = users.filter {
            let trust = baseline.trustValue(of: $0, at: evaluationTime)
            return trust > 0.3 && trust < 0.7 && baseline.confidence(of: $0, at: evaluationTime) > 0.2
        }
        let busiest = users.max { baseline.ratingsReceived(by: $0) < baseline.ratingsReceived(by: $1) } ?? 0
        func pick(_ candidates: [Int32]) -> Int32 {
            candidates.isEmpty ? busiest : candidates[Int(generator.next() % UInt64(candidates.count))]
        }
        let target = kind == .badmouth || kind == .milking ? pick(reputable) : pick(middling)

        var attacked = table
        var attackerIndexes: [Int32] = []
        func jitter(_ seconds: Double) -> Double { Double(generator.next() % 1_000_000) / 1_000_000 * seconds }
        switch kind {
        case .patientSybil:
            for number in 0..<attackers {
                attackerIndexes.append(attacked.index(of: "attack-patient-\(number)"))
            }
            // 200 days before the attack each account appears and rates two others of the ring
            // moderately well, once, somewhere in the following month: old, quiet, unremarkable.
            let born = start - Double(Self.patientAgeDays) * 86_400
            for attacker in attackerIndexes {
                for _ in 0..<2 {
                    let other = attackerIndexes[Int(generator.next() % UInt64(attackerIndexes.count))]
                    guard other != attacker else { continue }
                    let time = born + jitter(30 * 86_400)
                    attacked.append(source: attacked.names[Int(attacker)], target: attacked.names[Int(other)], rating: 0.5 * scale, time: time, timeText: String(time))
                }
            }
            for attacker in attackerIndexes.prefix(boughtTies) {
                let honest = pick(reputable)
                let time = born + 40 * 86_400 + jitter(86_400)
                attacked.append(source: attacked.names[Int(honest)], target: attacked.names[Int(attacker)], rating: 0.5 * scale, time: time, timeText: String(time))
            }
            for attacker in attackerIndexes {
                let time = start + 86_400 + jitter(3_600)
                attacked.append(source: attacked.names[Int(attacker)], target: attacked.names[Int(target)], rating: scale, time: time, timeText: String(time))
            }
        case .sybil, .badmouth, .camouflage:
            for number in 0..<attackers {
                attackerIndexes.append(attacked.index(of: "attack-\(kind.rawValue)-\(number)"))
            }
            for attacker in attackerIndexes {
                if kind == .camouflage {
                    // Honest-looking ratings of established users, agreeing with everyone else.
                    for _ in 0..<min(10, reputable.count) {
                        let honest = pick(reputable)
                        let time = start + jitter(86_400)
                        attacked.append(source: attacked.names[Int(attacker)], target: attacked.names[Int(honest)], rating: (1 + Double(generator.next() % 3)) * scale / 10, time: time, timeText: String(time))
                    }
                } else {
                    for other in attackerIndexes where other != attacker {
                        let time = start + jitter(86_400)
                        attacked.append(source: attacked.names[Int(attacker)], target: attacked.names[Int(other)], rating: scale, time: time, timeText: String(time))
                    }
                }
                let time = start + 86_400 + jitter(3_600)
                attacked.append(
                    source: attacked.names[Int(attacker)], target: attacked.names[Int(target)],
                    rating: kind == .badmouth ? -scale : scale, time: time, timeText: String(time)
                )
            }
        case .milking:
            // The victims are real, credible users; the fraud is in the target's sudden change.
            var victims = users.filter { $0 != target && baseline.credibility(of: $0, at: last) > 0.5 }
            for number in 0..<min(attackers, victims.count) {
                let chosen = Int(generator.next() % UInt64(victims.count))
                let victim = victims.remove(at: chosen)
                let time = start + Double(number) * 6 * 3_600
                attacked.append(source: attacked.names[Int(victim)], target: attacked.names[Int(target)], rating: -scale, time: time, timeText: String(time))
            }
        }
        attacked.sortByTime()
        var engine = TrustEngine(configuration: baseline.configuration, expectedUsers: attacked.userCount, expectedRatings: attacked.records.count)
        TrustEvaluation.replay(attacked, into: &engine, seeds: seeds)

        let attackerSet = Set(attackerIndexes)
        var othersFlagged = 0
        var othersFlaggedBefore = 0
        for user in users where user != target && !attackerSet.contains(user) {
            if engine.fraudRisk(of: user, at: evaluationTime).isAlert { othersFlagged += 1 }
            if baseline.fraudRisk(of: user, at: evaluationTime).isAlert { othersFlaggedBefore += 1 }
        }
        return AttackOutcome(
            kind: kind,
            attackers: kind == .milking ? min(attackers, users.count) : attackers,
            target: table.names[Int(target)],
            trustBefore: baseline.trustValue(of: target, at: evaluationTime),
            trustAfter: engine.trustValue(of: target, at: evaluationTime),
            targetRiskAfter: engine.fraudRisk(of: target, at: evaluationTime).risk,
            attackersFlagged: attackerIndexes.filter { engine.fraudRisk(of: $0, at: evaluationTime).isAlert }.count,
            attackersProven: attackerIndexes.filter { engine.isProven($0, at: evaluationTime) }.count,
            othersFlagged: othersFlagged,
            othersFlaggedWithoutAttack: othersFlaggedBefore,
            otherUsers: users.count - 1
        )
    }
}
