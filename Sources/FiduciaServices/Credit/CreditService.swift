import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Everything the public trust profile (F1) and `getTrustProfile` show about a user in a role.
public struct TrustProfile: Sendable {
    public struct Period: Sendable {
        public let name: String
        public let counts: RatingCounts
    }

    public let user: User
    public let role: Role
    public let score: CreditScore
    public let periods: [Period]
    public let detailedAverages: (itemAsDescribed: Double, serviceAttitude: Double, shippingSpeed: Double, count: Int)?
    public let completedTrades: Int
    public let refundedTrades: Int
    /// The security deposit valued in the reference currency, as the score counts it (nil: none).
    public let deposit: Money?
    public let history: [ScorePoint]
    public let tierChanges: [(at: Date, from: Tier, to: Tier)]
    public let commendations: [String]
    public let engineTrust: TrustEstimate
    public let personalized: PersonalizedTrust?
    /// Disputes in the last year: opened about the user's trades, lost, settled by agreement.
    public let disputes: DisputeStats
    /// A seller's median time to answer a buyer's first message over 90 days (nil: no messages).
    public let responseTimeSeconds: TimeInterval?
    /// The public violation record (D1), newest first.
    public let violations: [Penalty]
    public let standing: AccountStanding
    /// The verification levels valid now (A2): which, never the data behind them.
    public var verifiedLevels: Set<VerificationLevel> = []
    /// Certification seals (A4), newest first, with their live status.
    public var seals: [Seal] = []
}

/// The credit score and tiers (C3, C4, C6, A5), the trust profile, and honest-seller commendations (C7).
public struct CreditService: Sendable {
    let store: Store
    let clock: any WallClock
    let trust: TrustService
    let ids: IdentifierGenerator
    /// Deposits in several currencies are valued in one reference currency.
    let exchangeRates: ExchangeRates
    static let refreshJobKind = "credit.refresh"
    static let commendationJobKind = "commendations.monthly"

    init(store: Store, clock: any WallClock, random: any RandomSource, trust: TrustService, exchangeRates: ExchangeRates) {
        self.store = store
        self.clock = clock
        self.trust = trust
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.exchangeRates = exchangeRates
    }

    /// Asks for a user's score in a role to be recomputed soon. Requests within the same minute
    /// share one job.
    static func scheduleRefresh(_ user: UserID, role: Role, in repositories: Repositories, now: Date, ids: IdentifierGenerator) async throws {
        let minute = Int(now.timeIntervalSince1970 / 60)
        try await repositories.jobs.schedule(
            Job(id: ids.make(), kind: refreshJobKind, uniqueKey: "\(refreshJobKind):\(user):\(role.rawValue):\(minute)",
                payload: "\(user.rawValue) \(role.rawValue)", dueAt: now),
            now: now
        )
    }

    /// What the score is computed from, read from the database and the trust engine.
    func history(of user: User, role: Role, in repositories: Repositories, now: Date) async throws -> CreditHistory {
        let side: RatingSide = role == .seller ? .buyerRatesSeller : .sellerRatesBuyer
        var received: [CreditHistory.ReceivedRating] = []
        for rating in try await repositories.ratings.allReceived(by: user.id, side: side) {
            let weight = await trust.ratingWeight(rater: rating.raterID, ratee: user.id)
            received.append(.init(
                overall: rating.overall, orderTotal: Money(amountMinor: rating.orderTotalMinor, currency: rating.currency), at: rating.publishedAt ?? rating.createdAt,
                raterCredibility: weight?.credibility, neutralized: weight?.neutralized ?? false, flagged: !rating.flags.isEmpty
            ))
        }
        let filter: OrderFilter = role == .seller ? .seller(user.id) : .buyer(user.id)
        var history = CreditHistory(role: role, memberSince: user.createdAt, ratings: received)
        let disputes = try await repositories.disputes.stats(user: user.id, asSeller: role == .seller, since: now.addingTimeInterval(-SellerRecord.disputeWindowSeconds))
        history.disputesOpened = disputes.opened
        history.disputesLost = disputes.lost
        history.penaltyPoints = try await PenaltyService.standing(of: user.id, in: repositories, now: now).points
        history.completedTrades = try await repositories.orders.count(filter, status: .completed)
        history.refundedTrades = try await repositories.orders.count(filter, status: .refunded)
        // The newcomer's way in (C4): verified levels, seals and an inviter's vouch, as of now.
        history.verifiedLevels = try await repositories.verifications.verifiedLevels(users: [user.id], now: now)[user.id] ?? []
        history.activeSeals = try await repositories.seals.activeSeals(merchants: [user.id], now: now)[user.id] ?? 0
        history.vouchedByInviter = try await InvitationService.vouches(for: user.id, in: repositories, now: now)
        if role == .seller {
            let shipping = try await repositories.orders.shippingRecord(
                seller: user.id, since: now.addingTimeInterval(-SellerRecord.shippingWindowSeconds), onTimeSeconds: SellerRecord.onTimeShippingSeconds
            )
            history.shippedOrders = shipping.shipped
            history.shippedOnTime = shipping.onTime
            let deposits = try await repositories.ledger.accounts(owner: .user(user.id))
                .filter { $0.kind == .deposit && $0.balances.spendable > 0 }
                .map { Money(amountMinor: $0.balances.spendable, currency: $0.currency) }
            history.deposit = deposits.isEmpty ? nil : exchangeRates.total(deposits)
        }
        return history
    }

