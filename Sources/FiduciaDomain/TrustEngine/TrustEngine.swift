import Foundation

/// Fiducia's trust engine: from who rated whom, how and when, it estimates how likely a trade
/// with a party is to go well, how much each user can be trusted and how credible they are as a
/// rater, and which accounts look fraudulent, each with its reasons.
///
/// Pure and incremental: `observe` predicts a rating from the state so far, learns from it, then
/// applies it in time proportional to the two parties' degree (a swarm of fake ratings is undone
/// in time proportional to its size). Replaying every rating from an empty engine is the full
/// recompute, and gives exactly the state built incrementally. See docs/TRUST_ENGINE.md.
public struct TrustEngine: Sendable {
    /// The engine's constants. Times are in seconds.
    public struct Configuration: Sendable, Equatable {
        /// Half-life of evidence in the long-term record, and the share of old evidence that never fades.
        public var longHalfLife: Double = 365 * 86_400
        public var evidenceFloor: Double = 0.25
        /// Half-life of the recent record, which lets trust fall fast after a burst of bad trades.
        public var shortHalfLife: Double = 30 * 86_400
        /// A negative rating weighs this many times a positive one of the same strength.
        public var negativeWeight: Double = 3
        /// New accounts' ratings count for nothing during probation, then grow with tenure.
        public var probation: Double = 7 * 86_400
        public var tenureScale: Double = 30 * 86_400
        /// An account is proven once this old, or once vouched for by this much credibility.
        public var provenAge: Double = 180 * 86_400
        public var provenVouch: Double = 1.0
        /// Unproven accounts' ratings count this fraction of a proven account's.
        public var unprovenFactor: Double = 0.35
        /// This many unproven accounts rating one user at an extreme within the window is a swarm;
        /// their ratings of that user are neutralised.
        public var swarmSize = 10
        public var swarmWindow: Double = 7 * 86_400
        /// A rating at or beyond this share of the scale is extreme.
        public var extreme: Double = 0.8
        /// Standing (see Standing.swift): credibility has to flow in from seed accounts along
        /// good ratings. Once at least `minimumSeeds` seeds exist, an account is proven only with
        /// standing of at least `standingThreshold` (1 is the average account's).
        public var minimumSeeds = 5
        public var standingThreshold = 0.1
        /// The walk: the share of standing passed on at each step (the rest restarts at the seeds),
        /// and the number of steps (a short walk, so little leaks through a few bought ties).
        public var standingDamping = 0.85
        public var standingSteps = 4
        /// Standing is recomputed at the first rating at least `standingInterval` after the last
        /// recomputation once the good ties grew by `standingGrowth` (or seeds changed), and
        /// anyway after `standingMaximumInterval`. In between, a new good rating from an account
        /// with standing passes on its share one step (see `passOnStanding`).
        public var standingInterval: Double = 7 * 86_400
        public var standingGrowth = 0.25
        public var standingMaximumInterval: Double = 180 * 86_400

        public init() {}
    }

    /// One rating, on a scale normalised to -1...1.
    public struct Rating: Sendable, Equatable {
        public var source: Int32
        public var target: Int32
        /// -1 (worst) ... 1 (best); > 0 is a good trade.
        public var value: Double
        /// Unix seconds.
        public var time: Double
        /// How much the trade's value and its protection make this rating count (1 when unknown);
        /// see `evidenceWeight(amount:escrow:)`.
        public var evidence: Double

        public init(source: Int32, target: Int32, value: Double, time: Double, evidence: Double = 1) {
            precondition(source >= 0 && target >= 0, "user indexes are non-negative")
            self.source = source
            self.target = target
            self.value = max(-1, min(1, value))
            self.time = time
            self.evidence = evidence
        }
    }

    /// How much a rating counts for the trade behind it: more for larger trades (logarithmically,
    /// from 0.5 for a trifle to 1 from about 1 000 in major units of its currency) and less when
    /// the money did not go through escrow (the trade may never have happened).
    public static func evidenceWeight(amount: Money?, escrow: Bool) -> Double {
        var weight = 1.0
        if let amount {
            let units = max(0, Double(amount.amountMinor) / Double(amount.currency.minorUnitsPerMajor))
            weight = 0.5 + 0.5 * min(1, log10(1 + units) / 3)
        }
        return escrow ? weight : weight * 0.6
    }

