import FiduciaDomain
import Foundation
import Testing

@Suite("Trust engine")
struct TrustEngineTests {
    static let day = 86_400.0
    let start = 1_600_000_000.0

    /// An engine where users 0...(count-1) have been around for a year (proven) without ratings
    /// about each other: each made one rating of a bystander long ago.
    func engine(established count: Int32, bystander: Int32 = 999) -> TrustEngine {
        var engine = TrustEngine()
        for user in 0..<count {
            engine.apply(.init(source: user, target: bystander, value: 0.5, time: start))
        }
        return engine
    }

    @Test func aCredibleGoodRatingMovesTrustByTheHandComputedAmount() {
        var engine = engine(established: 2)
        let now = start + 365 * Self.day
        // Rater 0 is proven (a year old); credibility = fairness × tenure. Its one rating so far
        // was of a bystander with no record, so fairness is the prior 0.7; tenure after the 7-day
        // probation is 1 − e^(−358/30) = 0.99999343: credibility 0.69999540.
        #expect(abs(engine.credibility(of: 0, at: now) - 0.699_995_40) < 1e-8)
        engine.apply(.init(source: 0, target: 1, value: 1, time: now))
        // Weight = credibility × magnitude (1 for a top rating) = 0.69999540; trust = (w + 1) /
        // (w + 2) = 1.69999540 / 2.69999540 = 0.62962900; confidence w / (w + 5) = 0.12280631.
        #expect(abs(engine.trustValue(of: 1, at: now) - 0.629_629_00) < 1e-8)
        #expect(abs(engine.confidence(of: 1, at: now) - 0.122_806_31) < 1e-8)
    }

    @Test func aBadRatingWeighsMoreThanAGoodOneOfTheSameStrength() {
        let now = start + 365 * Self.day
        var good = engine(established: 2)
        good.apply(.init(source: 0, target: 1, value: 0.6, time: now))
        var bad = engine(established: 2)
        bad.apply(.init(source: 0, target: 1, value: -0.6, time: now))
        let up = good.trustValue(of: 1, at: now) - 0.5
        let down = 0.5 - bad.trustValue(of: 1, at: now)
        // w = 0.69999540 × (0.5 + 0.5 × 0.6) = 0.55999632. Good: (w + 1) / (w + 2) − 0.5 = 0.10937444;
        // bad counts three times: 0.5 − 1 / (3w + 2) = 0.22826005.
        #expect(abs(up - 0.109_374_44) < 1e-8)
        #expect(abs(down - 0.228_260_05) < 1e-8)
    }

    @Test func newAccountsCountForNothingDuringProbation() {
        var engine = TrustEngine()
        engine.apply(.init(source: 5, target: 6, value: 1, time: start))
        #expect(engine.credibility(of: 5, at: start + 6 * Self.day) == 0)
        #expect(engine.trustValue(of: 6, at: start) == 0.5)
        #expect(engine.credibility(of: 5, at: start + 8 * Self.day) > 0)
    }

    @Test func aLongGoodRecordIsLostQuicklyToABurstOfFraudThenRecovers() {
        var engine = engine(established: 40)
        // Two years of good trades, one a month.
        var time = start + 200 * Self.day
        for month in 0..<24 {
            engine.apply(.init(source: Int32(1 + month), target: 0, value: 0.8, time: time))
            time += 30 * Self.day
        }
        let good = engine.trustValue(of: 0, at: time)
        #expect(good > 0.85)
        // Then, within a day, three credible buyers report fraud.
        for rater in Int32(30)..<33 { engine.apply(.init(source: rater, target: 0, value: -1, time: time)) }
        let afterFraud = engine.trustValue(of: 0, at: time)
        #expect(afterFraud < good - 0.3, "\(good) → \(afterFraud)")
        let risk = engine.fraudRisk(of: 0, at: time)
        #expect(risk.isAlert)
        #expect(risk.reasons.contains { $0.kind == .suddenDrop }, "\(risk) \(engine.explainTrust(of: 0, at: time))")
        // A busy seller whose good trades are all recent loses less per complaint, but still.
        var busy = self.engine(established: 40)
        var now = start + 200 * Self.day
        for rater in Int32(1)..<25 {
            busy.apply(.init(source: rater, target: 0, value: 0.9, time: now))
            now += Self.day
        }
        let before = busy.trustValue(of: 0, at: now)
        for rater in Int32(25)..<28 { busy.apply(.init(source: rater, target: 0, value: -1, time: now)) }
        #expect(busy.trustValue(of: 0, at: now) < before - 0.2)
        // Recent trouble fades: a year later the correction is gone.
        #expect(engine.trustValue(of: 0, at: time + 365 * Self.day) > afterFraud)
    }