    /// Computes and stores a user's score in a role (the refresh job, and tests).
    @discardableResult
    func refresh(_ user: UserID, role: Role, in repositories: Repositories, now: Date) async throws -> CreditScore? {
        guard let account = try await repositories.users.find(user) else { return nil }
        try await trust.sync()
        let score = CreditScoring.score(try await history(of: account, role: role, in: repositories, now: now), now: now)
        let previous = try await repositories.credit.latest(user: user, role: role)
        try await repositories.credit.save(
            score, user: user, role: role,
            historyPoint: ScoreHistory.recordsPoint(previous: previous.map { ($0.score, $0.tier) }, new: score),
            tierChange: ScoreHistory.tierChange(previous: previous?.tier, new: score), at: now
        )
        return score
    }

    /// The score as of now, computed live (the stored one may be a moment old).
    public func score(of user: UserID, role: Role) async throws -> CreditScore {
        try await trust.sync()
        let now = clock.now()
        return try await store.read { repositories in
            guard let account = try await repositories.users.find(user) else { throw NotFoundError(entity: "user", id: user.rawValue) }
            return CreditScoring.score(try await history(of: account, role: role, in: repositories, now: now), now: now)
        }
    }

    /// The public trust profile of a user in a role; with the viewer's personalised view when
    /// someone is signed in.
    public func profile(of userID: UserID, role: Role, viewer: Principal) async throws -> TrustProfile {
        try await trust.sync()
        let now = clock.now()
        let side: RatingSide = role == .seller ? .buyerRatesSeller : .sellerRatesBuyer
        let profile = try await store.read { repositories -> TrustProfile in
            guard let user = try await repositories.users.find(userID), user.has(role) else { throw NotFoundError(entity: role == .seller ? "seller" : "buyer", id: userID.rawValue) }
            let history = try await history(of: user, role: role, in: repositories, now: now)
            let score = CreditScoring.score(history, now: now)
            var periods: [TrustProfile.Period] = []
            for (name, seconds) in SellerRecord.profilePeriods {
                periods.append(.init(name: name, counts: try await repositories.ratings.counts(ratee: userID, side: side, since: seconds.map { now.addingTimeInterval(-$0) })))
            }
            var profile = TrustProfile(
                user: user, role: role, score: score, periods: periods,
                detailedAverages: role == .seller ? try await repositories.ratings.detailedAverages(seller: userID) : nil,
                completedTrades: history.completedTrades, refundedTrades: history.refundedTrades, deposit: history.deposit,
                history: try await repositories.credit.history(user: userID, role: role, limit: 500),
                tierChanges: try await repositories.credit.tierChanges(user: userID, role: role),
                commendations: role == .seller ? try await repositories.credit.commendations(seller: userID) : [],
                engineTrust: await trust.trust(of: userID),
                personalized: nil,
                disputes: try await repositories.disputes.stats(user: userID, asSeller: role == .seller, since: now.addingTimeInterval(-SellerRecord.disputeWindowSeconds)),
                responseTimeSeconds: role == .seller ? try await MessageService.responseTime(of: userID, in: repositories, now: now) : nil,
                violations: try await repositories.penalties.penalties(user: userID),
                standing: try await PenaltyService.standing(of: userID, in: repositories, now: now)
            )
            profile.verifiedLevels = history.verifiedLevels
            profile.seals = role == .seller ? try await repositories.seals.seals(merchant: userID) : []
            return profile
        }
        guard let viewer = viewer.actingUser, viewer.id != userID else { return profile }
        var personal = TrustProfile(
            user: profile.user, role: profile.role, score: profile.score, periods: profile.periods, detailedAverages: profile.detailedAverages,
            completedTrades: profile.completedTrades, refundedTrades: profile.refundedTrades, deposit: profile.deposit,
            history: profile.history, tierChanges: profile.tierChanges, commendations: profile.commendations, engineTrust: profile.engineTrust,
            personalized: await trust.personalized(viewer: viewer.id, party: userID), disputes: profile.disputes,
            responseTimeSeconds: profile.responseTimeSeconds, violations: profile.violations, standing: profile.standing
        )
        personal.verifiedLevels = profile.verifiedLevels
        personal.seals = profile.seals
        return personal
    }

