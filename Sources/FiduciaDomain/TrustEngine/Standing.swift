import Foundation

/// Standing: the defence against patient sock puppets (D4).
///
/// Age alone cannot prove an account: accounts are created, left to age and sold. Once the
/// marketplace has seeds (verified identities, founding members), credibility has to flow in
/// from them. Standing is a short random walk with restart at the seeds (TrustRank, in the spirit
/// of SybilRank's early-terminated walk) over good ties: whom each account currently rates well,
/// and whom it invited. Each step an account passes `standingDamping` of its standing on, split
/// evenly between its ties, so the total is conserved: a ring whose only ties are to each other
/// and to its target receives nothing, however old, and a few ties bought from honest accounts
/// bring in only those accounts' small shares, spread over the whole ring.
///
/// Standing is scaled so that the average known account has 1; an account needs
/// `standingThreshold` to be proven. Every value depends only on the ratings, seeds and
/// invitations applied and their times, so a replay gives exactly the incremental state.
struct StandingState: Sendable {
    /// Whether standing gates proof: enough seeds existed at the last recomputation.
    var active = false
    /// The time of the last recomputation, and the number of good ties then.
    var computedAt = -Double.infinity
    var tiesAtComputation = 0
    /// Good ties now (ratings and invitations).
    var ties = 0
    /// When seeds start and stop, in order: a recomputation is due once one has passed.
    var seedEvents: [Double] = []
    var recomputations = 0
    /// Invitations (inviter → invitees) count as good ties.
    var invited: [Int32: [Int32]] = [:]
}

extension TrustEngine {
    /// Makes `user` a seed from `time` on (a verified identity, a founding member): always
    /// proven, and the source of standing.
    /// The order of seeds and ratings does not matter: only the times do.
    public mutating func addSeed(_ user: Int32, at time: Double) {
        grow(to: user)
        users[Int(user)].seedSince = min(users[Int(user)].seedSince, time)
        users[Int(user)].seedUntil = .infinity
        recordSeedEvent(at: time)
    }

    /// `user` stops being a seed at `time` (the verification expired or was revoked).
    public mutating func removeSeed(_ user: Int32, at time: Double) {
        guard Int(user) < users.count, users[Int(user)].seedSince <= time else { return }
        users[Int(user)].seedUntil = min(users[Int(user)].seedUntil, time)
        recordSeedEvent(at: time)
    }

    private mutating func recordSeedEvent(at time: Double) {
        let position = standingState.seedEvents.partitioningIndex { $0 > time }
        standingState.seedEvents.insert(time, at: position)
    }

    /// Whether a seed started or stopped after the last recomputation, by `time`.
    private func seedsChanged(by time: Double) -> Bool {
        let events = standingState.seedEvents
        let position = events.partitioningIndex { $0 > standingState.computedAt }
        return position < events.count && events[position] <= time
    }

    /// The user's standing, 1 being the average account's; nil while standing does not apply
    /// (fewer than `minimumSeeds` seeds).
    public func standing(of user: Int32) -> Double? {
        guard standingState.active else { return nil }
        guard knows(user) else { return 0 }
        return Double(users[Int(user)].standing + users[Int(user)].provisionalStanding)
    }

    /// Whether the user is a seed at `time`.
    public func isSeed(_ user: Int32, at time: Double) -> Bool {
        guard Int(user) < users.count else { return false }
        return users[Int(user)].seedSince <= time && time < users[Int(user)].seedUntil
    }

    /// How many times standing was recomputed (for benchmarks and tests).
    public var standingRecomputations: Int { standingState.recomputations }

    mutating func recordInvitationTie(from inviter: Int32, to invitee: Int32) {
        standingState.invited[inviter, default: []].append(invitee)
        standingState.ties += 1
        passOnStanding(from: inviter, to: invitee)
    }