    struct UserState: Sendable {
        var first = Double.nan
        var reference = 0.0
        var positiveLong = 0.0, negativeLong = 0.0
        var positiveShort = 0.0, negativeShort = 0.0
        var positiveAll = 0.0, negativeAll = 0.0
        var given: Int32 = 0, givenNegative: Int32 = 0
        var received: Int32 = 0, receivedNegative: Int32 = 0
        var vouch = 0.0
        /// Cut when someone this user invited turned out to be a fraudster (A3).
        var vouchingFactor = 1.0
        var fairnessSum = 0.0, fairnessWeight = 0.0
        var swarmedWith: Int32 = 0
        var boostedBySwarm: Int32 = 0
        /// A seed (a verified identity, a founding member) from `seedSince` until `seedUntil`.
        var seedSince = Double.infinity, seedUntil = Double.infinity
        /// Standing from the last recomputation, and what good ratings added since.
        var standing: Float = 0, provisionalStanding: Float = 0

        var exists: Bool { !first.isNaN }
    }

    struct PairState: Sendable {
        var count: Int32 = 0
        var lastValue: Float = 0
        var credibilityAtRating: Float = 0
        var hasPositive = false
        var neutralized = false
        var time = 0.0
        var positiveAll: Float = 0, negativeAll: Float = 0
        var positiveLong: Float = 0, negativeLong: Float = 0
        var positiveShort: Float = 0, negativeShort: Float = 0
    }

    struct SwarmEntry: Sendable {
        let source: Int32
        let time: Double
    }

    public let configuration: Configuration
    let longDecay: Double
    let shortDecay: Double
    var users: [UserState] = []
    var pairs: [UInt64: PairState] = [:]
    var outgoing: [[Int32]] = []
    var incoming: [[Int32]] = []
    var swarms: [UInt64: [SwarmEntry]] = [:]
    /// For standing: whom each user currently rates well (latest rating positive, not neutralised).
    var goodTies: [[Int32]] = []
    var standingState = StandingState()
    var model = PairModel()
    public private(set) var ratingsApplied = 0

    public init(configuration: Configuration = Configuration(), expectedUsers: Int = 0, expectedRatings: Int = 0) {
        self.configuration = configuration
        self.longDecay = log(2) / configuration.longHalfLife
        self.shortDecay = log(2) / configuration.shortHalfLife
        users.reserveCapacity(expectedUsers)
        outgoing.reserveCapacity(expectedUsers)
        incoming.reserveCapacity(expectedUsers)
        goodTies.reserveCapacity(expectedUsers)
        pairs.reserveCapacity(expectedRatings)
    }

    public var userCount: Int { users.count }

