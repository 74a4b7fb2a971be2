import ArgumentParser
import FiduciaDomain
import Foundation

/// Reading rating files and writing CSV quickly, for the trust-engine commands.
enum TrustFiles {
    static func load(_ path: String) throws -> RatingTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("Cannot read \(path).") }
        progress("reading \(path) (\(data.count / 1_048_576) MiB)…")
        do {
            var table = try RatingTable.parse([UInt8](data))
            table.sortByTime()
            progress("\(table.records.count) ratings between \(table.userCount) users; scale ±\(formatNumber(table.scale))")
            return table
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }

    static func formatNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A buffered writer to standard output or a file.
final class CSVWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("Cannot write \(path).")
            }
            self.handle = handle
        } else {
            self.handle = FileHandle.standardOutput
        }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    /// Appends a number in [0, 1] with six decimals, without the cost of String(format:).
    func writeFraction(_ value: Double) {
        let scaled = Int((max(0, min(1, value)) * 1_000_000).rounded())
        buffer.append(UInt8(ascii: scaled >= 1_000_000 ? "1" : "0"))
        buffer.append(UInt8(ascii: "."))
        var digits = scaled % 1_000_000
        var text = [UInt8](repeating: UInt8(ascii: "0"), count: 6)
        for index in stride(from: 5, through: 0, by: -1) {
            text[index] = UInt8(ascii: "0") + UInt8(digits % 10)
            digits /= 10
        }
        buffer.append(contentsOf: text)
    }

    func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        flush()
        if handle !== FileHandle.standardOutput { try? handle.close() }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay ratings in time order; write each rating with the engine's prediction made before it.",
        discussion: """
            Input: CSV source,target,rating,time (header optional; ids are strings; ratings on any symmetric \
            scale; time in Unix seconds). Output: source,target,rating,time,predicted_trust, one row per \
            input row in replay order, where predicted_trust is the probability, from earlier ratings only, \
            that a trade in which source trusts target goes well. Progress goes to standard error.
            """
    )

    @Option(name: .long, help: "The ratings CSV.")
    var ratings: String

    @Option(name: .long, help: "Where to write the predictions (default: standard output).")
    var output: String?

    @OptionGroup var founders: FoundersOption

    func run() async throws {
        let table = try TrustFiles.load(ratings)
        let writer = try CSVWriter(path: output)
        writer.write("source,target,rating,time,predicted_trust\n")
        var engine = TrustEngine(expectedUsers: table.userCount, expectedRatings: table.records.count)
        let total = table.records.count
        let step = max(1, total / 20)
        let started = ContinuousClock.now
        TrustEvaluation.replay(table, into: &engine, seeds: founders.seeds(of: table)) { position, prediction in
            let record = table.records[position]
            writer.write(table.names[Int(record.source)])
            writer.write(",")
            writer.write(table.names[Int(record.target)])
            writer.write(",")
            writer.write(TrustFiles.formatNumber(record.rating))
            writer.write(",")
            writer.write(record.timeText)
            writer.write(",")
            writer.writeFraction(prediction)
            writer.write("\n")
            if (position + 1) % step == 0 { progress("replayed \(position + 1)/\(total) ratings (\((position + 1) * 100 / total)%)") }
        }
        writer.close()
        let seconds = (ContinuousClock.now - started).seconds
        progress(String(format: "done: %d ratings in %.2f s (%.0f ratings/s, including writing)", total, seconds, Double(total) / max(seconds, 1e-9)))
    }
}

