import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// Ratings, the trust engine cache and the credit score through the real services and databases.
@Suite("Ratings and credit on SQLite and PostgreSQL")
struct RatingServiceTests {
    static let stars = DetailedRatings(itemAsDescribed: 5, serviceAttitude: 4, shippingSpeed: 5)

    /// A completed trade between buyer and seller; returns the order id.
    static func trade(_ services: AppServices, buyer: Principal, seller: (User, Principal), total: Int64 = 5_000) async throws -> OrderID {
        let order = try await services.escrow.createOrder(
            NewOrder(sellerID: seller.0.id, currency: "EUR", items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: total)]), by: buyer
        )
        _ = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: buyer)
        _ = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "1"), on: order.id, by: seller.1)
        _ = try await services.escrow.perform(.confirmReceipt, on: order.id, by: buyer)
        return order.id
    }

    @Test(arguments: TestDatabases.kinds)
    func ratingsAreDoubleBlindThenPublishedTogether(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let seller = try await services.makeUser("tea", roles: [.seller])
            let (_, stranger) = try await services.makeUser("eve")
            let order = try await Self.trade(services, buyer: asBuyer, seller: seller)

            var mine = try await services.ratings.rate(order, RatingSubmission(overall: .neutral, detailed: Self.stars, comment: "ok"), by: asBuyer)
            #expect(!mine.isPublished)
            // Hidden from the seller and from everyone else; the author sees it and may change it.
            #expect(try await services.ratings.ratings(of: order, by: seller.1).isEmpty)
            #expect(try await services.ratings.ratings(of: seller.0.id, received: true, side: nil, page: try PageRequest(), by: stranger).items.isEmpty)
            mine = try await services.ratings.rate(order, RatingSubmission(overall: .positive, detailed: Self.stars, comment: "great"), by: asBuyer)
            #expect(mine.overall == .positive)
            // Unpublished, it does not exist as far as the seller can tell.
            await #expect(throws: NotFoundError.self) {
                try await services.ratings.reply(to: mine.id, text: "thanks", by: seller.1)
            }

            let theirs = try await services.ratings.rate(order, RatingSubmission(overall: .positive, comment: "fast payment"), by: seller.1)
            #expect(theirs.isPublished)
            let visible = try await services.ratings.ratings(of: order, by: stranger)
            #expect(visible.count == 2)
            #expect(visible.allSatisfy { $0.isPublished })
            await #expect(throws: RatingError.alreadyPublished) {
                try await services.ratings.rate(order, RatingSubmission(overall: .negative, detailed: Self.stars), by: asBuyer)
            }
            // One public reply, by the rated party only.
            await #expect(throws: RatingError.notTheRatee) { try await services.ratings.reply(to: mine.id, text: "x", by: asBuyer) }
            let replied = try await services.ratings.reply(to: mine.id, text: "Thank you, come again!", by: seller.1)
            #expect(replied.reply == "Thank you, come again!")
            await #expect(throws: RatingError.alreadyReplied) { try await services.ratings.reply(to: mine.id, text: "again", by: seller.1) }
            // Strangers cannot rate, and unfinished orders cannot be rated.
            await #expect(throws: NotFoundError.self) { try await services.ratings.rate(order, RatingSubmission(overall: .negative), by: stranger) }
            let open = try await services.escrow.createOrder(NewOrder(sellerID: seller.0.id, currency: "EUR", items: [LineItem(title: "T", quantity: 1, unitPriceMinor: 100)]), by: asBuyer)
            await #expect(throws: RatingError.orderNotFinished(.created)) {
                try await services.ratings.rate(open.id, RatingSubmission(overall: .positive, detailed: Self.stars), by: asBuyer)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aLoneRatingIsPublishedWhenTheWindowClosesAndScoresFollow(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let seller = try await services.makeUser("tea", roles: [.seller])
            let order = try await Self.trade(services, buyer: asBuyer, seller: seller)
            let rating = try await services.ratings.rate(order, RatingSubmission(overall: .negative, detailed: .init(itemAsDescribed: 1, serviceAttitude: 2, shippingSpeed: 3)), by: asBuyer)
            let runner = services.jobRunner(logger: TestDatabases.logger)
            clock.advance(by: 13 * 86_400)
            try await runner.runDueJobs()
            #expect(try await services.store.read { try await $0.ratings.find(rating.id) }?.isPublished == false)
            clock.advance(by: 86_400)
            try await runner.runDueJobs()
            #expect(try await services.store.read { try await $0.ratings.find(rating.id) }?.isPublished == true)
            // The seller can no longer rate; the published rating reached the seller's stored score.
            await #expect(throws: RatingError.windowClosed) { try await services.ratings.rate(order, RatingSubmission(overall: .positive), by: seller.1) }
            try await runner.runDueJobs()
            let stored = try #require(try await services.store.read { try await $0.credit.latest(user: seller.0.id, role: .seller) })
            #expect(stored.breakdown.contains { $0.factor == "ratings.negative" || $0.factor == "ratings.negative.recent" })
            // By hand: the buyer is brand new, so the engine gives them credibility 0 and the rating
            // weight 0.3 (credibility) × (0.5 + 0.5 · log10(1 + 50) / 3) = 0.7846 (a 50.00 EUR trade)
            // × 1 (published today) = 0.2354; a recent negative costs 180 × 0.2354 = 42.4. One
            // completed trade adds 15 · ln 2 = 10.4. 400 − 42.4 + 10.4 = 368.
            #expect(await services.trust.ratingWeight(rater: buyer.id, ratee: seller.0.id)?.credibility == 0)
            #expect(stored.breakdown.map(\.factor) == ["newcomer", "ratings.negative.recent", "trades"])
            #expect(stored.breakdown.map(\.effect) == [400, -42, 10])
            #expect(stored.score == 368)
            let history = try await services.store.read { try await $0.credit.history(user: seller.0.id, role: .seller, limit: 10) }
            #expect(history.count >= 2)
            #expect(try await services.store.read { try await $0.credit.latest(user: buyer.id, role: .buyer) } != nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func repeatedTradesBetweenTheSamePartiesAreFlagged(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let seller = try await services.makeUser("tea", roles: [.seller])
            var ratings: [Rating] = []
            for _ in 0..<4 {
                let order = try await Self.trade(services, buyer: asBuyer, seller: seller)
                ratings.append(try await services.ratings.rate(order, RatingSubmission(overall: .positive, detailed: Self.stars), by: asBuyer))
            }
            #expect(ratings.prefix(3).allSatisfy { $0.flags.isEmpty })
            #expect(ratings[3].flags == [.sharedHistory])
        }
    }

    /// The seam between the trust engine and the score: a swarm of fresh buyers all rating one
    /// seller at the top within a week is neutralised by the engine, and the score ignores them.
    @Test(arguments: TestDatabases.kinds)
    func aSwarmOfFreshBuyersDoesNotMoveTheScore(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let seller = try await services.makeUser("tea", roles: [.seller])
            for index in 0..<12 {
                let (_, asBuyer) = try await services.makeUser("puppet\(index)")
                let order = try await Self.trade(services, buyer: asBuyer, seller: seller, total: 100_000)
                _ = try await services.ratings.rate(order, RatingSubmission(overall: .positive, detailed: Self.stars), by: asBuyer)
                clock.advance(by: 14 * 86_400 + 60)
                try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
                clock.set(clock.now().addingTimeInterval(-14 * 86_400 + 3_600))
            }
            clock.advance(by: 30 * 86_400)
            try await services.trust.sync(force: true)
            let score = try await services.credit.score(of: seller.0.id, role: .seller)
            #expect(score.breakdown.contains { $0.factor == "ratings.ignored" }, "\(score.breakdown)")
            #expect(!score.breakdown.contains { $0.factor == "ratings.positive" })
            let alerts = await services.trust.fraudAlerts()
            #expect(alerts.count >= 12)
        }
    }

    /// Two servers' caches, fed by the same database, agree.
    @Test(arguments: TestDatabases.kinds)
    func everyServerSeesTheSameTrust(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let seller = try await services.makeUser("tea", roles: [.seller])
            let other = TrustService(store: services.store, clock: services.clock)
            for _ in 0..<3 {
                let order = try await Self.trade(services, buyer: asBuyer, seller: seller)
                _ = try await services.ratings.rate(order, RatingSubmission(overall: .positive, detailed: Self.stars), by: asBuyer)
                _ = try await services.ratings.rate(order, RatingSubmission(overall: .positive), by: seller.1)
            }
            try await services.trust.sync(force: true)
            try await other.sync(force: true)
            #expect(await services.trust.appliedRatings == 6)
            #expect(await other.trust(of: seller.0.id) == services.trust.trust(of: seller.0.id))
        }
    }
}