    /// What a buyer sees about the seller before paying: their record, deposit and score (the
    /// risk warnings come from `SocialService.riskWarnings`).
    public struct CheckoutSummary: Sendable {
        public let completedSales: Int
        public let deposit: Money
        public let memberSince: Date
        public let score: CreditScore
    }

    public func checkoutSummary(seller: UserID, currency: Currency) async throws -> CheckoutSummary {
        let score = try await self.score(of: seller, role: .seller)
        return try await store.read { repositories in
            guard let user = try await repositories.users.find(seller) else { throw NotFoundError(entity: "seller", id: seller.rawValue) }
            let completed = try await repositories.orders.count(.seller(seller), status: .completed)
            let deposit = try await repositories.ledger.account(owner: .user(seller), kind: .deposit, currency: currency)?.balances.spendable ?? 0
            return CheckoutSummary(
                completedSales: completed, deposit: Money(amountMinor: deposit, currency: currency), memberSince: user.createdAt, score: score
            )
        }
    }

    /// The home page's ranking (`SellerRanking`): the best sellers past the New tier.
    public func rankedSellers(limit: Int = 10) async throws -> [RankedSeller] {
        try await store.read { try await $0.credit.topSellers(tiers: SellerRanking.rankedTiers, limit: min(limit, 100)) }
    }

    /// Names the sellers who met the published criteria in `month` (idempotent).
    func commend(month: String, in repositories: Repositories, now: Date) async throws -> [UserID] {
        let sellers = try await qualifyingSellers(month: month, in: repositories)
        try await record(sellers, month: month, in: repositories, now: now)
        return sellers
    }

    /// The sellers whose record in `month` earns its commendation; only reads, page by page.
    func qualifyingSellers(month: String, in repositories: Repositories) async throws -> [UserID] {
        guard let (start, end) = MonthName.range(of: month) else { return [] }
        var commended: [UserID] = []
        var after: UserID?
        while true {
            let sellers = try await repositories.users.list(role: .seller, after: after, limit: 500)
            for seller in sellers {
                let record = try await repositories.orders.monthRecord(seller: seller.id, from: start, to: end, onTimeSeconds: SellerRecord.onTimeShippingSeconds)
                guard record.completedSales >= Commendations.minimumSales else { continue }
                let counts = try await repositories.ratings.counts(ratee: seller.id, side: .buyerRatesSeller, since: end.addingTimeInterval(-SellerRecord.ratingShareWindowSeconds))
                let score = try await repositories.credit.latest(user: seller.id, role: .seller)?.score ?? 0
                let month = Commendations.SellerMonth(
                    completedSales: record.completedSales, shipped: record.shipped, shippedOnTime: record.shippedOnTime,
                    openRefundRequests: try await repositories.orders.openRefundRequests(seller: seller.id),
                    positiveRatings: counts.positive, ratings: counts.total, score: score
                )
                if Commendations.qualifies(month) { commended.append(seller.id) }
            }
            guard sellers.count == 500 else { break }
            after = sellers.last?.id
        }
        return commended
    }

    private func record(_ sellers: [UserID], month: String, in repositories: Repositories, now: Date) async throws {
        guard let (start, _) = MonthName.range(of: month) else { return }
        for seller in sellers {
            try await repositories.credit.commend(seller: seller, month: MonthName.of(start), at: now)
        }
    }

    var jobHandlers: [JobHandler] {
        [
            JobHandler(kind: Self.refreshJobKind) { job, repositories, now in
                let parts = job.payload.split(separator: " ")
                guard parts.count == 2, let role = Role(rawValue: String(parts[1])) else { return }
                try await refresh(UserID(String(parts[0])), role: role, in: repositories, now: now)
            },
            // The month's records are read from a snapshot, outside the job's transaction, which
            // then only writes the commendations: every seller's record is read, but the write
            // lock is held for the inserts alone.
            JobHandler(kind: Self.commendationJobKind, outside: { job, _ in
                try await store.snapshot { try await qualifyingSellers(month: job.payload, in: $0) }
            }, then: { job, sellers, repositories, now in
                try await record(sellers, month: job.payload, in: repositories, now: now)
            }),
        ]
    }

    /// On the first day of each month, commend the sellers of the month before.
    static let monthly = RecurringJob(kind: commendationJobKind) { now in
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let startOfMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: now))!
        let previous = MonthName.of(startOfMonth.addingTimeInterval(-86_400))
        return ("\(commendationJobKind):\(previous)", startOfMonth, previous)
    }
}