    @Test func aSwarmOfUnprovenAccountsIsNeutralisedAndFlagged() {
        var engine = engine(established: 20)
        let time = start + 300 * Self.day
        for rater in Int32(1)..<6 { engine.apply(.init(source: rater, target: 0, value: rater.isMultiple(of: 2) ? 0.5 : -0.5, time: time)) }
        let before = engine.trustValue(of: 0, at: time + 60 * Self.day)
        // Twelve accounts that appeared 40 days ago (past probation, not proven) all rate 0 at the top.
        for puppet in Int32(100)..<112 { engine.apply(.init(source: puppet, target: 200, value: 0.1, time: time - 40 * Self.day)) }
        for puppet in Int32(100)..<112 { engine.apply(.init(source: puppet, target: 0, value: 1, time: time + Double(puppet - 100) * 3_600)) }
        let after = engine.trustValue(of: 0, at: time + 60 * Self.day)
        // Pair contributions are kept in single precision, so "exactly" means to about 1e-6.
        #expect(abs(after - before) < 1e-6)
        for puppet in Int32(100)..<112 {
            #expect(engine.ratingWeight(source: puppet, target: 0) == 0)
            #expect(engine.fraudRisk(of: puppet, at: time + Self.day).isAlert)
        }
        #expect(engine.fraudRisk(of: 0, at: time).reasons.contains { $0.kind == .boostedBySwarm })
        #expect(!engine.fraudRisk(of: 3, at: time).isAlert)
    }

    @Test func badMouthingAReputableUserCostsTheRatersTheirFairness() {
        var engine = engine(established: 40)
        var time = start + 200 * Self.day
        for rater in Int32(1)..<30 {
            engine.apply(.init(source: rater, target: 0, value: 1, time: time))
            time += 3_600
        }
        // User 35 rates three reputable users at the bottom.
        for victim in Int32(0)..<3 where victim != 35 {
            if victim > 0 { for rater in Int32(5)..<25 { engine.apply(.init(source: rater, target: victim, value: 1, time: time)) } }
            engine.apply(.init(source: 35, target: victim, value: -1, time: time + 3_600))
        }
        #expect(engine.fairness(of: 35) < engine.fairness(of: 10))
        #expect(engine.fairness(of: 35) < 0.5)
    }

    @Test func reciprocityAndTheViewersHabitsShapeThePrediction() {
        var engine = engine(established: 4)
        let time = start + 300 * Self.day
        engine.apply(.init(source: 1, target: 0, value: -1, time: time))
        engine.apply(.init(source: 2, target: 0, value: 1, time: time))
        let retaliation = engine.explainPrediction(viewer: 0, party: 1, at: time + 60)
        let friendly = engine.explainPrediction(viewer: 0, party: 2, at: time + 60)
        #expect(retaliation.probability < friendly.probability)
        #expect(retaliation.contributions.contains { $0.signal == .reciprocity && $0.effect < 0 })
        #expect(abs(retaliation.contributions.map(\.effect).reduce(0, +) - log(retaliation.probability / (1 - retaliation.probability))) < 1e-9)
    }

    @Test func trustExplanationsAddUpToTheValue() {
        var engine = engine(established: 10)
        var time = start + 200 * Self.day
        for rater in Int32(1)..<8 {
            engine.apply(.init(source: rater, target: 0, value: rater < 3 ? -0.7 : 0.9, time: time))
            time += Self.day
        }
        let estimate = engine.explainTrust(of: 0, at: time)
        #expect(abs(estimate.factors.map(\.effect).reduce(0, +) - estimate.value) < 1e-9)
        #expect(estimate.factors.contains { $0.name == "bad ratings" })
    }

