import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// Disputes, penalties and appeals through the real services on real databases: every deadline,
/// the money each outcome moves, and the race between a ruling and auto-completion.
@Suite("Disputes on SQLite and PostgreSQL")
struct DisputeServiceTests {
    /// A buyer, a seller and a paid (and, by default, shipped) card order of 100.00 EUR.
    struct Trade {
        let services: AppServices
        let clock: ManualClock
        let buyer: User, asBuyer: Principal
        let seller: User, asSeller: Principal
        var order: Order

        func runJobs() async throws {
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
        }

        func reload() async throws -> Order {
            try await services.escrow.order(order.id, by: asBuyer)
        }

        func expectClean(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let report = try await services.ledger.verify()
            #expect(report.isClean, "\(report.findings)", sourceLocation: sourceLocation)
        }
    }

    static func trade(_ kind: TestDatabaseKind, shipped: Bool = true, _ body: (Trade) async throws -> Void) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (buyer, asBuyer) = try await services.makeUser("ann")
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            var order = try await services.escrow.createOrder(EscrowServiceTests.order()(seller.id), by: asBuyer)
            order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            if shipped { order = try await services.escrow.perform(.ship(carrier: "SF Express", trackingNumber: "SF1"), on: order.id, by: asSeller) }
            try await body(Trade(services: services, clock: clock, buyer: buyer, asBuyer: asBuyer, seller: seller, asSeller: asSeller, order: order))
        }
    }

    static let notReceived = NewDispute(reason: .notReceived, description: "Nothing arrived after three weeks.")

    // MARK: Deadlines

    @Test(arguments: TestDatabases.kinds)
    func aSilentSellerLosesAndTheBuyerIsRefunded(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let dispute = try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asBuyer)
            #expect(dispute.status == .awaitingSeller)
            #expect(dispute.deadline?.kind == .sellerResponse)
            #expect(dispute.deadline?.dueAt == trade.clock.now().addingTimeInterval(3 * 86_400))
            var order = try await trade.reload()
            #expect(order.escrowFrozen)
            #expect(EscrowMachine.allowedActions(order: order, actor: .buyer(trade.buyer.id), now: trade.clock.now()).isEmpty)

            // Not yet: one second before the deadline nothing happens.
            trade.clock.advance(by: 3 * 86_400 - 1)
            try await trade.runJobs()
            #expect(try await services.disputes.dispute(dispute.id, by: trade.asBuyer).dispute.status == .awaitingSeller)

            trade.clock.advance(by: 2)
            try await trade.runJobs()
            let view = try await services.disputes.dispute(dispute.id, by: trade.asBuyer)
            #expect(view.dispute.status == .resolved)
            #expect(view.dispute.resolution?.how == .sellerDefault)
            #expect(view.dispute.resolution?.refundMinor == 10_000)
            order = try await trade.reload()
            #expect(order.status == .refunded)
            #expect(!order.escrowFrozen)
            #expect(order.timeline.map(\.kind).suffix(2) == [.disputeOpened, .disputeResolved])
            // The card refund runs as a job; afterwards nothing is held and the seller got nothing.
            try await trade.runJobs()
            let buyerBalance = try #require(try await services.ledger.balances(of: trade.buyer.id).first)
            #expect(buyerBalance.heldAsBuyerMinor == 0)
            #expect(buyerBalance.refundingToCardMinor == 0)
            let sellerBalance = try #require(try await services.ledger.balances(of: trade.seller.id).first)
            #expect(sellerBalance.availableMinor == 0)
            #expect(sellerBalance.incomingAsSellerMinor == 0)
            // Losing by silence is a violation of the rulebook: 2 points, with a statement of reasons.
            let violations = try await services.penalties.violations(of: trade.seller.id)
            #expect(violations.map(\.violationCode) == ["dispute-lost"])
            #expect(violations.first?.points == 2)
            #expect(violations.first?.disputeID == dispute.id)
            #expect(violations.first?.reasons.rule.contains("rulebook version 1") == true)
            #expect(try await services.penalties.standing(of: trade.seller.id).level == .warned)
            try await trade.expectClean()
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aSilentBuyerLetsTheOrderGoOnAndItCompletesInTime(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let shippedAt = trade.clock.now()
            trade.clock.advance(by: 86_400)
            let dispute = try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asBuyer)
            trade.clock.advance(by: 3_600)
            let offered = try await services.disputes.respond(to: dispute.id, .offer(refundMinor: 2_000, note: "Part of the set was late."), by: trade.asSeller)
            #expect(offered.status == .awaitingBuyer)
            #expect(offered.deadline?.kind == .buyerResponse)

            trade.clock.advance(by: 3 * 86_400 + 1)
            try await trade.runJobs()
            let closed = try await services.disputes.dispute(dispute.id, by: trade.asBuyer).dispute
            #expect(closed.resolution?.how == .buyerDefault)
            #expect(closed.resolution?.refundMinor == 0)
            // No refund, no release: the order is shipped and unfrozen, with the confirmation time
            // it had left when the dispute paused it (10 days after shipping, plus the pause).
            var order = try await trade.reload()
            #expect(order.status == .shipped)
            #expect(!order.escrowFrozen)
            let paused = 3_600 + 3 * 86_400 + 1.0
            #expect(order.confirmBy == shippedAt.addingTimeInterval(10 * 86_400 + paused))
            #expect(try await services.penalties.violations(of: trade.seller.id).isEmpty)

            trade.clock.set(try #require(order.confirmBy).addingTimeInterval(1))
            try await trade.runJobs()
            order = try await trade.reload()
            #expect(order.status == .completed)
            #expect(try await services.ledger.balances(of: trade.seller.id).first?.availableMinor == 9_800)
            // An order is disputed once.
            await #expect(throws: EscrowError.alreadyDisputed) {
                try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asBuyer)
            }
            try await trade.expectClean()
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func evidenceNotGivenInTimeLosesTheDispute(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let moderator = try await services.makeStaff("mia")
            let dispute = try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asBuyer)
            _ = try await services.disputes.escalate(dispute.id, by: trade.asBuyer)
            // Only the moderator who took it may ask for evidence.
            await #expect(throws: DisputeError.notAssigned) {
                try await services.disputes.requestEvidence(dispute.id, from: .seller, note: "Proof of posting?", by: moderator)
            }
            _ = try await services.disputes.take(dispute.id, by: moderator)
            var asked = try await services.disputes.requestEvidence(dispute.id, from: .buyer, note: "A photo of the empty mailbox?", by: moderator)
            #expect(asked.deadline == DisputeDeadline(kind: .evidence, party: .buyer, dueAt: trade.clock.now().addingTimeInterval(48 * 3_600)))
            // The buyer answers in time: the deadline stops.
            trade.clock.advance(by: 3_600)
            _ = try await services.disputes.addEvidence(to: dispute.id, text: "The mailbox, empty, on the 12th.", by: trade.asBuyer)
            asked = try await services.disputes.dispute(dispute.id, by: moderator).dispute
            #expect(asked.deadline == nil)
            // The seller is asked and stays silent: 48 hours later the buyer is refunded.
            asked = try await services.disputes.requestEvidence(dispute.id, from: .seller, note: "Proof of posting, please.", by: moderator)
            trade.clock.advance(by: 48 * 3_600 + 1)
            try await trade.runJobs()
            let resolved = try await services.disputes.dispute(dispute.id, by: moderator)
            #expect(resolved.dispute.resolution?.how == .sellerDefault)
            #expect(resolved.evidence.map(\.role) == [.buyer])
            #expect(try await trade.reload().status == .refunded)
            try await trade.expectClean()
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aReturnNotConfirmedIsRefundedAndOneNotShippedGoesToTheSeller(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let moderator = try await services.makeStaff("mia")
            let request = NewDispute(reason: .notAsDescribed, remedy: .returnAndRefund, description: "The tea is green, the listing said black.")
            let dispute = try await services.disputes.open(on: trade.order.id, request, by: trade.asBuyer)
            _ = try await services.disputes.escalate(dispute.id, by: trade.asSeller)
            _ = try await services.disputes.take(dispute.id, by: moderator)
            var ruled = try await services.disputes.resolve(dispute.id, ruling: .returnThenRefund(amountMinor: 10_000),
                                                            reasons: "The photos show green tea; return it for a full refund.", by: moderator)
            #expect(ruled.status == .awaitingReturn)
            #expect(ruled.deadline?.kind == .returnShipment)
            trade.clock.advance(by: 2 * 86_400)
            ruled = try await services.disputes.shipReturn(dispute.id, carrier: "EMS", trackingNumber: "EE123", by: trade.asBuyer)
            #expect(ruled.deadline == DisputeDeadline(kind: .returnConfirmation, party: .seller, dueAt: trade.clock.now().addingTimeInterval(10 * 86_400)))
            trade.clock.advance(by: 10 * 86_400 + 1)
            try await trade.runJobs()
            let done = try await services.disputes.dispute(dispute.id, by: trade.asBuyer).dispute
            #expect(done.resolution?.how == .ruling)
            #expect(done.resolution?.refundMinor == 10_000)
            #expect(try await trade.reload().status == .refunded)
            try await trade.expectClean()
        }
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let request = NewDispute(reason: .damaged, remedy: .returnAndRefund, description: "The tin arrived crushed.")
            let dispute = try await services.disputes.open(on: trade.order.id, request, by: trade.asBuyer)
            let accepted = try await services.disputes.respond(to: dispute.id, .accept, by: trade.asSeller)
            #expect(accepted.status == .awaitingReturn)
            trade.clock.advance(by: 7 * 86_400 + 1)
            try await trade.runJobs()
            let done = try await services.disputes.dispute(dispute.id, by: trade.asSeller).dispute
            #expect(done.resolution?.how == .buyerDefault)
            // Nothing refunded and not a ruling: the order goes on and completes in its own time.
            #expect(try await trade.reload().status == .shipped)
            try await trade.expectClean()
        }
    }

    // MARK: Outcomes, penalties, appeals

    @Test(arguments: TestDatabases.kinds)
    func aPartialRefundRulingMovesTheLedgerPenalisesAndAnAppealOverturnsIt(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let mia = try await services.makeStaff("mia")
            let max = try await services.makeStaff("max")
            let dispute = try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asBuyer)
            _ = try await services.disputes.escalate(dispute.id, by: trade.asBuyer)
            #expect(try await services.disputes.disputes(.queue, by: mia).map(\.id) == [dispute.id])
            _ = try await services.disputes.take(dispute.id, by: mia)
            // A party cannot rule; a ruling needs its reasons.
            await #expect(throws: DisputeError.notYourPart("rule")) {
                try await services.disputes.resolve(dispute.id, ruling: .release, reasons: "mine", by: trade.asSeller)
            }
            await #expect(throws: ValidationError.self) {
                try await services.disputes.resolve(dispute.id, ruling: .refund(amountMinor: 4_000), reasons: "  ", by: mia)
            }
            let ruled = try await services.disputes.resolve(dispute.id, ruling: .refund(amountMinor: 4_000),
                                                            reasons: "Half the parcel arrived; the tracking shows one box lost.", by: mia)
            #expect(ruled.resolution == DisputeResolution(how: .ruling, refundMinor: 4_000, reasons: "Half the parcel arrived; the tracking shows one box lost.",
                                                          decidedBy: try #require(mia.actingUser?.id), decidedAt: trade.clock.now()))
            // 40.00 back to the buyer's card; the other 60.00 released: 58.80 to the seller, 1.20 in fees.
            let order = try await trade.reload()
            #expect(order.status == .completed)
            #expect(order.refundedMinor == 4_000)
            try await trade.runJobs()
            #expect(try await services.ledger.balances(of: trade.seller.id).first?.availableMinor == 5_880)
            #expect(try await services.ledger.balances(of: trade.buyer.id).first?.heldAsBuyerMinor == 0)
            try await trade.expectClean()

            // The seller lost a ruling: 2 points, decided through the dispute.
            let penalty = try #require(try await services.penalties.violations(of: trade.seller.id).first)
            #expect(penalty.violationCode == "dispute-lost")
            #expect(penalty.status == .active)
            // Appeal: only the penalised user, one at a time, reviewed by a moderator who did not rule.
            await #expect(throws: AppealError.notYourPenalty) { try await services.penalties.appeal(penalty.id, statement: "Not me", by: trade.asBuyer) }
            let appeal = try await services.penalties.appeal(penalty.id, statement: "Both boxes were posted; here is the receipt.", by: trade.asSeller)
            await #expect(throws: AppealError.alreadyPending) { try await services.penalties.appeal(penalty.id, statement: "Again", by: trade.asSeller) }
            await #expect(throws: AppealError.sameModerator) {
                try await services.penalties.decideAppeal(appeal.id, decision: .overturn, reasons: "Fine by me", by: mia)
            }
            let decided = try await services.penalties.decideAppeal(appeal.id, decision: .overturn,
                                                                    reasons: "The receipt shows both boxes posted; the carrier lost one.", by: max)
            #expect(decided.status == .overturned)
            let record = try #require(try await services.penalties.violations(of: trade.seller.id).first)
            #expect(record.status == .overturned)
            #expect(record.points == 0)
            #expect(try await services.penalties.standing(of: trade.seller.id).level == .good)
            await #expect(throws: AppealError.alreadyDecided) {
                try await services.penalties.decideAppeal(appeal.id, decision: .uphold, reasons: "Changed my mind", by: max)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aCounterfeitRulingFinesTheDepositAndOverturningReturnsTheFine(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let mia = try await services.makeStaff("mia")
            let max = try await services.makeStaff("max")
            _ = try await services.payments.placeDeposit(currency: "EUR", amountMinor: 50_000, from: .card(token: "tok_visa"), by: trade.asSeller)
            let request = NewDispute(reason: .counterfeit, description: "The seal is fake; the brand confirmed it.")
            let dispute = try await services.disputes.open(on: trade.order.id, request, by: trade.asBuyer)
            _ = try await services.disputes.escalate(dispute.id, by: trade.asBuyer)
            _ = try await services.disputes.take(dispute.id, by: mia)
            _ = try await services.disputes.resolve(dispute.id, ruling: .refund(amountMinor: 10_000), reasons: "The brand's letter confirms a counterfeit.", by: mia)
            // The counterfeit rule: 24 points and a 200.00 fine from the deposit into the fund.
            let penalty = try #require(try await services.penalties.violations(of: trade.seller.id).first)
            #expect(penalty.violationCode == "counterfeit")
            #expect(penalty.points == 24)
            #expect(penalty.fineMinor == 20_000)
            #expect(penalty.decidedBy == mia.actingUser?.id)
            #expect(try await services.ledger.balances(of: trade.seller.id).first?.depositMinor == 30_000)
            // 24 points: no new sales for 14 days; orders already paid keep going.
            let standing = try await services.penalties.standing(of: trade.seller.id)
            #expect(standing.level == .restricted)
            #expect(standing.until == trade.clock.now().addingTimeInterval(14 * 86_400))
            await #expect(throws: StandingError(standing: standing, activity: "sell")) {
                try await services.escrow.createOrder(EscrowServiceTests.order()(trade.seller.id), by: trade.asBuyer)
            }
            try await trade.expectClean()

            let appeal = try await services.penalties.appeal(penalty.id, statement: "The brand's letter was about another batch.", by: trade.asSeller)
            _ = try await services.penalties.decideAppeal(appeal.id, decision: .reduce(points: 6), reasons: "Another batch; the seal was still not checked.", by: max)
            // 6 of 24 points kept: a quarter of the fine stays, 150.00 returns with a new transfer.
            var record = try #require(try await services.penalties.violations(of: trade.seller.id).first)
            #expect(record.status == .reduced)
            #expect(record.fineReturnedMinor == 15_000)
            #expect(try await services.ledger.balances(of: trade.seller.id).first?.depositMinor == 45_000)
            let again = try await services.penalties.appeal(penalty.id, statement: "And the seal was checked: photo attached.", by: trade.asSeller)
            _ = try await services.penalties.decideAppeal(again.id, decision: .overturn, reasons: "The photo shows the checked seal.", by: max)
            record = try #require(try await services.penalties.violations(of: trade.seller.id).first)
            #expect(record.fineReturnedMinor == 20_000)
            #expect(try await services.ledger.balances(of: trade.seller.id).first?.depositMinor == 50_000)
            #expect(try await services.penalties.standing(of: trade.seller.id).level == .good)
            _ = try await services.escrow.createOrder(EscrowServiceTests.order()(trade.seller.id), by: trade.asBuyer)
            try await trade.expectClean()
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func afterCompletionTheSellerPaysAndTheFundCoversWhatTheyCannot(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let mia = try await services.makeStaff("mia")
            _ = try await services.ledger.topUpGuaranteeFund(currency: Currency("EUR")!, amountMinor: 100_000, reference: "seed")
            _ = try await services.escrow.perform(.confirmReceipt, on: trade.order.id, by: trade.asBuyer)
            // The seller withdraws nothing; buyer opens within the 7-day return window.
            let dispute = try await services.disputes.open(on: trade.order.id, NewDispute(reason: .damaged, description: "Broken on opening."), by: trade.asBuyer)
            #expect(!dispute.openedInEscrow)
            _ = try await services.disputes.escalate(dispute.id, by: trade.asBuyer)
            _ = try await services.disputes.take(dispute.id, by: mia)
            _ = try await services.disputes.resolve(dispute.id, ruling: .refund(amountMinor: 10_000), reasons: "Photos show it broken in its packing.", by: mia)
            // The seller's 98.00 balance pays their share; the fee and the fund's share come back from the platform.
            let seller = try #require(try await services.ledger.balances(of: trade.seller.id).first)
            #expect(seller.availableMinor == 0)
            #expect(seller.debtMinor == 0)
            #expect(try await trade.reload().status == .refunded)
            try await trade.expectClean()
        }
    }

    /// Two colluding accounts: after the return window the seller pays out everything, then the
    /// buyer "disputes" under the genuine-goods guarantee and the seller accepts. An agreement is
    /// the seller's own refund: it must be covered by their balance and deposit, never the fund.
    @Test(arguments: TestDatabases.kinds)
    func colludersCannotDrainTheFundWithAnAgreedDisputeAfterPayingOut(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (_, asBuyer) = try await services.makeUser("mule")
            let (seller, asSeller) = try await services.makeUser("throwaway", roles: [.seller])
            let eur = Currency("EUR")!
            _ = try await services.ledger.topUpGuaranteeFund(currency: eur, amountMinor: 100_000, reference: "seed")
            _ = try await services.escrow.setPolicy(AfterSalesPolicy(returnWindowDays: 7, genuineGoodsGuarantee: true), by: asSeller)
            var order = try await services.escrow.createOrder(EscrowServiceTests.order()(seller.id), by: asBuyer)
            order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            _ = try await services.escrow.perform(.ship(carrier: "SF Express", trackingNumber: "SF1"), on: order.id, by: asSeller)
            _ = try await services.escrow.perform(.confirmReceipt, on: order.id, by: asBuyer)
            clock.advance(by: 8 * 86_400)
            let available = try #require(try await services.ledger.balances(of: seller.id).first).availableMinor
            #expect(available == 9_800)
            _ = try await services.payments.requestPayout(currency: "EUR", amountMinor: available, destination: "DE89 0000", by: asSeller)
            let fundBefore = try await services.ledger.verify().totals[eur]?.guaranteeFundMinor

            let dispute = try await services.disputes.open(on: order.id, NewDispute(reason: .counterfeit, description: "Fake, says my friend."), by: asBuyer)
            await #expect(throws: EscrowError.sellerCannotCoverRefund(coverableMinor: 0, neededMinor: 9_800)) {
                try await services.disputes.respond(to: dispute.id, .accept, by: asSeller)
            }
            // Nothing moved: the dispute still waits for the seller, the fund is untouched.
            #expect(try await services.disputes.dispute(dispute.id, by: asBuyer).dispute.status == .awaitingSeller)
            #expect(try await services.ledger.verify().totals[eur]?.guaranteeFundMinor == fundBefore)
            #expect(try await services.escrow.order(order.id, by: asBuyer).refundedMinor == 0)
            let report = try await services.ledger.verify()
            #expect(report.isClean, "\(report.findings)")
        }
    }

    // MARK: Races and bad input

    @Test(arguments: TestDatabases.kinds)
    func aRulingAndAnAutoCompletionCannotBothHappen(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let mia = try await services.makeStaff("mia")
            let seller = trade.seller
            // Ten orders whose auto-completion is due at the very moment their buyer disputes.
            var orders: [OrderID] = []
            for round in 0..<10 {
                var order = try await services.escrow.createOrder(EscrowServiceTests.order(2_000 + 2 * Int64(round))(seller.id), by: trade.asBuyer)
                order = try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: trade.asBuyer)
                order = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "R\(round)"), on: order.id, by: trade.asSeller)
                orders.append(order.id)
            }
            trade.clock.advance(by: 10 * 86_400 + 1)
            let ids = orders
            let opened = await withTaskGroup(of: DisputeID?.self) { group in
                group.addTask { try? await trade.runJobs(); return nil }
                for id in ids {
                    group.addTask { try? await services.disputes.open(on: id, Self.notReceived, by: trade.asBuyer).id }
                }
                return await group.reduce(into: [DisputeID]()) { if let id = $1 { $0.append(id) } }
            }
            // Each order either completed on its own (and then was disputed after completion) or
            // was frozen first (and never auto-completed).
            for id in orders {
                let order = try await services.escrow.order(id, by: trade.asBuyer)
                let kinds = order.timeline.map(\.kind)
                if let opened = kinds.firstIndex(of: .disputeOpened), let completed = kinds.firstIndex(of: .autoCompleted) {
                    #expect(completed < opened, "\(kinds)")
                }
            }
            // Now every open dispute is ruled while the job runner runs again: the rulings win.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await trade.runJobs() }
                for id in opened {
                    group.addTask {
                        _ = try? await services.disputes.escalate(id, by: trade.asBuyer)
                        _ = try? await services.disputes.take(id, by: mia)
                        _ = try? await services.disputes.resolve(id, ruling: .release, reasons: "Delivered per tracking.", by: mia)
                    }
                }
            }
            try await trade.runJobs()
            for id in orders {
                let order = try await services.escrow.order(id, by: trade.asBuyer)
                #expect(order.status == .completed)
                #expect(!order.escrowFrozen)
                let kinds = order.timeline.map(\.kind)
                // Completed exactly once: by the ruling or before the dispute, never both.
                #expect(kinds.filter { $0 == .autoCompleted }.count + kinds.filter { $0 == .disputeResolved }.count >= 1)
                if kinds.contains(.disputeOpened), let opened = kinds.firstIndex(of: .disputeOpened) {
                    #expect(!kinds[opened...].contains(.autoCompleted), "\(kinds)")
                }
            }
            // The seller was paid once per order, less the 2% fee: 98.00 for the first order (which
            // auto-completed too), and 20.00, 20.02 … 20.18 (200.90 in all) less 0.40 each.
            let available = try #require(try await services.ledger.balances(of: seller.id).first?.availableMinor)
            let expected: Int64 = 9_800 + 20_090 - 10 * 40
            #expect(available == expected)
            try await trade.expectClean()
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badInputGetsANamedProblemAndChangesNothing(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let before = try await trade.reload()
            await #expect(throws: NotFoundError(entity: "order", id: "ord_nope")) {
                try await services.disputes.open(on: OrderID("ord_nope"), Self.notReceived, by: trade.asBuyer)
            }
            // An unpaid order cannot be disputed.
            let unpaid = try await services.escrow.createOrder(EscrowServiceTests.order()(trade.seller.id), by: trade.asBuyer)
            await #expect(throws: EscrowError.illegalTransition(.openDispute, status: .created)) {
                try await services.disputes.open(on: unpaid.id, Self.notReceived, by: trade.asBuyer)
            }
            // Only the buyer opens one.
            await #expect(throws: EscrowError.notAllowed(.openDispute)) {
                try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asSeller)
            }
            // A file whose bytes are not what its name and type say, and six files.
            let pdf = Array("%PDF-1.7 receipt".utf8)
            let lying = UploadedFile(fileName: "photo.jpg", declaredType: "image/jpeg", bytes: pdf)
            await #expect(throws: AttachmentError.typeMismatch("photo.jpg", declared: "image/jpeg", detected: .pdf)) {
                try await services.disputes.open(on: trade.order.id, NewDispute(reason: .damaged, description: "Broken", files: [lying]), by: trade.asBuyer)
            }
            let six = (1...6).map { UploadedFile(fileName: "receipt\($0).pdf", declaredType: "application/pdf", bytes: pdf) }
            await #expect(throws: AttachmentError.tooMany(6)) {
                try await services.disputes.open(on: trade.order.id, NewDispute(reason: .damaged, description: "Broken", files: six), by: trade.asBuyer)
            }
            // More than is left to refund: a rule of the order's state (422).
            await #expect(throws: RuleNotMet.self) {
                try await services.disputes.open(on: trade.order.id, NewDispute(reason: .damaged, remedy: .partialRefund, amountMinor: 10_000, description: "x"), by: trade.asBuyer)
            }
            // Nothing changed.
            #expect(try await trade.reload() == before)
            #expect(try await services.disputes.disputes(.mine, by: trade.asBuyer).isEmpty)

            // A second dispute on the same order is refused by name.
            let five = (1...5).map { UploadedFile(fileName: "receipt\($0).pdf", declaredType: "application/pdf", bytes: pdf) }
            let first = try await services.disputes.open(on: trade.order.id, NewDispute(reason: .damaged, description: "Broken", files: five), by: trade.asBuyer)
            await #expect(throws: DisputeError.alreadyOpen(first.id)) {
                try await services.disputes.open(on: trade.order.id, Self.notReceived, by: trade.asBuyer)
            }
            let view = try await services.disputes.dispute(first.id, by: trade.asSeller)
            #expect(view.evidence.first?.attachments.count == 5)
            // The seller may fetch the evidence; a stranger may not learn it exists.
            let attachment = try #require(view.evidence.first?.attachments.first)
            #expect(try await services.attachments.download(attachment.id, by: trade.asSeller).bytes == pdf)
            let (_, stranger) = try await services.makeUser("eve")
            await #expect(throws: NotFoundError.self) { try await services.attachments.download(attachment.id, by: stranger) }
            await #expect(throws: NotFoundError.self) { try await services.disputes.dispute(first.id, by: stranger) }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentOpeningsMakeOneDispute(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let id = trade.order.id
            let made = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { (try? await services.disputes.open(on: id, Self.notReceived, by: trade.asBuyer)) != nil } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(made == 1)
            #expect(try await services.disputes.disputes(.mine, by: trade.asBuyer).count == 1)
        }
    }

    // MARK: Messages, reports, the rulebook

    @Test(arguments: TestDatabases.kinds)
    func messagesAreEvidenceAndGiveTheSellersResponseTime(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            _ = try await services.messages.send(on: trade.order.id, text: "Has it shipped?", by: trade.asBuyer)
            trade.clock.advance(by: 2 * 3_600)
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]
            let upload = try await services.attachments.upload(UploadedFile(fileName: "label.png", declaredType: "image/png", bytes: png), by: trade.asSeller)
            let answer = try await services.messages.send(on: trade.order.id, text: "Yes, here is the label.", attachmentIDs: [upload.id], by: trade.asSeller)
            #expect(answer.attachments.map(\.id) == [upload.id])
            // An upload is attached once.
            await #expect(throws: AttachmentReferenceError.unknown(upload.id)) {
                try await services.messages.send(on: trade.order.id, text: "again", attachmentIDs: [upload.id], by: trade.asSeller)
            }
            let page = try await services.messages.messages(on: trade.order.id, page: try PageRequest(limit: 50), by: trade.asBuyer)
            #expect(page.items.map(\.role) == [.buyer, .seller])
            let (_, stranger) = try await services.makeUser("eve")
            await #expect(throws: NotFoundError.self) { try await services.messages.send(on: trade.order.id, text: "hi", by: stranger) }
            // The database refuses to change or delete a message.
            await #expect(throws: (any Error).self) {
                try await services.store.database.transaction { sql in try await sql.raw("UPDATE order_messages SET body = 'edited'").run() }
            }
            await #expect(throws: (any Error).self) {
                try await services.store.database.transaction { sql in try await sql.raw("DELETE FROM order_messages").run() }
            }
            let profile = try await services.credit.profile(of: trade.seller.id, role: .seller, viewer: .anonymous)
            let seconds = try #require(profile.responseTimeSeconds)
            #expect(seconds.rounded() == 7_200)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func reportsAreRateLimitedAndTriagedWithReasons(_ kind: TestDatabaseKind) async throws {
        try await Self.trade(kind) { trade async throws in
            let services = trade.services
            let mia = try await services.makeStaff("mia")
            let (_, pest) = try await services.makeUser("pest")
            for number in 0..<ReportRules.dailyLimit {
                _ = try await services.reports.create(about: .user(trade.seller.id), category: .other, text: "Complaint \(number)", by: pest)
            }
            await #expect(throws: ReportError.tooManyReports(limit: 10)) {
                try await services.reports.create(about: .user(trade.seller.id), category: .other, text: "One more", by: pest)
            }
            let real = try await services.reports.create(about: .order(trade.order.id), category: .fraud, text: "The tracking number is fake.", by: trade.asBuyer)
            // A stranger cannot report an order they cannot see.
            let (_, stranger) = try await services.makeUser("eve")
            await #expect(throws: ReportError.targetNotFound) {
                try await services.reports.create(about: .order(trade.order.id), category: .fraud, text: "?", by: stranger)
            }
            // Dismiss two of the pest's reports: their reports sink below the buyer's.
            let queue = try await services.reports.queue(by: mia)
            for queued in queue.filter({ $0.report.reporterID != trade.buyer.id }).prefix(2) {
                _ = try await services.reports.resolve(queued.report.id, resolution: .dismiss, reasons: "Nothing in it.", by: mia)
            }
            let sorted = try await services.reports.queue(by: mia)
            #expect(sorted.first?.report.id == real.id)
            #expect(sorted.last?.reporterWeight == 0.25)
            let resolved = try await services.reports.resolve(real.id, resolution: .penalise(violation: "fraud", user: nil), reasons: "The carrier has no such number.", by: mia)
            #expect(resolved.status == .actionTaken)
            #expect(resolved.reasons?.rule.contains("Fraud (fraud)") == true)
            // The reporter sees the outcome; the seller is now banned from new orders.
            #expect(try await services.reports.mine(by: trade.asBuyer).first?.status == .actionTaken)
            #expect(try await services.penalties.standing(of: trade.seller.id).level == .banned)
            await #expect(throws: ReportError.alreadyResolved) {
                try await services.reports.resolve(real.id, resolution: .dismiss, reasons: "again", by: mia)
            }
            // Hiding fits only a rating.
            let other = try #require(sorted.last)
            await #expect(throws: ReportError.actionDoesNotFit) {
                try await services.reports.resolve(other.report.id, resolution: .hideRating, reasons: "x", by: mia)
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aRulebookChangeTakesEffectOnlyWhenASecondAdministratorApproves(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withServices(kind) { services async throws in
            let ada = try await services.makeStaff("ada")
            let bob = try await services.makeStaff("bob")
            let bundled = PenaltyService.bundledRulebook
            #expect(try await services.penalties.rulebooks().inForce.version == 1)
            let document = bundled.document.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2")
                .replacingOccurrences(of: "\"points\": 2,", with: "\"points\": 3,")
            let proposed = try await services.penalties.proposeRulebook(document, by: ada)
            #expect(proposed.status == .proposed)
            #expect(try await services.penalties.rulebooks().inForce.version == 1)
            await #expect(throws: RulebookError.sameAdministrator) { try await services.penalties.decideRulebook(version: 2, approve: true, by: ada) }
            await #expect(throws: RulebookError.versionOutOfSequence(expected: 3)) { try await services.penalties.proposeRulebook(document, by: bob) }
            await #expect(throws: ValidationError.self) { try await services.penalties.proposeRulebook("{}", by: bob) }
            let approved = try await services.penalties.decideRulebook(version: 2, approve: true, by: bob)
            #expect(approved.status == .approved)
            let inForce = try await services.penalties.rulebooks().inForce
            #expect(inForce.version == 2)
            #expect(inForce.rulebook.violation("dispute-lost")?.points == 3)
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let penalty = try await services.penalties.apply(violation: "dispute-lost", to: seller.id, facts: "Lost dsp_x.", by: bob)
            #expect(penalty.points == 3)
            #expect(penalty.rulebookVersion == 2)
            await #expect(throws: RulebookError.unknownViolation("nope")) {
                try await services.penalties.apply(violation: "nope", to: seller.id, facts: "x", by: bob)
            }
        }
    }
}