    static func key(_ source: Int32, _ target: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: source)) << 32 | UInt64(UInt32(bitPattern: target))
    }

    mutating func ensure(_ user: Int32, at time: Double) {
        let index = Int(user)
        grow(to: user)
        if !users[index].exists {
            users[index].first = time
            users[index].reference = time
        }
    }

    /// Makes room for `user` without making the engine know them.
    mutating func grow(to user: Int32) {
        let index = Int(user)
        if index >= users.count {
            let missing = index + 1 - users.count
            users.append(contentsOf: repeatElement(UserState(), count: missing))
            outgoing.append(contentsOf: repeatElement([], count: missing))
            incoming.append(contentsOf: repeatElement([], count: missing))
            goodTies.append(contentsOf: repeatElement([], count: missing))
        }
    }

    /// Whether the engine has seen this user.
    public func knows(_ user: Int32) -> Bool {
        Int(user) < users.count && users[Int(user)].exists
    }

    // MARK: The prequential step

    /// Predicts `rating` from everything before it, learns from its outcome, then applies it.
    /// Returns the prediction: the probability that the trade went well.
    @discardableResult
    public mutating func observe(_ rating: Rating) -> Double {
        let features = pairFeatures(source: rating.source, target: rating.target, at: rating.time)
        let probability = model.probability(features)
        model.learn(features, probability: probability, outcome: rating.value > 0)
        apply(rating)
        return probability
    }

    // MARK: Invitations (A3)

    /// An inviter vouches for the person they invited: a proven inviter adds `weight` times their
    /// credibility to the invitee's vouch (what makes an account proven before it is old). An
    /// unproven inviter's invitation adds nothing, so a ring cannot invite itself into trust.
    public mutating func vouch(for invitee: Int32, by inviter: Int32, at time: Double, weight: Double) {
        ensure(inviter, at: time)
        ensure(invitee, at: time)
        refreshStandingIfDue(at: time)
        recordInvitationTie(from: inviter, to: invitee)
        guard isProven(inviter, at: time) else { return }
        users[Int(invitee)].vouch += weight * credibility(of: inviter, at: time)
    }

    /// Someone `inviter` vouched for was banned for fraud: the inviter's ratings and vouches count
    /// for `factor` of what they did.
    public mutating func cutCredibility(of inviter: Int32, to factor: Double) {
        guard knows(inviter) else { return }
        users[Int(inviter)].vouchingFactor = min(users[Int(inviter)].vouchingFactor, max(0, min(1, factor)))
    }

    /// Applies a rating to the state (without predicting or learning).
    public mutating func apply(_ rating: Rating) {
        let source = Int(rating.source)
        let target = Int(rating.target)
        ensure(rating.source, at: rating.time)
        ensure(rating.target, at: rating.time)
        refreshStandingIfDue(at: rating.time)
        ratingsApplied += 1
        let time = max(rating.time, users[target].reference)
        let credibility = self.credibility(of: rating.source, at: time)
        let proven = isProven(rating.source, at: time)

        // The rater's fairness: how far the rating is from what the target's record said, counted
        // in proportion to how much that record says.
        let targetConfidence = confidence(of: rating.target, at: time)
        if targetConfidence > 0 {
            let expected = 2 * trustValue(of: rating.target, at: time) - 1
            users[source].fairnessSum += (1 - abs(rating.value - expected) / 2) * targetConfidence
            users[source].fairnessWeight += targetConfidence
        }

        decay(rating.target, to: time)
        let key = Self.key(rating.source, rating.target)
        var pair = pairs[key] ?? PairState()
        let isNewPair = pair.count == 0
        let wasGoodTie = !isNewPair && pair.lastValue > 0 && !pair.neutralized
        pair.count += 1
        // A rater's repeated ratings of one user count 1, 1/2, 1/3, … so that one loyal (or
        // colluding) partner cannot stand in for many.
        let magnitude = 0.5 + 0.5 * abs(rating.value)
        let weight = credibility * magnitude * rating.evidence / Double(pair.count)
        decay(&pair, to: time)
        if !pair.neutralized {
            add(weight, positive: rating.value > 0, to: target, pair: &pair)
        }
        if rating.value > 0, !pair.hasPositive {
            pair.hasPositive = true
            // Vouching comes only from proven accounts, so a ring of new accounts cannot vouch
            // each other into credibility.
            if proven { users[target].vouch += credibility }
        }
        pair.lastValue = Float(rating.value)
        pair.credibilityAtRating = Float(credibility)
        pairs[key] = pair
        let isGoodTie = rating.value > 0 && !pair.neutralized
        if isGoodTie, !wasGoodTie {
            addGoodTie(from: rating.source, to: rating.target)
        } else if wasGoodTie, !isGoodTie {
            dropGoodTie(from: rating.source, to: rating.target)
        }

        users[source].given += 1
        users[target].received += 1
        if rating.value <= 0 {
            users[source].givenNegative += 1
            users[target].receivedNegative += 1
        }
        if isNewPair {
            outgoing[source].append(rating.target)
            incoming[target].append(rating.source)
        }
        if !proven, abs(rating.value) >= configuration.extreme {
            recordSwarmMember(rating.source, target: rating.target, positive: rating.value > 0, at: time)
        }
    }

    private mutating func add(_ weight: Double, positive: Bool, to target: Int, pair: inout PairState) {
        if positive {
            users[target].positiveLong += weight
            users[target].positiveShort += weight
            users[target].positiveAll += weight
            pair.positiveLong += Float(weight)
            pair.positiveShort += Float(weight)
            pair.positiveAll += Float(weight)
        } else {
            let negative = weight * configuration.negativeWeight
            users[target].negativeLong += negative
            users[target].negativeShort += negative
            users[target].negativeAll += negative
            pair.negativeLong += Float(negative)
            pair.negativeShort += Float(negative)
            pair.negativeAll += Float(negative)
        }
    }

    /// Many unproven accounts rating one user at the same extreme within a week is a swarm:
    /// sock puppets boosting or bad-mouthing. Once the swarm is big enough, every member's
    /// ratings of that user are taken out of the user's record, now and later.
    private mutating func recordSwarmMember(_ source: Int32, target: Int32, positive: Bool, at time: Double) {
        let swarmKey = UInt64(UInt32(bitPattern: target)) << 1 | (positive ? 1 : 0)
        var members = swarms[swarmKey] ?? []
        members.removeAll { time - $0.time > configuration.swarmWindow }
        if !members.contains(where: { $0.source == source }) {
            members.append(SwarmEntry(source: source, time: time))
        }
        swarms[swarmKey] = members
        guard members.count >= configuration.swarmSize else { return }
        let size = Int32(members.count)
        if positive { users[Int(target)].boostedBySwarm = max(users[Int(target)].boostedBySwarm, size) }
        decay(target, to: time)
        for member in members {
            users[Int(member.source)].swarmedWith = max(users[Int(member.source)].swarmedWith, size)
            let key = Self.key(member.source, target)
            guard var pair = pairs[key], !pair.neutralized else { continue }
            decay(&pair, to: time)
            let index = Int(target)
            users[index].positiveLong = max(0, users[index].positiveLong - Double(pair.positiveLong))
            users[index].negativeLong = max(0, users[index].negativeLong - Double(pair.negativeLong))
            users[index].positiveShort = max(0, users[index].positiveShort - Double(pair.positiveShort))
            users[index].negativeShort = max(0, users[index].negativeShort - Double(pair.negativeShort))
            users[index].positiveAll = max(0, users[index].positiveAll - Double(pair.positiveAll))
            users[index].negativeAll = max(0, users[index].negativeAll - Double(pair.negativeAll))
            if pair.lastValue > 0 { dropGoodTie(from: member.source, to: target) }
            pair.neutralized = true
            pairs[key] = pair
        }
    }

    // MARK: Decay

    private mutating func decay(_ user: Int32, to time: Double) {
        let index = Int(user)
        let elapsed = time - users[index].reference
        guard elapsed > 0 else { return }
        let long = exp(-longDecay * elapsed)
        let short = exp(-shortDecay * elapsed)
        users[index].positiveLong *= long
        users[index].negativeLong *= long
        users[index].positiveShort *= short
        users[index].negativeShort *= short
        users[index].reference = time
    }

    private func decay(_ pair: inout PairState, to time: Double) {
        let elapsed = time - pair.time
        if elapsed > 0, pair.positiveLong != 0 || pair.negativeLong != 0 || pair.positiveShort != 0 || pair.negativeShort != 0 {
            let long = Float(exp(-longDecay * elapsed))
            let short = Float(exp(-shortDecay * elapsed))
            pair.positiveLong *= long
            pair.negativeLong *= long
            pair.positiveShort *= short
            pair.negativeShort *= short
        }
        pair.time = max(pair.time, time)
    }

    /// The user's evidence as of `time`: (positive, negative) in the long-term and the recent record.
    func evidence(of user: Int32, at time: Double) -> (positive: Double, negative: Double, recentPositive: Double, recentNegative: Double) {
        guard knows(user) else { return (0, 0, 0, 0) }
        let state = users[Int(user)]
        let elapsed = max(0, time - state.reference)
        let long = exp(-longDecay * elapsed)
        let short = exp(-shortDecay * elapsed)
        let floor = configuration.evidenceFloor
        return (
            floor * state.positiveAll + (1 - floor) * state.positiveLong * long,
            floor * state.negativeAll + (1 - floor) * state.negativeLong * long,
            state.positiveShort * short,
            state.negativeShort * short
        )
    }

    // MARK: Per-user values

    /// How much of the user's record is real evidence: 0 (nothing) ... 1.
    public func confidence(of user: Int32, at time: Double) -> Double {
        let evidence = evidence(of: user, at: time)
        let amount = evidence.positive + evidence.negative
        return amount / (amount + 5)
    }

    /// The probability-like trust in a user as a trading party, 0 ... 1 (0.5 when unknown).
    public func trustValue(of user: Int32, at time: Double) -> Double {
        let evidence = evidence(of: user, at: time)
        let long = (evidence.positive + 1) / (evidence.positive + evidence.negative + 2)
        let recent = (evidence.recentPositive + 1) / (evidence.recentPositive + evidence.recentNegative + 2)
        // Quick to lose: when the recent record is worse than the long one, it pulls trust down in
        // proportion to how much recent trouble there is. (Only bad evidence sets the pull, so a
        // good rating can never lower trust: it raises the long mean and narrows the gap.)
        return long - max(0, long - recent) * recentTrouble(evidence.recentNegative)
    }

    /// How far recent complaints pulled trust below the long record, 0 ... 1 (0 when the recent
    /// record is no worse): the "trust fell sharply" of the risk warnings.
    public func recentFall(of user: Int32, at time: Double) -> Double {
        let evidence = evidence(of: user, at: time)
        let long = (evidence.positive + 1) / (evidence.positive + evidence.negative + 2)
        return long - trustValue(of: user, at: time)
    }

    /// How much the recent record's complaints count against the long record, 0 ... 1.
    func recentTrouble(_ recentNegative: Double) -> Double {
        recentNegative / (recentNegative + 3)
    }

    /// Whether an account is proven: old enough, or vouched for by proven accounts; and, once
    /// the network has seeds, with standing that flowed in from them (a seed is always proven).
    public func isProven(_ user: Int32, at time: Double) -> Bool {
        guard knows(user) else { return false }
        let state = users[Int(user)]
        if standingState.active {
            if state.seedSince <= time, time < state.seedUntil { return true }
            guard Double(state.standing + state.provisionalStanding) >= configuration.standingThreshold else { return false }
        }
        return time - state.first >= configuration.provenAge || state.vouch >= configuration.provenVouch
    }

    /// How fair the user is as a rater: agreement of their ratings with the record of those they
    /// rated, 0 ... 1 (0.7 before there is evidence).
    public func fairness(of user: Int32) -> Double {
        guard knows(user) else { return 0.7 }
        let state = users[Int(user)]
        return (state.fairnessSum + 2 * 0.7) / (state.fairnessWeight + 2)
    }

    /// How much the user's ratings count, 0 ... 1: nothing during probation, then growing with
    /// tenure, full only for proven accounts, and scaled by fairness.
    public func credibility(of user: Int32, at time: Double) -> Double {
        guard knows(user) else { return 0 }
        let age = time - users[Int(user)].first
        guard age >= configuration.probation else { return 0 }
        let tenure = 1 - exp(-(age - configuration.probation) / configuration.tenureScale)
        return fairness(of: user) * tenure * (isProven(user, at: time) ? 1 : configuration.unprovenFactor) * users[Int(user)].vouchingFactor
    }

    public func ratingsReceived(by user: Int32) -> Int { knows(user) ? Int(users[Int(user)].received) : 0 }
    public func ratingsGiven(by user: Int32) -> Int { knows(user) ? Int(users[Int(user)].given) : 0 }

    /// How much one rater's ratings of a user count in that user's record now (0 once neutralised).
    public func ratingWeight(source: Int32, target: Int32) -> Double {
        guard let pair = pairs[Self.key(source, target)], !pair.neutralized else { return 0 }
        return Double(pair.credibilityAtRating)
    }

    /// The users this one rated, and the users who rated this one.
    public func partners(of user: Int32) -> (rated: [Int32], ratedBy: [Int32]) {
        guard knows(user) else { return ([], []) }
        return (outgoing[Int(user)], incoming[Int(user)])
    }

    /// The latest rating `source` gave `target` (-1 ... 1), if any.
    public func lastRating(source: Int32, target: Int32) -> Double? {
        pairs[Self.key(source, target)].map { Double($0.lastValue) }
    }
}
