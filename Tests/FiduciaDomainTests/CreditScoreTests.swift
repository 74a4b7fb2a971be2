import FiduciaDomain
import Foundation
import Testing

@Suite("Credit score")
struct CreditScoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let day = 86_400.0

    static let eur = Currency("EUR")!

    func rating(_ overall: OverallRating, daysAgo: Double = 100, total: Int64 = 100_000, credibility: Double? = 1, flagged: Bool = false) -> CreditHistory.ReceivedRating {
        .init(overall: overall, orderTotal: Money(amountMinor: total, currency: Self.eur), at: now.addingTimeInterval(-daysAgo * day),
              raterCredibility: credibility, flagged: flagged)
    }

    @Test func aNewcomerStartsAtFourHundredRaisedByADeposit() {
        let plain = CreditScoring.score(CreditHistory(role: .seller, memberSince: now), now: now)
        #expect(plain.score == 400)
        #expect(plain.tier == .new)
        #expect(plain.confidence == 0)
        #expect(plain.uncertainty == 250)
        // 500 EUR: 40 × log2(1 + 500/50) = 138.4.
        let deposit = CreditScoring.score(CreditHistory(role: .seller, memberSince: now, deposit: Money(amountMinor: 50_000, currency: Self.eur)), now: now)
        #expect(deposit.score == 538)
        #expect(deposit.breakdown.map(\.factor) == ["newcomer", "deposit"])
        #expect(deposit.breakdown.last?.explanation == "A security deposit of 500.00 EUR raises the starting point.")

        let verified = CreditScoring.score(CreditHistory(role: .buyer, memberSince: now, verifiedLevels: [.email, .realName]), now: now)
        #expect(verified.score == 450)
        #expect(verified.breakdown.map(\.factor) == ["newcomer", "verified.email", "verified.realName"])

        // Everything at once: 10 + 15 + 40 + 45 + 50 + 20 + 138.4 = 318.4, capped at 200.
        var everything = CreditHistory(role: .seller, memberSince: now, deposit: Money(amountMinor: 50_000, currency: Self.eur), verifiedLevels: Set(VerificationLevel.allCases))
        everything.activeSeals = 2
        everything.vouchedByInviter = true
        let capped = CreditScoring.score(everything, now: now)
        #expect(capped.score == 600)
        #expect(capped.breakdown.last?.factor == "headStart.cap")
        // Three recent negative ratings from credible raters outweigh the largest head start.
        everything.ratings = Array(repeating: rating(.negative, daysAgo: 1), count: 3)
        #expect(CreditScoring.score(everything, now: now).score < 400)
    }

    @Test func handComputedHistory() {
        // Ten positive ratings 100 days old from fully credible raters on 1 000.00 trades, one negative
        // 10 days old, twelve completed trades.
        var history = CreditHistory(role: .buyer, memberSince: now.addingTimeInterval(-400 * day))
        history.ratings = Array(repeating: rating(.positive), count: 10) + [rating(.negative, daysAgo: 10)]
        history.completedTrades = 12
        let score = CreditScoring.score(history, now: now)
        // By hand: a positive weighs 1 (credible) × 1 (1 000.00 EUR) × (0.3 + 0.7 · ½^(100/365)) =
        // 0.87893, ten of them 8.7893: 90 · ln(9.7893) = +205.3. The negative weighs
        // 0.3 + 0.7 · ½^(10/365) = 0.98683 and is recent: −180 × 0.98683 = −177.6. Twelve trades:
        // 15 · ln 13 = +38.5. 400 + 205.3 − 177.6 + 38.5 = 466.2.
        #expect(score.breakdown.map(\.factor) == ["newcomer", "ratings.positive", "ratings.negative.recent", "trades"])
        #expect(score.breakdown.map(\.effect) == [400, 205, -178, 38])
        #expect(abs(score.points - 466.1603) < 0.0001)
        #expect(score.score == 466)
        #expect(score.breakdown.first { $0.factor == "ratings.negative.recent" }?.explanation == "1 negative rating in the last 30 days.")
        // Evidence 8.7893 + 0.98683 + 0.3 × 12 = 13.376: confidence 13.376 / 21.376 = 0.626, ± 94.
        #expect(abs(score.confidence - 0.62575) < 0.00001)
        #expect(score.uncertainty == 94)
        #expect(score.tier == .bronze)
    }

    /// Attack 6: a deposit of 7 VND bought the largest bonus, because deposits in any currency were
    /// read as major units. Deposits are valued in the reference currency, at configured rates only.
    @Test func depositsAreValuedInTheReferenceCurrency() throws {
        let vnd = Money(amountMinor: 7, currency: Currency("VND")!)
        let usd = Money(amountMinor: 10_000, currency: Currency("USD")!)
        let eur = Money(amountMinor: 5_000, currency: Self.eur)
        let noRates = ExchangeRates(reference: Self.eur)
        #expect(noRates.value(vnd) == nil)
        #expect(noRates.total([vnd, usd, eur]) == eur)
        let rates = try ExchangeRates(reference: Self.eur, parsing: "USD=0.92, VND=0.000036")
        // 100.00 USD at 0.92 is 92.00 EUR; 7 VND is 0.000252 EUR, rounded down to nothing.
        #expect(rates.value(usd) == Money(amountMinor: 9_200, currency: Self.eur))
        #expect(rates.value(vnd) == Money(amountMinor: 0, currency: Self.eur))
        #expect(rates.total([vnd, usd, eur]) == Money(amountMinor: 14_200, currency: Self.eur))
        #expect(throws: ValidationError.self) { try ExchangeRates(reference: Self.eur, parsing: "USD=abc") }
        let history = CreditHistory(role: .seller, memberSince: now, deposit: rates.total([vnd]))
        #expect(CreditScoring.score(history, now: now).score == 400)
    }

    /// The worked example of docs/CREDIT_SCORE.md, number for number.
    @Test func theWorkedExampleOfTheDocs() {
        var history = CreditHistory(role: .seller, memberSince: now.addingTimeInterval(-60 * day), deposit: Money(amountMinor: 35_000, currency: Self.eur))
        history.ratings = Array(repeating: rating(.positive, daysAgo: 0, flagged: true), count: 18) + [rating(.negative, daysAgo: 0, flagged: true)]
        history.completedTrades = 20
        history.shippedOrders = 20
        history.shippedOnTime = 20
        let score = CreditScoring.score(history, now: now)
        #expect(score.breakdown.map(\.factor) == ["newcomer", "deposit", "ratings.positive", "ratings.negative.recent", "trades", "shipping"])
        #expect(score.breakdown.map(\.effect) == [400, 120, 207, -90, 46, 40])
        #expect(score.score == 723)
        #expect(score.tier == .gold)
    }

    @Test func scoreHistoryRecordsAPointOnlyOnAChange() {
        let score = CreditScoring.score(CreditHistory(role: .seller, memberSince: now), now: now)
        #expect(ScoreHistory.recordsPoint(previous: nil, new: score))
        #expect(!ScoreHistory.recordsPoint(previous: (400, .new), new: score))
        #expect(ScoreHistory.recordsPoint(previous: (401, .new), new: score))
        #expect(ScoreHistory.tierChange(previous: nil, new: score) == nil)
        #expect(ScoreHistory.tierChange(previous: .bronze, new: score).map { [$0.from, $0.to] } == [.bronze, .new])
    }

    @Test func shippingOnTimeIsWithinFortyEightHours() {
        #expect(SellerRecord.shippedOnTime(paidAt: now, shippedAt: now.addingTimeInterval(48 * 3_600)))
        #expect(!SellerRecord.shippedOnTime(paidAt: now, shippedAt: now.addingTimeInterval(48 * 3_600 + 1)))
    }

    @Test func tiersFollowThePublishedThresholds() {
        #expect(Tier.of(score: 990, completedTrades: 4, confidence: 1) == .new)
        #expect(Tier.of(score: 549, completedTrades: 5, confidence: 1) == .bronze)
        #expect(Tier.of(score: 550, completedTrades: 5, confidence: 1) == .silver)
        #expect(Tier.of(score: 700, completedTrades: 5, confidence: 1) == .gold)
        #expect(Tier.of(score: 900, completedTrades: 49, confidence: 1) == .gold)
        #expect(Tier.of(score: 900, completedTrades: 50, confidence: 0.79) == .gold)
        #expect(Tier.of(score: 850, completedTrades: 50, confidence: 0.8) == .diamond)
    }

    @Test func swarmRatingsAreIgnoredAndFlaggedOnesHalved() {
        let base = CreditHistory(role: .seller, memberSince: now)
        var swarmed = base
        swarmed.ratings = Array(repeating: .init(overall: .positive, orderTotal: Money(amountMinor: 100_000, currency: Self.eur), at: now, raterCredibility: 0, neutralized: true), count: 50)
        let score = CreditScoring.score(swarmed, now: now)
        #expect(score.score == 400)
        #expect(score.breakdown.contains { $0.factor == "ratings.ignored" && $0.explanation.hasPrefix("50 ratings") })
        #expect(CreditScoring.weight(rating(.positive, flagged: true), now: now) * 2 == CreditScoring.weight(rating(.positive), now: now))
    }

    @Test func explanationsAddUpToThePoints() {
        var history = CreditHistory(role: .seller, memberSince: now, deposit: Money(amountMinor: 10_000, currency: Self.eur))
        history.ratings = [rating(.positive), rating(.neutral), rating(.negative, daysAgo: 3), rating(.negative, daysAgo: 300)]
        history.completedTrades = 9
        history.refundedTrades = 3
        history.shippedOrders = 12
        history.shippedOnTime = 10
        let score = CreditScoring.score(history, now: now)
        #expect(abs(Double(score.breakdown.map(\.effect).reduce(0, +)) - score.points) <= Double(score.breakdown.count) / 2)
        #expect(Set(score.breakdown.map(\.factor)) == ["newcomer", "deposit", "ratings.positive", "ratings.neutral", "ratings.negative.recent", "ratings.negative", "trades", "refunds", "shipping"])
    }

    /// Property: an extra positive rating from a credible rater never lowers the score.
    @Test(arguments: 1...30)
    func anExtraPositiveRatingNeverLowersTheScore(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let history = randomHistory(&random)
        let extra = CreditHistory.ReceivedRating(
            overall: .positive, orderTotal: Money(amountMinor: Int64(random.next() % 1_000_000) + 1, currency: Self.eur),
            at: now.addingTimeInterval(-Double(random.next() % 700) * day), raterCredibility: 0.5 + Double(random.next() % 50) / 100
        )
        var more = history
        more.ratings.append(extra)
        let before = CreditScoring.score(history, now: now)
        let after = CreditScoring.score(more, now: now)
        #expect(after.points > before.points)
        #expect(after.score >= before.score)
    }

    /// Property: a negative always weighs more than a positive of the same value and age.
    @Test(arguments: 1...30)
    func aNegativeWeighsMoreThanAPositiveOfTheSameValueAndAge(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let history = randomHistory(&random)
        let total = Int64(random.next() % 1_000_000) + 1
        let at = now.addingTimeInterval(-Double(random.next() % 700) * day)
        let credibility = Double(random.next() % 100) / 100
        var positive = history
        positive.ratings.append(.init(overall: .positive, orderTotal: Money(amountMinor: total, currency: Self.eur), at: at, raterCredibility: credibility))
        var negative = history
        negative.ratings.append(.init(overall: .negative, orderTotal: Money(amountMinor: total, currency: Self.eur), at: at, raterCredibility: credibility))
        let base = CreditScoring.score(history, now: now).points
        let up = CreditScoring.score(positive, now: now).points - base
        let down = base - CreditScoring.score(negative, now: now).points
        #expect(up > 0)
        #expect(down > up)
    }

    func randomHistory(_ random: inout SplitMix) -> CreditHistory {
        var history = CreditHistory(role: random.next() % 2 == 0 ? .seller : .buyer, memberSince: now.addingTimeInterval(-800 * day))
        for _ in 0..<Int(random.next() % 40) {
            let roll = random.next() % 10
            history.ratings.append(.init(
                overall: roll < 7 ? .positive : roll < 8 ? .neutral : .negative,
                orderTotal: Money(amountMinor: Int64(random.next() % 500_000) + 1, currency: Self.eur),
                at: now.addingTimeInterval(-Double(random.next() % 700) * day),
                raterCredibility: Double(random.next() % 100) / 100,
                flagged: random.next() % 10 == 0
            ))
        }
        history.completedTrades = Int(random.next() % 60)
        history.refundedTrades = Int(random.next() % 5)
        history.shippedOrders = Int(random.next() % 60)
        history.shippedOnTime = Int(random.next() % UInt64(history.shippedOrders + 1))
        history.deposit = Money(amountMinor: Int64(random.next() % 100_000), currency: Self.eur)
        return history
    }

    @Test func commendationsNeedEveryCriterion() {
        let good = Commendations.SellerMonth(completedSales: 8, shipped: 8, shippedOnTime: 8, openRefundRequests: 0, positiveRatings: 50, ratings: 50, score: 760)
        #expect(Commendations.qualifies(good))
        #expect(!Commendations.qualifies(.init(completedSales: 4, shipped: 4, shippedOnTime: 4, openRefundRequests: 0, positiveRatings: 50, ratings: 50, score: 760)))
        #expect(!Commendations.qualifies(.init(completedSales: 8, shipped: 8, shippedOnTime: 7, openRefundRequests: 0, positiveRatings: 50, ratings: 50, score: 760)))
        #expect(!Commendations.qualifies(.init(completedSales: 8, shipped: 8, shippedOnTime: 8, openRefundRequests: 1, positiveRatings: 50, ratings: 50, score: 760)))
        #expect(!Commendations.qualifies(.init(completedSales: 8, shipped: 8, shippedOnTime: 8, openRefundRequests: 0, positiveRatings: 48, ratings: 50, score: 760)))
        #expect(!Commendations.qualifies(.init(completedSales: 8, shipped: 8, shippedOnTime: 8, openRefundRequests: 0, positiveRatings: 50, ratings: 50, score: 699)))
    }
}