    /// The full recompute (replaying everything) and the state built one rating at a time, with
    /// queries in between, are the same.
    @Test(arguments: 1...5)
    func incrementalStateEqualsAFullRecompute(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var ratings: [TrustEngine.Rating] = []
        var time = start
        for _ in 0..<3_000 {
            time += Double(random.next() % 20_000)
            let source = Int32(random.next() % 120)
            var target = Int32(random.next() % 120)
            if target == source { target = (target + 1) % 120 }
            let value = random.next() % 10 < 8 ? Double(random.next() % 10 + 1) / 10 : -Double(random.next() % 10 + 1) / 10
            ratings.append(.init(source: source, target: target, value: value, time: time))
        }
        var incremental = TrustEngine()
        var predictions: [Double] = []
        for rating in ratings {
            _ = incremental.fraudRisk(of: rating.target, at: rating.time)
            _ = incremental.explainTrust(of: rating.source, at: rating.time)
            predictions.append(incremental.observe(rating))
        }
        var full = TrustEngine()
        var replayed: [Double] = []
        for rating in ratings { replayed.append(full.observe(rating)) }
        #expect(predictions == replayed)
        for user in Int32(0)..<120 {
            #expect(incremental.trustValue(of: user, at: time) == full.trustValue(of: user, at: time))
            #expect(incremental.fairness(of: user) == full.fairness(of: user))
            #expect(incremental.fraudRisk(of: user, at: time) == full.fraudRisk(of: user, at: time))
        }
    }

    /// A positive rating from a rater with a clean record never lowers the ratee's trust, on
    /// random networks, at random moments, for random amounts.
    @Test(arguments: 1...10)
    func aGoodRatingFromACleanRaterNeverLowersTrust(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var engine = engine(established: 60)
        var time = start + 200 * Self.day
        var checked = 0
        for _ in 0..<800 {
            time += Double(random.next() % 40_000)
            let source = Int32(random.next() % 60)
            var target = Int32(random.next() % 60)
            if target == source { target = (target + 1) % 60 }
            let value = random.next() % 10 < 8 ? Double(random.next() % 10 + 1) / 10 : -Double(random.next() % 10 + 1) / 10
            engine.apply(.init(source: source, target: target, value: value, time: time))
            // Now a clean rater (proven, not flagged) gives someone a good rating.
            let rater = Int32(random.next() % 60)
            var ratee = Int32(random.next() % 60)
            if ratee == rater { ratee = (ratee + 1) % 60 }
            guard engine.isProven(rater, at: time), !engine.fraudRisk(of: rater, at: time).isAlert else { continue }
            var trial = engine
            let before = trial.trustValue(of: ratee, at: time)
            trial.apply(.init(source: rater, target: ratee, value: Double(random.next() % 10 + 1) / 10, time: time))
            #expect(trial.trustValue(of: ratee, at: time) >= before - 1e-12)
            checked += 1
        }
        // The property must have been put to the test, not skipped by the guard every time.
        #expect(checked >= 200, "seed \(seed): only \(checked) clean raters")
    }

    @Test func evidenceWeightRewardsValueAndEscrow() {
        let eur = { (minor: Int64) in Money(amountMinor: minor, currency: Currency("EUR")!) }
        #expect(TrustEngine.evidenceWeight(amount: nil, escrow: true) == 1)
        #expect(TrustEngine.evidenceWeight(amount: eur(100_000), escrow: true) == 1)
        #expect(TrustEngine.evidenceWeight(amount: eur(500), escrow: true) < TrustEngine.evidenceWeight(amount: eur(50_000), escrow: true))
        #expect(TrustEngine.evidenceWeight(amount: eur(50_000), escrow: false) < TrustEngine.evidenceWeight(amount: eur(50_000), escrow: true))
        // Minor units are read with their currency: 1 000 yen is 1 000 major units, 1 000 cents only 10.
        #expect(TrustEngine.evidenceWeight(amount: Money(amountMinor: 1_000, currency: Currency("JPY")!), escrow: true) == 1)
        #expect(TrustEngine.evidenceWeight(amount: eur(1_000), escrow: true) < 0.7)
    }
}

