import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Merchants' customer care (F6): service commitments measured against what happened, and a
/// loyalty programme whose points live in a double-entry ledger of their own.
public struct CustomerCareService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator

    init(store: Store, clock: any WallClock, random: any RandomSource) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
    }

    // MARK: Service commitments

    /// A merchant's commitments and how often each was kept in the last 90 days (since it was set).
    public struct CommitmentReport: Sendable {
        public let commitments: ServiceCommitments
        public let shipping: ServiceCommitments.Record?
        public let answering: ServiceCommitments.Record?
        public let from: Date
    }

    public func commitments(of seller: UserID) async throws -> CommitmentReport? {
        let now = clock.now()
        return try await store.read { repositories in
            guard let commitments = try await repositories.customerCare.commitments(of: seller) else { return nil }
            let from = max(commitments.since, now.addingTimeInterval(-Double(ServiceCommitments.windowDays) * 86_400))
            var shipping: ServiceCommitments.Record?
            var answering: ServiceCommitments.Record?
            if let hours = commitments.shipWithinHours {
                shipping = ServiceCommitments.shipping(try await repositories.customerCare.shippingFacts(of: seller, since: from), within: hours, now: now)
            }
            if let hours = commitments.answerWithinHours {
                answering = ServiceCommitments.answering(try await repositories.customerCare.messageFacts(of: seller, since: from), within: hours, now: now)
            }
            return CommitmentReport(commitments: commitments, shipping: shipping, answering: answering, from: from)
        }
    }

    /// The seller publishes (or changes) their commitments; measuring starts again from now, so a
    /// promise is only ever judged on what happened while it was made.
    public func setCommitments(answerWithinHours: Int?, shipWithinHours: Int?, by principal: Principal) async throws -> CommitmentReport {
        let seller = try principal.requireRole(.seller)
        try ServiceCommitments.validate(answerWithinHours: answerWithinHours, shipWithinHours: shipWithinHours)
        let commitments = ServiceCommitments(answerWithinHours: answerWithinHours, shipWithinHours: shipWithinHours, since: clock.now())
        try await store.write { try await $0.customerCare.saveCommitments(commitments, of: seller.id) }
        return try await self.commitments(of: seller.id)!
    }

    // MARK: Loyalty

    public func programme(of seller: UserID) async throws -> LoyaltyProgramme? {
        try await store.read { try await $0.customerCare.programme(of: seller) }
    }

    /// The seller starts or changes their programme. A new rate applies to orders completed from
    /// now on; points already earned keep the rate they were earned at.
    public func setProgramme(pointsPerUnit: Int, levels: [LoyaltyProgramme.Level], by principal: Principal) async throws -> LoyaltyProgramme {
        let seller = try principal.requireRole(.seller)
        let programme = try LoyaltyProgramme.validated(pointsPerUnit: pointsPerUnit, levels: levels)
        let now = clock.now()
        try await store.write { try await $0.customerCare.saveProgramme(programme, of: seller.id, at: now) }
        return programme
    }

    public struct Membership: Sendable {
        public let seller: User
        public let points: Int64
        public let level: LoyaltyProgramme.Level
        public let next: LoyaltyProgramme.Level?
        public let toNext: Int64?
    }

    /// The signed-in buyer's points and level at each merchant they earned with.
    public func memberships(by principal: Principal) async throws -> [Membership] {
        let buyer = try principal.requireUser()
        return try await store.read { repositories in
            var result: [Membership] = []
            for (sellerID, points) in try await repositories.customerCare.memberships(of: buyer.id) {
                guard let seller = try await repositories.users.find(sellerID), let programme = try await repositories.customerCare.programme(of: sellerID) else { continue }
                let standing = programme.standing(points: points)
                result.append(Membership(seller: seller, points: points, level: standing.level, next: standing.next, toNext: standing.toNext))
            }
            return result
        }
    }

    /// The buyer's standing at one merchant (nil without a programme).
    public func membership(at seller: UserID, by principal: Principal) async throws -> (programme: LoyaltyProgramme, points: Int64)? {
        guard let buyer = principal.actingUser else { return nil }
        return try await store.read { repositories in
            guard let programme = try await repositories.customerCare.programme(of: seller) else { return nil }
            return (programme, try await repositories.customerCare.balance(.member(seller: seller, buyer: buyer.id)))
        }
    }

    /// Brings an order's points in line with what it is worth, inside the transaction that changed
    /// the order: earned when it completes (under a programme the merchant has then), taken back in
    /// proportion when money is refunded after completion, at the rate first used.
    static func settlePoints(for order: Order, previous: Order, in repositories: Repositories, now: Date, ids: IdentifierGenerator) async throws {
        guard order.completedAt != nil, order.status != previous.status || order.refundedMinor != previous.refundedMinor else { return }
        let (earned, firstRate) = try await repositories.customerCare.earned(order: order.id)
        let rate: Int
        if let firstRate {
            rate = firstRate
        } else if order.status == .completed, previous.status != .completed, let programme = try await repositories.customerCare.programme(of: order.sellerID) {
            rate = programme.pointsPerUnit
        } else {
            return
        }
        let (kept, overflow) = order.totalMinor.subtractingReportingOverflow(order.refundedMinor)
        let target = overflow ? 0 : LoyaltyProgramme.points(keptMinor: kept, minorUnitsPerMajor: order.currency.minorUnitsPerMajor, pointsPerUnit: rate)
        let issued = LoyaltyAccount.issued(seller: order.sellerID)
        let member = LoyaltyAccount.member(seller: order.sellerID, buyer: order.buyerID)
        switch LoyaltyPosting.entry(earnedSoFar: earned, target: target) {
        case .earn(let points)?:
            try await repositories.customerCare.post(
                id: ids.make(prefix: "lpe"), seller: order.sellerID, debit: issued, credit: member, points: points, rate: rate,
                order: order.id, reason: "earn", at: now
            )
        case .clawBack(let points)?:
            try await repositories.customerCare.post(
                id: ids.make(prefix: "lpe"), seller: order.sellerID, debit: member, credit: issued, points: points, rate: rate,
                order: order.id, reason: "refund", at: now
            )
        case nil:
            break
        }
    }

    /// The points ledger's invariants (run by `fiducia ledger verify`).
    public func verify() async throws -> [String] {
        try await store.read { try await $0.customerCare.verify() }
    }
}
