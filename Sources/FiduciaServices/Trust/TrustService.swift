import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// The trust engine in the server: an in-memory cache of the engine's state, rebuilt from the
/// published ratings and kept up to date by following them in publication order, so that every
/// server (each has its own cache) computes the same values.
public actor TrustService {
    let store: Store
    let clock: any WallClock
    private var engine = TrustEngine()
    private var indexes: [UserID: Int32] = [:]
    private var users: [UserID] = []
    private var lastPublication: Int64 = 0
    private var lastSync: Date?
    /// Invitations are followed like ratings: by the time they were used.
    private var lastInvitation: Date = .distantPast
    private var cutInviters: Set<UserID> = []
    /// Verified identities seeding standing (D4), as given to the engine.
    private var seeds: [UserID: IdentitySeed] = [:]
    private var alertsCache: (publication: Int64, alerts: [FraudAlert])?
    /// A server checks for new ratings at most this often when asked (by the injected clock).
    let freshness: TimeInterval

    public init(store: Store, clock: any WallClock, freshnessSeconds freshness: TimeInterval = 0.5) {
        self.store = store
        self.clock = clock
        self.freshness = freshness
    }

    /// A user the engine flags, with why.
    public struct FraudAlert: Sendable, Equatable {
        public let user: UserID
        public let assessment: FraudAssessment
    }

    /// Applies every rating published since the last call, in order. The first call replays
    /// them all: that is the engine's full recompute.
    public func sync(force: Bool = false) async throws {
        let started = clock.now()
        if !force, let lastSync, started.timeIntervalSince(lastSync) < freshness, started >= lastSync { return }
        // Seeds first: the engine uses only their times, so a rebuild, which sees every seed
        // before replaying the ratings, computes what the servers that followed along did.
        let identitySeeds = try await store.read { try await $0.verifications.identitySeeds() }
        var merged: [UserID: IdentitySeed] = [:]
        for seed in identitySeeds {
            guard let earlier = merged[seed.user] else { merged[seed.user] = seed; continue }
            let until = earlier.until.flatMap { first in seed.until.map { max(first, $0) } }
            merged[seed.user] = IdentitySeed(user: seed.user, since: min(earlier.since, seed.since), until: until)
        }
        for (_, seed) in merged.sorted(by: { $0.key < $1.key }) where seeds[seed.user] != seed {
            let user = index(seed.user)
            engine.addSeed(user, at: seed.since.timeIntervalSince1970)
            if let until = seed.until { engine.removeSeed(user, at: until.timeIntervalSince1970) }
            seeds[seed.user] = seed
        }
        while true {
            let after = lastPublication
            let batch = try await store.read { try await $0.ratings.published(after: after, limit: 5_000) }
            for published in batch where published.publication > lastPublication {
                engine.apply(engineRating(published.rating))
                lastPublication = published.publication
            }
            if batch.count < 5_000 { break }
        }
        // Invitations (A3): each used invitation is the inviter vouching for the invitee; an
        // inviter whose invitee was banned for fraud within a year has their credibility cut.
        let since = lastInvitation
        let (used, cut) = try await store.read { repositories in
            (try await repositories.invitations.used(since: since, limit: 10_000), try await repositories.invitations.invitersOfFraudsters())
        }
        for invitation in used {
            guard let invitee = invitation.usedBy, let at = invitation.usedAt else { continue }
            engine.vouch(for: index(invitee), by: index(invitation.inviterID), at: at.timeIntervalSince1970, weight: InvitationRules.vouchWeight)
            lastInvitation = max(lastInvitation, at)
        }
        for inviter in cut where !cutInviters.contains(inviter) {
            engine.cutCredibility(of: index(inviter), to: InvitationRules.fraudulentInviteeCredibilityFactor)
            cutInviters.insert(inviter)
        }
        lastSync = started
    }

    /// How many ratings the engine has applied.
    public var appliedRatings: Int { engine.ratingsApplied }

    private func index(_ user: UserID) -> Int32 {
        if let index = indexes[user] { return index }
        let index = Int32(users.count)
        users.append(user)
        indexes[user] = index
        return index
    }

    private func engineRating(_ rating: Rating) -> TrustEngine.Rating {
        let evidence = TrustEngine.evidenceWeight(amount: Money(amountMinor: rating.orderTotalMinor, currency: rating.currency), escrow: true) * (rating.flags.isEmpty ? 1 : 0.5)
        return TrustEngine.Rating(
            source: index(rating.raterID), target: index(rating.rateeID), value: rating.engineValue,
            time: (rating.publishedAt ?? rating.createdAt).timeIntervalSince1970, evidence: evidence
        )
    }

    private var now: Double { clock.now().timeIntervalSince1970 }

    // MARK: Questions

    /// How much a rater's rating of a ratee counts: the rater's credibility when they rated, and
    /// whether the engine neutralised it as part of a swarm. Nil when the engine has not seen it.
    public func ratingWeight(rater: UserID, ratee: UserID) -> (credibility: Double, neutralized: Bool)? {
        guard let source = indexes[rater], let target = indexes[ratee], engine.lastRating(source: source, target: target) != nil else { return nil }
        let weight = engine.ratingWeight(source: source, target: target)
        return (weight, weight == 0 && engine.fraudRisk(of: source, at: now).reasons.contains { $0.kind == .swarm })
    }

    public func trust(of user: UserID) -> TrustEstimate {
        guard let index = indexes[user] else { return TrustEngine().explainTrust(of: 0, at: now) }
        return engine.explainTrust(of: index, at: now)
    }

    /// How far recent complaints pulled the user's trust below their long record.
    public func recentFall(of user: UserID) -> Double {
        indexes[user].map { engine.recentFall(of: $0, at: now) } ?? 0
    }

    public func credibility(of user: UserID) -> Double {
        indexes[user].map { engine.credibility(of: $0, at: now) } ?? 0
    }

    public func fairness(of user: UserID) -> Double {
        indexes[user].map { engine.fairness(of: $0) } ?? 0.7
    }

    public func fraudRisk(of user: UserID) -> FraudAssessment {
        indexes[user].map { engine.fraudRisk(of: $0, at: now) } ?? .none
    }

    /// "How this party has treated people like you", for a signed-in viewer.
    public func personalized(viewer: UserID, party: UserID) -> PersonalizedTrust {
        engine.personalizedTrust(viewer: index(viewer), party: index(party), at: now)
    }

    /// The moderators' queue: the engine's alerts with the sudden changes in orders and ratings
    /// (`ActivityAlerts`) added, riskiest first.
    public func moderationAlerts(minimumRisk: Double = FraudAssessment.alertThreshold) async throws -> [FraudAlert] {
        let now = clock.now()
        let (volumes, shares) = try await store.read { repositories in
            (
                try await repositories.social.weeklyVolumes(weekStart: now.addingTimeInterval(-7 * 86_400), minimum: ActivityAlerts.minimumWeeklyOrders),
                try await repositories.social.ratingShares(recentStart: now.addingTimeInterval(-30 * 86_400), minimum: ActivityAlerts.minimumRecentNegatives)
            )
        }
        var extra: [UserID: [FraudAssessment.Reason]] = [:]
        for volume in volumes {
            if let reason = ActivityAlerts.volumeJump(thisWeek: volume.thisWeek, previousFourWeeks: volume.previousFourWeeks) { extra[volume.seller, default: []].append(reason) }
        }
        for share in shares {
            if let reason = ActivityAlerts.negativeRateJump(recentNegative: share.recentNegative, recentTotal: share.recentTotal,
                                                            earlierNegative: share.earlierNegative, earlierTotal: share.earlierTotal) {
                extra[share.merchant, default: []].append(reason)
            }
        }
        var alerts = fraudAlerts(minimumRisk: 0.3)
        for (index, alert) in alerts.enumerated() {
            if let reasons = extra.removeValue(forKey: alert.user) { alerts[index] = FraudAlert(user: alert.user, assessment: ActivityAlerts.adding(reasons, to: alert.assessment)) }
        }
        for (user, reasons) in extra {
            let engine = indexes[user].map { self.engine.fraudRisk(of: $0, at: now.timeIntervalSince1970) } ?? .none
            alerts.append(FraudAlert(user: user, assessment: ActivityAlerts.adding(reasons, to: engine)))
        }
        alerts.sort { $0.assessment.risk != $1.assessment.risk ? $0.assessment.risk > $1.assessment.risk : $0.user < $1.user }
        return alerts.filter { $0.assessment.risk >= minimumRisk }
    }

    /// Users whose fraud risk reaches the alert threshold, riskiest first. Recomputed only when
    /// new ratings arrived since the last time.
    public func fraudAlerts(minimumRisk: Double = FraudAssessment.alertThreshold) -> [FraudAlert] {
        if let cache = alertsCache, cache.publication == lastPublication {
            return cache.alerts.filter { $0.assessment.risk >= minimumRisk }
        }
        let time = now
        var alerts: [FraudAlert] = []
        for (index, user) in users.enumerated() {
            let assessment = engine.fraudRisk(of: Int32(index), at: time)
            if assessment.risk >= 0.3 { alerts.append(FraudAlert(user: user, assessment: assessment)) }
        }
        alerts.sort { $0.assessment.risk != $1.assessment.risk ? $0.assessment.risk > $1.assessment.risk : $0.user < $1.user }
        alertsCache = (lastPublication, alerts)
        return alerts.filter { $0.assessment.risk >= minimumRisk }
    }
}