struct Score: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trust, confidence, fairness and fraud risk of every user after all ratings.",
        discussion: "Output CSV: user,trust,confidence,fairness,fraud_risk,ratings_received,ratings_given."
    )

    @Option(name: .long, help: "The ratings CSV.")
    var ratings: String

    @Option(name: .long, help: "Where to write the scores (default: standard output).")
    var output: String?

    @OptionGroup var founders: FoundersOption

    func run() async throws {
        let started = ContinuousClock.now
        let table = try TrustFiles.load(ratings)
        var engine = TrustEngine(expectedUsers: table.userCount, expectedRatings: table.records.count)
        let step = max(1, table.records.count / 10)
        TrustEvaluation.apply(table, into: &engine, seeds: founders.seeds(of: table)) { position in
            if (position + 1) % step == 0 { progress("applied \(position + 1)/\(table.records.count) ratings") }
        }
        progress("standing recomputed \(engine.standingRecomputations) times")
        let now = table.records.last?.time ?? 0
        let writer = try CSVWriter(path: output)
        writer.write("user,trust,confidence,fairness,fraud_risk,ratings_received,ratings_given\n")
        for user in 0..<Int32(table.userCount) {
            writer.write(table.names[Int(user)])
            writer.write(",")
            writer.writeFraction(engine.trustValue(of: user, at: now))
            writer.write(",")
            writer.writeFraction(engine.confidence(of: user, at: now))
            writer.write(",")
            writer.writeFraction(engine.fairness(of: user))
            writer.write(",")
            writer.writeFraction(engine.fraudRisk(of: user, at: now).risk)
            writer.write(",\(engine.ratingsReceived(by: user)),\(engine.ratingsGiven(by: user))\n")
        }
        writer.close()
        progress(String(format: "scored %d users in %.2f s", table.userCount, (ContinuousClock.now - started).seconds))
    }
}

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prequential AUC of the engine against three baselines, its throughput, and synthetic attacks.",
        discussion: """
            A good trade is a rating above 0. Baselines: the share of positive ratings the target received, \
            Beta (pos+1)/(n+2), and Beta with a 90-day half-life. With --attack, attacks are injected after \
            the last real rating and the command reports how far the target's trust moved and how many \
            attackers the fraud risk flags (risk ≥ 0.5), against the other users.
            """
    )

    @Option(name: .long, help: "The ratings CSV.")
    var ratings: String

    @Option(name: .long, help: "Inject an attack: sybil, badmouth, camouflage, milking or patient-sybil (repeatable).")
    var attack: [String] = []

    @Option(name: .long, help: "Attacker accounts per attack (victims for milking).")
    var attackers = 50

    @Option(name: .long, help: "Seed of the attack generator.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "For patient-sybil: how many ring members get a good rating from a real, reputable user (ties bought from honest accounts).")
    var boughtTies = 0

    @OptionGroup var founders: FoundersOption

    func run() async throws {
        let kinds = try attack.map { name -> AttackKind in
            guard let kind = AttackKind(rawValue: name) else {
                throw ValidationError("Unknown attack \(name); use \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return kind
        }
        let table = try TrustFiles.load(ratings)
        var engine = TrustEngine(expectedUsers: table.userCount, expectedRatings: table.records.count)
        var predictions: [Double] = []
        predictions.reserveCapacity(table.records.count)
        let seeds = founders.seeds(of: table)
        let started = ContinuousClock.now
        TrustEvaluation.replay(table, into: &engine, seeds: seeds) { _, prediction in predictions.append(prediction) }
        let seconds = (ContinuousClock.now - started).seconds
        let report = TrustEvaluation.report(table, enginePredictions: predictions, ratingsPerSecond: Double(table.records.count) / max(seconds, 1e-9))

        func format(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "n/a" }
        say("prequential AUC over \(report.ratings) ratings (good trade = rating > 0):")
        say("predictor\tall ratings\ttarget rated before")
        say("engine\t\(format(report.engine.all))\t\(format(report.engine.seenTargets))")
        say("percent positive\t\(format(report.percentPositive.all))\t\(format(report.percentPositive.seenTargets))")
        say("beta (pos+1)/(n+2)\t\(format(report.beta.all))\t\(format(report.beta.seenTargets))")
        say("beta, 90-day half-life\t\(format(report.decayedBeta.all))\t\(format(report.decayedBeta.seenTargets))")
        let best = [report.percentPositive.all, report.beta.all, report.decayedBeta.all].compactMap { $0 }.max() ?? 0
        say(String(format: "engine minus best baseline (all ratings): %+.4f", (report.engine.all ?? 0) - best))
        say(String(format: "engine throughput: %.0f ratings/s (%d ratings in %.3f s, one core)", report.engineRatingsPerSecond, report.ratings, seconds))
        say("seeds: \(seeds.count) founders (first \(founders.foundersDays) days); standing recomputed \(engine.standingRecomputations) times")

        guard !kinds.isEmpty else { return }
        var simulator = AttackSimulator(table: table, baseline: engine, seeds: seeds, seed: seed)
        simulator.boughtTies = boughtTies
        for kind in kinds {
            progress("injecting \(kind.rawValue) with \(attackers) accounts…")
            let outcome = simulator.run(kind, attackers: attackers)
            say("")
            say("attack \(kind.rawValue): \(outcome.attackers) \(kind == .milking ? "victims" : "attackers"), target \(outcome.target)")
            say(String(format: "  target trust %.4f → %.4f (moved %+.4f); target fraud risk %.2f", outcome.trustBefore, outcome.trustAfter, outcome.trustMove, outcome.targetRiskAfter))
            if kind != .milking {
                say(String(format: "  attackers flagged (risk ≥ 0.5): %d of %d (%.1f%%); proven (full credibility): %d", outcome.attackersFlagged, outcome.attackers,
                           100 * Double(outcome.attackersFlagged) / Double(outcome.attackers), outcome.attackersProven))
            }
            say(String(format: "  other users flagged: %d of %d (%.2f%%; %d without the attack)", outcome.othersFlagged, outcome.otherUsers,
                       100 * Double(outcome.othersFlagged) / Double(max(1, outcome.otherUsers)), outcome.othersFlaggedWithoutAttack))
        }
    }
}

struct SynthesizeNetwork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth-network",
        abstract: "Write a synthetic rating network (for benchmarks): heavy-tailed activity, mostly good trades, some fraudsters."
    )

    @Option(name: .long, help: "Number of users.")
    var users = 1_000_000

    @Option(name: .long, help: "Number of ratings.")
    var ratings = 10_000_000

    @Option(name: .long, help: "Output CSV.")
    var output: String

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 42

    func run() async throws {
        guard users >= 2, ratings >= 1 else { throw ValidationError("Need at least 2 users and 1 rating.") }
        var random = SplitMix(seed: seed)
        let writer = try CSVWriter(path: output)
        writer.write("source,target,rating,time\n")
        // Activity follows a Zipf-like law: user k is picked with weight 1/(k+10)^0.8, by inverse
        // transform of the cumulative weights (binary search).
        var cumulative = [Double](repeating: 0, count: users)
        var total = 0.0
        for index in 0..<users {
            total += 1 / pow(Double(index) + 10, 0.8)
            cumulative[index] = total
        }
        func pick() -> Int {
            let target = Double(random.next() >> 11) / Double(1 << 53) * total
            var low = 0, high = users - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let start = 1_300_000_000.0
        let span = 5 * 365 * 86_400.0
        let step = max(1, ratings / 20)
        for number in 0..<ratings {
            let source = pick()
            var target = pick()
            if target == source { target = (target + 1) % users }
            // One user in fifty is a fraudster whom most partners rate badly.
            let fraudster = target % 50 == 7
            let roll = random.next() % 100
            let rating: Int =
                fraudster ? (roll < 70 ? -10 : Int(random.next() % 3) + 1)
                : (roll < 92 ? Int(random.next() % 5) + 1 : (roll < 97 ? -Int(random.next() % 3) - 1 : -10))
            let time = Int(start + span * Double(number) / Double(ratings)) + Int(random.next() % 600)
            writer.write("u\(source),u\(target),\(rating),\(time)\n")
            if (number + 1) % step == 0 { progress("wrote \(number + 1)/\(ratings) ratings") }
        }
        writer.close()
    }
}

/// The seeds of standing in an offline run: a network file has no verified identities, so its
/// founding members (the users who appear in its first days) stand in for them.
struct FoundersOption: ParsableArguments {
    @Option(name: .customLong("founders"), help: "Users who appear within this many days of the first rating are seeds of standing (0: none, age alone proves).")
    var foundersDays: Double = 90

    func seeds(of table: RatingTable) -> Set<Int32> {
        TrustEvaluation.founders(of: table, days: foundersDays)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