@Suite("Trust evaluation")
struct TrustEvaluationTests {
    @Test func aucIsThePairwiseOrderingProbability() {
        #expect(ROC.auc(labels: [true, true, false, false], scores: [0.9, 0.8, 0.2, 0.1]) == 1)
        #expect(ROC.auc(labels: [true, true, false, false], scores: [0.1, 0.2, 0.8, 0.9]) == 0)
        #expect(ROC.auc(labels: [true, false], scores: [0.5, 0.5]) == 0.5)
        #expect(ROC.auc(labels: [true, false, true, false], scores: [0.9, 0.7, 0.7, 0.1]) == 0.875)
        #expect(ROC.auc(labels: [true, true], scores: [0.1, 0.2]) == nil)
    }

    @Test func baselinesAreTheirTextbookFormulas() {
        var predictors = BaselinePredictors()
        #expect(predictors.predict(target: 1, at: 0) == (0.5, 0.5, 0.5))
        predictors.apply(target: 1, positive: true, at: 0)
        predictors.apply(target: 1, positive: true, at: 0)
        predictors.apply(target: 1, positive: false, at: 0)
        let now = predictors.predict(target: 1, at: 0)
        #expect(abs(now.percentPositive - 2.0 / 3) < 1e-12)
        #expect(abs(now.beta - 3.0 / 5) < 1e-12)
        #expect(abs(now.decayedBeta - 3.0 / 5) < 1e-12)
        // After one half-life every count halves: (1 + 1) / (1.5 + 2).
        let later = predictors.predict(target: 1, at: 90 * 86_400)
        #expect(abs(later.decayedBeta - 2.0 / 3.5) < 1e-9)
    }

    @Test func parsesRatingFilesWithOrWithoutHeader() throws {
        let withHeader = try RatingTable.parse(Array("source,target,weight,timestamp\r\na,b,10,100\nb,a,-3,50.5\n\nc,a,1,100\n".utf8))
        #expect(withHeader.records.count == 3)
        #expect(withHeader.userCount == 3)
        #expect(withHeader.scale == 10)
        var sorted = withHeader
        sorted.sortByTime()
        #expect(sorted.records.map(\.timeText) == ["50.5", "100", "100"])
        #expect(sorted.records.map { sorted.names[Int($0.source)] } == ["b", "a", "c"])
        let noHeader = try RatingTable.parse(Array("1,2,1,5".utf8))
        #expect(noHeader.records.count == 1)
        #expect(throws: RatingTableError.malformed(line: 2, reason: "expected 4 fields: source,target,rating,time")) {
            try RatingTable.parse(Array("a,b,1,5\na,b,1\n".utf8))
        }
        #expect(throws: RatingTableError.self) { try RatingTable.parse(Array("a,b,1,5\na,b,x,5\n".utf8)) }
    }

    /// A small network with a sock-puppet ring: the ring's ratings are discounted, the target
    /// barely moves, and the puppets are flagged while the honest users are not.
    @Test func aRingAttackOnASmallNetworkIsDiscountedAndFlagged() throws {
        var csv = "source,target,rating,time\n"
        var random = SplitMix(seed: 3)
        var time = 1_500_000_000
        for _ in 0..<4_000 {
            time += Int(random.next() % 8_000)
            let source = Int(random.next() % 150)
            var target = Int(random.next() % 150)
            if target == source { target = (target + 1) % 150 }
            let rating = target % 25 == 0 ? -10 : Int(random.next() % 10) + 1
            csv += "u\(source),u\(target),\(rating),\(time)\n"
        }
        var table = try RatingTable.parse(Array(csv.utf8))
        table.sortByTime()
        var engine = TrustEngine()
        TrustEvaluation.replay(table, into: &engine)
        var simulator = AttackSimulator(table: table, baseline: engine, seed: 9)
        let sybil = simulator.run(.sybil, attackers: 30)
        #expect(abs(sybil.trustMove) <= 0.05)
        #expect(sybil.attackersFlagged >= 27)
        // This network's real fraudsters (one user in 25) are flagged with or without the attack;
        // the attack must not flag anyone else.
        #expect(sybil.othersFlagged <= sybil.othersFlaggedWithoutAttack)
        #expect(Double(sybil.othersFlaggedWithoutAttack) <= 0.05 * Double(sybil.otherUsers))
        let milking = simulator.run(.milking, attackers: 5)
        #expect(milking.trustMove < -0.2)
    }
}
