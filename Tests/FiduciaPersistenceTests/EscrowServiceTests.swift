import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import SQLKit
import Testing

/// Orders, escrow and the ledger through the real services on real databases.
@Suite("Escrow on SQLite and PostgreSQL")
struct EscrowServiceTests {
    static func order(_ total: Int64 = 10_000) -> (UserID) -> NewOrder {
        { seller in NewOrder(sellerID: seller, currency: "EUR", items: [LineItem(title: "Longjing tea", quantity: 2, unitPriceMinor: total / 2)]) }
    }

    static func expectClean(_ services: AppServices, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await services.ledger.verify()
        #expect(report.isClean, "\(report.findings)", sourceLocation: sourceLocation)
    }

    @Test(arguments: TestDatabases.kinds)
    func aTradeHoldsTheMoneyThenReleasesIt(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            var order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            #expect(order.status == .created)
            #expect(order.policy == .standard)
            order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            #expect(order.status == .paid)
            let held = try await services.ledger.balances(of: buyer.id)
            #expect(held.first?.heldAsBuyerMinor == 10_000)
            #expect(try await services.ledger.balances(of: seller.id).first?.incomingAsSellerMinor == 9_800)
            try await Self.expectClean(services)

            order = try await services.escrow.perform(.ship(carrier: "SF Express", trackingNumber: "SF1"), on: order.id, by: asSeller)
            order = try await services.escrow.perform(.addTracking(TrackingEvent(at: services.clock.now(), location: "Hangzhou", description: "Collected")), on: order.id, by: asSeller)
            #expect(order.shipment?.events.count == 1)
            order = try await services.escrow.perform(.confirmReceipt, on: order.id, by: asBuyer)
            #expect(order.status == .completed)
            let balance = try #require(try await services.ledger.balances(of: seller.id).first)
            #expect(balance.availableMinor == 9_800)
            #expect(balance.incomingAsSellerMinor == 0)
            #expect(try await services.ledger.balances(of: buyer.id).first?.heldAsBuyerMinor == 0)
            try await Self.expectClean(services)

            // Nobody else may see or act on it.
            let (_, stranger) = try await services.makeUser("eve")
            await #expect(throws: NotFoundError(entity: "order", id: order.id.rawValue)) { try await services.escrow.order(order.id, by: stranger) }
            await #expect(throws: NotFoundError(entity: "order", id: order.id.rawValue)) {
                try await services.escrow.perform(.refund(amountMinor: nil, reason: nil), on: order.id, by: stranger)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func racingReleaseRefundAndCancelHaveExactlyOneWinner(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            // Each round races sixteen requests that would each resolve the same escrow.
            let rounds: [(shipFirst: Bool, attempts: [(OrderAction, Principal)])] = [
                (false, (0..<16).map { $0 % 2 == 0 ? (.cancel(reason: nil), asBuyer) : (.cancel(reason: nil), asSeller) }),
                (false, (0..<16).map { $0 % 2 == 0 ? (.cancel(reason: nil), asBuyer) : (.ship(carrier: "X", trackingNumber: "t"), asSeller) }),
                (true, (0..<16).map { _ in (.confirmReceipt, asBuyer) }),
                (true, (0..<16).map { _ in (.refund(amountMinor: nil, reason: nil), asSeller) }),
            ]
            for (round, (shipFirst, attempts)) in rounds.enumerated() {
                var order = try await services.escrow.createOrder(Self.order(1_000 + Int64(round))(seller.id), by: asBuyer)
                order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
                if shipFirst { order = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "\(round)"), on: order.id, by: asSeller) }
                let id = order.id
                let outcomes = await withTaskGroup(of: Result<OrderStatus, EscrowError>?.self) { group in
                    for (action, principal) in attempts {
                        group.addTask {
                            do {
                                return .success(try await services.escrow.perform(action, on: id, by: principal).status)
                            } catch let error as EscrowError {
                                return .failure(error)
                            } catch {
                                return nil
                            }
                        }
                    }
                    return await group.reduce(into: [Result<OrderStatus, EscrowError>?]()) { $0.append($1) }
                }
                let winners = outcomes.compactMap { try? $0?.get() }
                #expect(winners.count == 1, "round \(round): \(outcomes)")
                // Every loser is told, by name, that the order already moved on: never another error.
                for outcome in outcomes where (try? outcome?.get()) == nil {
                    guard case .failure(.illegalTransition(_, let status)) = outcome else {
                        Issue.record("round \(round): a loser got \(String(describing: outcome))")
                        continue
                    }
                    #expect(status == winners.first, "round \(round)")
                }
            }
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentPaymentsChargeTheCardOnce(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            let successes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask { (try? await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(successes == 1)
            let charges = try await services.store.database.read { sql in
                try await sql.raw("SELECT status, refunded_minor FROM sandbox_charges").all()
            }
            #expect(charges.count == 1)
            #expect(try charges.first?.decode(column: "status", as: String.self) == "succeeded")
            #expect(try await services.ledger.balances(of: buyer.id).first?.heldAsBuyerMinor == 10_000)
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func manyConcurrentTradesInBothDirectionsNeitherDeadlockNorLoseMoney(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            var people: [(User, Principal)] = []
            for name in ["a", "b", "c", "d"] { people.append(try await services.makeUser(name, roles: [.buyer, .seller])) }
            let parties = people
            let completed = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let (_, buyer) = parties[index % 4]
                        let (seller, asSeller) = parties[(index + 1 + index / 4) % 4 == index % 4 ? (index + 2) % 4 : (index + 1 + index / 4) % 4]
                        let order = try await services.escrow.createOrder(Self.order(100 + Int64(index) * 10)(seller.id), by: buyer)
                        _ = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: buyer)
                        _ = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "\(index)"), on: order.id, by: asSeller)
                        if index % 3 == 0 {
                            // A partial refund keeps the rest held; the buyer's confirmation releases it.
                            let refunded = try await services.escrow.perform(.refund(amountMinor: 50, reason: nil), on: order.id, by: asSeller)
                            guard refunded.status == .shipped, refunded.heldMinor == refunded.totalMinor - 50 else { return 0 }
                        }
                        let done = try await services.escrow.perform(.confirmReceipt, on: order.id, by: buyer)
                        return done.status == .completed ? 1 : 0
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(completed == 24)
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func autoCompletionIsDurableAcrossARestart(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withDatabase(kind) { database, location async throws in
            let first = AppServices(database: database, vault: try await TestDatabases.vault(database), settings: .forTests, clock: clock)
            let (_, asBuyer) = try await first.makeUser("ann")
            let (seller, asSeller) = try await first.makeUser("tea", roles: [.seller])
            var order = try await first.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            order = try await first.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            order = try await first.escrow.perform(.ship(carrier: "X", trackingNumber: "1"), on: order.id, by: asSeller)
            // The server stops: nothing of it survives but the database.
            await database.close()

            let reopened = try await DatabaseConnector.connect(to: location, logger: TestDatabases.logger)
            let second = AppServices(database: reopened, vault: try await TestDatabases.vault(reopened), settings: .forTests, clock: clock)
            let runner = second.jobRunner(logger: TestDatabases.logger)
            clock.advance(by: 9 * 86_400)
            try await runner.runDueJobs()
            #expect(try await second.escrow.order(order.id, by: asBuyer).status == .shipped)
            clock.advance(by: 86_400)
            try await runner.runDueJobs()
            let completed = try await second.escrow.order(order.id, by: asBuyer)
            #expect(completed.status == .completed)
            #expect(completed.timeline.last?.kind == .autoCompleted)
            #expect(try await second.ledger.balances(of: seller.id).first?.availableMinor == 9_800)
            try await Self.expectClean(second)
            await reopened.close()
        }
    }

    /// A refund request pauses auto-completion even past its due time; when the seller answers,
    /// the time that was left resumes and the job runs again.
    @Test(arguments: TestDatabases.kinds)
    func aRefundRequestPausesAutoCompletionAndTheAnswerResumesIt(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            let runner = services.jobRunner(logger: TestDatabases.logger)
            var order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            order = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "1"), on: order.id, by: asSeller)
            clock.advance(by: 8 * 86_400)
            order = try await services.escrow.perform(.requestRefund(amountMinor: 3_000, reason: "two cups broken"), on: order.id, by: asBuyer)
            // The period ends while the request is open: nothing completes.
            clock.advance(by: 3 * 86_400)
            try await runner.runDueJobs()
            #expect(try await services.escrow.order(order.id, by: asBuyer).status == .shipped)
            // Five days after the request the seller refunds it; the two days that were left resume.
            clock.advance(by: 2 * 86_400)
            order = try await services.escrow.perform(.refund(amountMinor: nil, reason: "sorry"), on: order.id, by: asSeller)
            #expect(order.heldMinor == 7_000)
            #expect(order.confirmBy == clock.now().addingTimeInterval(2 * 86_400))
            clock.advance(by: 2 * 86_400 - 60)
            try await runner.runDueJobs()
            #expect(try await services.escrow.order(order.id, by: asBuyer).status == .shipped)
            clock.advance(by: 60)
            try await runner.runDueJobs()
            let completed = try await services.escrow.order(order.id, by: asBuyer)
            #expect(completed.status == .completed)
            #expect(completed.timeline.last?.kind == .autoCompleted)
            // 7 000 stayed held; released less the 140 fee.
            #expect(try await services.ledger.balances(of: seller.id).first?.availableMinor == 6_860)
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func unpaidOrdersExpireAndPaidOnesDoNot(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let unpaid = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            let paid = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            _ = try await services.escrow.pay(paid.id, with: .card(token: "tok_visa"), by: asBuyer)
            clock.advance(by: 24 * 3600)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            #expect(try await services.escrow.order(unpaid.id, by: asBuyer).status == .cancelled)
            #expect(try await services.escrow.order(unpaid.id, by: asBuyer).timeline.last?.kind == .expired)
            #expect(try await services.escrow.order(paid.id, by: asBuyer).status == .paid)
            await #expect(throws: EscrowError.illegalTransition(.pay, status: .cancelled)) {
                try await services.escrow.pay(unpaid.id, with: .card(token: "tok_visa"), by: asBuyer)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func declinedCardsChargeNothingAndChangeNothing(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            await #expect(throws: EscrowError.paymentDeclined("the card was declined")) {
                try await services.escrow.pay(order.id, with: .card(token: "tok_declined"), by: asBuyer)
            }
            await #expect(throws: LedgerError.insufficientFunds(.available, needed: 9_800, available: 0)) {
                try await services.escrow.pay(order.id, with: .balance, by: asBuyer)
            }
            #expect(try await services.escrow.order(order.id, by: asBuyer).status == .created)
            #expect(try await services.ledger.balances(of: buyer.id).allSatisfy { $0.availableMinor == 0 && $0.heldAsBuyerMinor == 0 })
            try await Self.expectClean(services)
            // After a decline, another card works.
            let paid = try await services.escrow.pay(order.id, with: .card(token: "tok_mastercard"), by: asBuyer)
            #expect(paid.status == .paid)
            #expect(paid.paymentReference?.hasPrefix("ch_") == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func twoCardsRacingForOneOrderLeaveOneChargeStanding(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            let results = await withTaskGroup(of: Bool.self) { group in
                for token in ["tok_visa", "tok_mastercard", "tok_visa", "tok_mastercard"] {
                    group.addTask { (try? await services.escrow.pay(order.id, with: .card(token: token), by: asBuyer)) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(results == 1)
            let paid = try await services.escrow.order(order.id, by: asBuyer)
            let charges = try await services.store.database.read { sql in
                try await sql.raw("SELECT id, status FROM sandbox_charges").all().map {
                    (try $0.decode(column: "id", as: String.self), try $0.decode(column: "status", as: String.self))
                }
            }
            // One payment at a time per order: the others were told to wait before any card was
            // charged, so exactly one charge exists and it paid the order.
            #expect(charges.map(\.0) == [paid.paymentReference])
            #expect(charges.map(\.1) == ["succeeded"])
        }
    }