@Suite("Rating rules")
struct RatingRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func order(_ status: OrderStatus, completedDaysAgo: Double = 1) -> Order {
        var order = Order(
            id: OrderID("ord_1"), buyerID: UserID("usr_b"), sellerID: UserID("usr_s"), currency: Currency("EUR")!,
            items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: 1_000)], totalMinor: 1_000, policy: .standard,
            feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: now.addingTimeInterval(-30 * 86_400), payBy: now
        )
        order.status = status
        if status == .completed { order.completedAt = now.addingTimeInterval(-completedDaysAgo * 86_400) }
        if status == .refunded { order.closedAt = now.addingTimeInterval(-completedDaysAgo * 86_400) }
        return order
    }

    @Test func buyersGiveDetailsSellersDoNot() throws {
        let details = DetailedRatings(itemAsDescribed: 5, serviceAttitude: 4, shippingSpeed: 3)
        #expect(try RatingRules.validate(.init(overall: .positive, detailed: details), order: order(.completed), rater: UserID("usr_b"), now: now, windowDays: 14) == .buyerRatesSeller)
        #expect(try RatingRules.validate(.init(overall: .negative), order: order(.completed), rater: UserID("usr_s"), now: now, windowDays: 14) == .sellerRatesBuyer)
        #expect(throws: RatingError.self) { try RatingRules.validate(.init(overall: .positive), order: order(.completed), rater: UserID("usr_b"), now: now, windowDays: 14) }
        #expect(throws: RatingError.self) { try RatingRules.validate(.init(overall: .positive, detailed: details), order: order(.completed), rater: UserID("usr_s"), now: now, windowDays: 14) }
        let stars = #expect(throws: RatingError.self) {
            try RatingRules.validate(.init(overall: .positive, detailed: .init(itemAsDescribed: 6, serviceAttitude: 0, shippingSpeed: 3)), order: order(.completed), rater: UserID("usr_b"), now: now, windowDays: 14)
        }
        #expect(stars?.fieldErrors.map(\.field) == ["itemAsDescribed", "serviceAttitude"])
    }

    @Test func onlyFinishedTradesWithinTheWindowCanBeRated() {
        #expect(throws: RatingError.orderNotFinished(.shipped)) {
            try RatingRules.validate(.init(overall: .positive), order: order(.shipped), rater: UserID("usr_s"), now: now, windowDays: 14)
        }
        #expect(throws: RatingError.windowClosed) {
            try RatingRules.validate(.init(overall: .positive), order: order(.completed, completedDaysAgo: 15), rater: UserID("usr_s"), now: now, windowDays: 14)
        }
        #expect(throws: RatingError.notAParty) {
            try RatingRules.validate(.init(overall: .positive), order: order(.completed), rater: UserID("usr_x"), now: now, windowDays: 14)
        }
        #expect(throws: Never.self) {
            try RatingRules.validate(.init(overall: .negative), order: order(.refunded), rater: UserID("usr_s"), now: now, windowDays: 14)
        }
    }

    @Test func flagsMarkRefundsAndSharedHistory() {
        #expect(RatingRules.flags(for: order(.completed), previousTradesBetweenParties: 0).isEmpty)
        #expect(RatingRules.flags(for: order(.refunded), previousTradesBetweenParties: 3) == [.afterRefund, .sharedHistory])
    }

    @Test func engineValuesBlendVerdictAndStars() {
        func value(_ overall: OverallRating, _ stars: Int?) -> Double {
            Rating(
                id: RatingID("rat_1"), orderID: OrderID("ord_1"), raterID: UserID("usr_b"), rateeID: UserID("usr_s"), side: .buyerRatesSeller,
                overall: overall, detailed: stars.map { DetailedRatings(itemAsDescribed: $0, serviceAttitude: $0, shippingSpeed: $0) },
                comment: nil, flags: [], orderTotalMinor: 1, currency: Currency("EUR")!, createdAt: now, updatedAt: now
            ).engineValue
        }
        #expect(value(.positive, nil) == 1)
        #expect(value(.positive, 5) == 1)
        #expect(value(.neutral, 5) == 0.3)
        #expect(value(.negative, 1) == -1)
        #expect(value(.neutral, 3) == 0)
    }
}