    /// A new good tie passes on the rater's recomputed standing share at once, one step only
    /// (provisional standing is not passed on), so a new honest account rated well by an
    /// established one need not wait for the next recomputation, and a chain of fresh accounts
    /// cannot relay standing between recomputations.
    mutating func passOnStanding(from source: Int32, to target: Int32) {
        guard standingState.active else { return }
        let standing = users[Int(source)].standing
        guard standing > 0 else { return }
        let ties = goodTies[Int(source)].count + invitedCount(by: source)
        users[Int(target)].provisionalStanding += Float(configuration.standingDamping) * standing / Float(max(1, ties))
    }

    func invitedCount(by user: Int32) -> Int {
        standingState.invited.isEmpty ? 0 : standingState.invited[user]?.count ?? 0
    }

    mutating func addGoodTie(from source: Int32, to target: Int32) {
        goodTies[Int(source)].append(target)
        standingState.ties += 1
        passOnStanding(from: source, to: target)
    }

    mutating func dropGoodTie(from source: Int32, to target: Int32) {
        if let position = goodTies[Int(source)].lastIndex(of: target) {
            goodTies[Int(source)].remove(at: position)
            standingState.ties -= 1
        }
    }

    /// Recomputes standing at the first event at least `standingInterval` after the last time
    /// when the ties grew enough or the seeds changed, and in any case after
    /// `standingMaximumInterval` if anything changed.
    mutating func refreshStandingIfDue(at time: Double) {
        let state = standingState
        guard time - state.computedAt >= configuration.standingInterval else { return }
        let seedsChanged = self.seedsChanged(by: time)
        guard seedsChanged || state.ties != state.tiesAtComputation else { return }
        let grown = Double(state.ties) >= Double(state.tiesAtComputation) * (1 + configuration.standingGrowth)
        guard seedsChanged || grown || time - state.computedAt >= configuration.standingMaximumInterval else { return }
        recomputeStanding(at: time)
    }

    /// The walk itself: `standingSteps` steps of a random walk with restart at the seeds active
    /// at `time`, in O(steps × (users + ties)).
    mutating func recomputeStanding(at time: Double) {
        standingState.computedAt = time
        standingState.tiesAtComputation = standingState.ties
        standingState.recomputations += 1
        let count = users.count
        var seeds: [Int] = []
        for index in 0..<count where users[index].seedSince <= time && time < users[index].seedUntil {
            seeds.append(index)
        }
        standingState.active = seeds.count >= configuration.minimumSeeds
        guard standingState.active else {
            for index in 0..<count { users[index].standing = 0; users[index].provisionalStanding = 0 }
            return
        }
        // Single precision keeps the two vectors of a million-account network in the cache; the
        // order of the sums is fixed, so the result is the same on every replay.
        let damping = Float(configuration.standingDamping)
        let invitations = standingState.invited
        let restartShare = 1 / Float(seeds.count)
        var walk = [Float](repeating: 0, count: count)
        for seed in seeds { walk[seed] = restartShare }
        var next = [Float](repeating: 0, count: count)
        for _ in 0..<configuration.standingSteps {
            var kept: Double = 0
            for user in 0..<count where walk[user] > 0 {
                let mass = walk[user]
                let rated = goodTies[user]
                let invited = invitations.isEmpty ? [] : invitations[Int32(user)] ?? []
                let ties = rated.count + invited.count
                guard ties > 0 else { continue }
                let share = damping * mass / Float(ties)
                for target in rated { next[Int(target)] += share }
                for target in invited { next[Int(target)] += share }
                kept += Double(damping * mass)
            }
            // What was not passed on (the restart share, and everything at accounts without
            // ties) goes back to the seeds: the total stays 1.
            let restart = Float(max(0, 1 - kept)) * restartShare
            for seed in seeds { next[seed] += restart }
            swap(&walk, &next)
            for user in 0..<count { next[user] = 0 }
        }
        var known = 0
        for index in 0..<count where users[index].exists { known += 1 }
        let scale = Double(known)
        for index in 0..<count {
            users[index].standing = Float(Double(walk[index]) * scale)
            users[index].provisionalStanding = 0
        }
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, for an array where every element that
    /// does comes after every element that does not (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