    /// Attack 3 at the service level: a new seller's proceeds stay reserved while the buyer can
    /// return the goods, so the refund is covered by the seller and the fund is not touched.
    @Test(arguments: TestDatabases.kinds)
    func theReserveKeepsProceedsForRefundsWithinTheReturnWindow(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            try await services.ledger.topUpGuaranteeFund(currency: Currency("EUR")!, amountMinor: 100_000, reference: "seed")
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            _ = try await services.payments.placeDeposit(currency: "EUR", amountMinor: 2_000, from: .card(token: "tok_visa"), by: asSeller)
            var order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            order = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "1"), on: order.id, by: asSeller)
            order = try await services.escrow.perform(.confirmReceipt, on: order.id, by: asBuyer)
            // 10 000 could still come back within 7 days; less the 2 000 deposit, 8 000 stays.
            var balance = try #require(try await services.ledger.balances(of: seller.id).first)
            #expect((balance.availableMinor, balance.reservedMinor, balance.withdrawableMinor) == (9_800, 8_000, 1_800))
            await #expect(throws: PayoutError.reserveHeld(withdrawableMinor: 1_800, reservedMinor: 8_000)) {
                try await services.payments.requestPayout(currency: "EUR", amountMinor: 9_800, destination: "DE89 3704", by: asSeller)
            }
            _ = try await services.payments.requestPayout(currency: "EUR", amountMinor: 1_800, destination: "DE89 3704", by: asSeller)
            clock.advance(by: 5)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()

            // The buyer returns the goods: the seller's share (9 800) is 8 000 of balance and 1 800 of
            // deposit; the 200 fee comes back from the platform; all 10 000 goes back to the card.
            order = try await services.escrow.perform(.requestRefund(amountMinor: nil, reason: "fake"), on: order.id, by: asBuyer)
            order = try await services.escrow.perform(.refund(amountMinor: nil, reason: "fake goods"), on: order.id, by: asSeller)
            #expect(order.status == .refunded)
            var buyerBalance = try #require(try await services.ledger.balances(of: buyer.id).first)
            #expect((buyerBalance.availableMinor, buyerBalance.refundingToCardMinor, buyerBalance.heldAsBuyerMinor) == (0, 10_000, 0))
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            buyerBalance = try #require(try await services.ledger.balances(of: buyer.id).first)
            #expect((buyerBalance.availableMinor, buyerBalance.refundingToCardMinor) == (0, 0))
            let chargeID = order.paymentReference ?? ""
            let charge = try await services.store.database.read { sql in
                try await sql.raw("SELECT status FROM sandbox_charges WHERE id = \(bind: chargeID)").first()?.decode(column: "status", as: String.self)
            }
            #expect(charge == "refunded")
            balance = try #require(try await services.ledger.balances(of: seller.id).first)
            #expect((balance.availableMinor, balance.depositMinor, balance.debtMinor) == (0, 200, 0))
            let fund = try await services.ledger.verify().totals[Currency("EUR")!]?.guaranteeFundMinor
            #expect(fund == 100_000)
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func payoutsSettleThroughSignedWebhooks(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller, .buyer])
            let (buyer, asBuyer) = try await services.makeUser("ann")
            _ = buyer
            var order = try await services.escrow.createOrder(Self.order()(seller.id), by: asBuyer)
            order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            order = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "1"), on: order.id, by: asSeller)
            _ = try await services.escrow.perform(.confirmReceipt, on: order.id, by: asBuyer)
            // Once the return window has closed, nothing of the sale is reserved any more.
            clock.advance(by: 7 * 86_400 + 1)
            #expect(try await services.ledger.balances(of: seller.id).first?.withdrawableMinor == 9_800)

            await #expect(throws: LedgerError.insufficientFunds(.available, needed: 9_801, available: 9_800)) {
                try await services.payments.requestPayout(currency: "EUR", amountMinor: 9_801, destination: "DE89", by: asSeller)
            }
            let good = try await services.payments.requestPayout(currency: "EUR", amountMinor: 5_000, destination: "DE89 3704", by: asSeller)
            let bad = try await services.payments.requestPayout(currency: "EUR", amountMinor: 1_000, destination: "fail-closed-account", by: asSeller)
            var balance = try #require(try await services.ledger.balances(of: seller.id).first)
            #expect(balance.availableMinor == 3_800)
            #expect(balance.payingOutMinor == 6_000)
            clock.advance(by: 3)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let payouts = try await services.payments.payouts(by: asSeller)
            #expect(payouts.first { $0.id == good.id }?.status == .paid)
            #expect(payouts.first { $0.id == bad.id }?.status == .failed)
            balance = try #require(try await services.ledger.balances(of: seller.id).first)
            #expect(balance.availableMinor == 4_800)
            #expect(balance.payingOutMinor == 0)
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func webhooksAreVerifiedFreshAndAppliedOnce(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            try await services.store.write { repositories in
                try await services.ledger.execute([
                    MoneyMovement(debit: .platform(.external), credit: AccountReference(.user(seller.id), .available), amountMinor: 500, mode: .posted, purpose: .cardPayment, reference: "gift"),
                ], currency: Currency("EUR")!, orderID: nil, in: repositories, now: clock.now())
            }
            let payout = try await services.payments.requestPayout(currency: "EUR", amountMinor: 500, destination: "DE89", by: asSeller)
            let sandbox = try #require(services.payments.provider as? SandboxPaymentProvider)
            let event = PaymentEvent(id: "evt_manual", type: .payoutPaid, payoutId: payout.id.rawValue, reason: nil, created: 0)
            let body = Array(try JSONEncoder().encode(event))
            let now = Int64(clock.now().timeIntervalSince1970)
            let signature = try await sandbox.signatureHeader(body: body, timestamp: now)

            await #expect(throws: WebhookError.missingSignature) { try await services.payments.receiveWebhook(provider: "sandbox", body: body, signature: nil) }
            await #expect(throws: WebhookError.badSignature) {
                try await services.payments.receiveWebhook(provider: "sandbox", body: body + [32], signature: signature)
            }
            let old = try await sandbox.signatureHeader(body: body, timestamp: now - 301)
            await #expect(throws: WebhookError.stale(ageSeconds: 301)) { try await services.payments.receiveWebhook(provider: "sandbox", body: body, signature: old) }
            await #expect(throws: WebhookError.unknownProvider("stripe")) { try await services.payments.receiveWebhook(provider: "stripe", body: body, signature: signature) }

            #expect(try await services.payments.receiveWebhook(provider: "sandbox", body: body, signature: signature) == true)
            #expect(try await services.payments.receiveWebhook(provider: "sandbox", body: body, signature: signature) == false)
            #expect(try await services.payments.payouts(by: asSeller).first?.status == .paid)
            // The sandbox's own delivery of the same payout later finds it settled and changes nothing.
            clock.advance(by: 3)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func smallPurchasesGoOnAMonthlyStatementSettledInOneCharge(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_801_000_000))  // 2027-01-27
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let (carol, asCarol) = try await services.makeUser("carol")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let small = try await services.escrow.createOrder(Self.order(600)(seller.id), by: asBuyer)
            await #expect(throws: PaymentError.savedCardRequired) { try await services.escrow.pay(small.id, with: .statement(), by: asBuyer) }
            _ = try await services.payments.saveCard(token: "tok_visa", by: asBuyer)
            _ = try await services.payments.saveCard(token: "tok_insufficient_funds", by: asCarol)
            await #expect(throws: PaymentError.unknownCard) { try await services.payments.saveCard(token: "tok_bogus", by: asBuyer) }

            _ = try await services.escrow.pay(small.id, with: .statement(), by: asBuyer)
            let second = try await services.escrow.createOrder(Self.order(400)(seller.id), by: asBuyer)
            _ = try await services.escrow.pay(second.id, with: .statement(), by: asBuyer)
            let carols = try await services.escrow.createOrder(Self.order(200)(seller.id), by: asCarol)
            _ = try await services.escrow.pay(carols.id, with: .statement(), by: asCarol)
            let large = try await services.escrow.createOrder(Self.order(5_000)(seller.id), by: asBuyer)
            await #expect(throws: EscrowError.statementLimitExceeded(limitMinor: 1_000)) { try await services.escrow.pay(large.id, with: .statement(), by: asBuyer) }

            let statements = try await services.payments.statements(by: asBuyer)
            #expect(statements.map(\.totalMinor) == [1_000])
            #expect(statements.first?.month == "2027-01")
            #expect(try await services.ledger.balances(of: buyer.id).first?.statementMinor == 1_000)
            await #expect(throws: PaymentError.monthNotOver("2027-01")) { try await services.payments.closeMonth("2027-01") }

            clock.advance(by: 6 * 86_400)
            let run = try await services.payments.closeMonth("2027-01")
            #expect(run.paid.map(\.buyerID) == [buyer.id])
            #expect(run.failed.map(\.buyerID) == [carol.id])
            #expect(try await services.ledger.balances(of: buyer.id).first?.statementMinor == 0)
            #expect(try await services.payments.statements(by: asCarol).first?.status == .failed)
            // Closing again charges nobody twice.
            let again = try await services.payments.closeMonth("2027-01")
            #expect(again.paid.isEmpty)
            #expect(again.failed.map(\.buyerID) == [carol.id])
            try await Self.expectClean(services)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theLedgerRefusesToChangeATransfer(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            try await services.ledger.topUpGuaranteeFund(currency: Currency("EUR")!, amountMinor: 100, reference: "seed")
            // The triggers refuse with their own message (a constraint or a typo would say something else).
            for statement in ["UPDATE ledger_transfers SET amount_minor = 1", "DELETE FROM ledger_transfers"] {
                let refused = await #expect(throws: (any Error).self) {
                    try await services.store.database.transaction { sql in try await sql.raw(SQLQueryString(statement)).run() }
                }
                #expect(String(reflecting: refused).contains("ledger transfers are append-only"), "\(statement): \(String(reflecting: refused))")
            }
            #expect(try await services.store.read { try await $0.ledger.transferCount() } == 1)
            // Tampering with a stored balance is caught by the audit, and named.
            try await services.store.database.transaction { sql in try await sql.raw("UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE kind = 'guaranteeFund'").run() }
            let report = try await services.ledger.verify()
            #expect(Set(report.findings.map(\.code)) == [.totalsMismatch])
        }
    }
}
