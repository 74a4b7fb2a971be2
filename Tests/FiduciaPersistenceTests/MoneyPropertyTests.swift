import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// Random sequences of every money operation, by buyers, sellers and staff, through the real
/// services on a real database: orders paid by card, balance and statement; shipping, confirming,
/// refunds of every size, cancellations, staff decisions with second approvals, payouts, deposits,
/// statements closed, and time passing with the jobs running. After every step:
///
/// * `ledger verify` finds nothing (balanced, no user balance negative, stored totals equal the
///   transfers, escrow equal to what the orders hold);
/// * escrow reached a seller only by the buyer's confirmation or the end of the confirmation
///   period (or a staff decision, recorded with its reason);
/// * the guarantee fund paid only where a staff decision was executed.
@Suite("Money properties on real databases")
struct MoneyPropertyTests {
    struct Cast {
        let buyers: [(User, Principal)]
        let sellers: [(User, Principal)]
        let staff: [Principal]
    }

    @Test(arguments: TestDatabases.kinds, [UInt64(11), 12])
    func randomMoneyOperationsKeepEveryInvariant(_ kind: TestDatabaseKind, seed: UInt64) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_801_000_000))
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            var random = SplitMix(seed: seed)
            try await services.ledger.topUpGuaranteeFund(currency: Currency("EUR")!, amountMinor: 10_000_000, reference: "seed")
            let cast = Cast(
                buyers: [try await services.makeUser("ann"), try await services.makeUser("bob")],
                sellers: [try await services.makeUser("tea", roles: [.seller, .buyer]), try await services.makeUser("books", roles: [.seller])],
                staff: [try await services.makeStaff("mod1"), try await services.makeStaff("mod2")]
            )
            for (_, buyer) in cast.buyers + [cast.sellers[0]] { _ = try await services.payments.saveCard(token: "tok_visa", by: buyer) }
            let runner = services.jobRunner(logger: TestDatabases.logger)
            var accepted = 0
            var kinds: [String: Int] = [:]
            for step in 0..<400 {
                let orders = try await services.store.read { try await $0.orders.list(.all, status: nil, after: nil, limit: 1_000) }
                let open = orders.filter { !$0.status.isFinal || $0.status == .completed }
                let name: String
                do {
                    name = try await Self.randomStep(step, services: services, cast: cast, orders: open, clock: clock, runner: runner, random: &random)
                } catch let error as any DomainError {
                    // Refused by name (a ledger, escrow or reserve rule): nothing happened, go on.
                    _ = error.code
                    continue
                }
                guard name != "skip" else { continue }
                accepted += 1
                kinds[name, default: 0] += 1
                try await Self.checkInvariants(services, after: name, seed: seed)
            }
            #expect(accepted >= 60, "seed \(seed): only \(accepted) steps accepted")
            for operation in ["create", "pay", "ship", "confirm", "refund", "cancel", "decision", "payout", "deposit", "time"] {
                #expect(kinds[operation, default: 0] > 0, "seed \(seed) never did \(operation): \(kinds)")
            }
        }
    }

    /// One random operation; returns its name, or throws the domain error that refused it.
    static func randomStep(
        _ step: Int, services: AppServices, cast: Cast, orders: [Order], clock: ManualClock, runner: JobRunner, random: inout SplitMix
    ) async throws -> String {
        /// A random order in one of `statuses` (so that most steps have something to act on).
        func pick(_ statuses: OrderStatus...) -> Order? {
            let candidates = orders.filter { statuses.contains($0.status) }
            return candidates.isEmpty ? nil : candidates[Int(random.next() % UInt64(candidates.count))]
        }
        func party(_ id: UserID) -> Principal {
            (cast.buyers + cast.sellers).first { $0.0.id == id }!.1
        }
        // Weighted so that orders move along: creating is rarer than paying, shipping and confirming.
        let weights = [2, 3, 3, 3, 1, 2, 1, 1, 3, 1, 1, 2]
        var roll = Int(random.next() % UInt64(weights.reduce(0, +)))
        var operation = 0
        while roll >= weights[operation] {
            roll -= weights[operation]
            operation += 1
        }
        switch operation {
        case 0:
            let buyer = cast.buyers[Int(random.next() % 2)].1
            let seller = cast.sellers[Int(random.next() % 2)].0
            let price = Int64(random.next() % 9 + 1) * (random.next() % 3 == 0 ? 100 : 5_000)
            _ = try await services.escrow.createOrder(NewOrder(sellerID: seller.id, currency: "EUR", items: [LineItem(title: "Item", quantity: 1, unitPriceMinor: price)]), by: buyer)
            return "create"
        case 1:
            guard let order = pick(.created) else { return "skip" }
            let methods: [PaymentMethod] = [.card(token: "tok_visa"), .card(token: "tok_visa"), .balance, .statement()]
            _ = try await services.escrow.pay(order.id, with: methods[Int(random.next() % 4)], by: party(order.buyerID))
            return "pay"
        case 2:
            guard let order = pick(.paid) else { return "skip" }
            _ = try await services.escrow.perform(.ship(carrier: "X", trackingNumber: "\(step)"), on: order.id, by: party(order.sellerID))
            return "ship"
        case 3:
            guard let order = pick(.shipped) else { return "skip" }
            _ = try await services.escrow.perform(.confirmReceipt, on: order.id, by: party(order.buyerID))
            return "confirm"
        case 4:
            guard let order = pick(.shipped, .completed) else { return "skip" }
            _ = try await services.escrow.perform(.requestRefund(amountMinor: nil, reason: "broken"), on: order.id, by: party(order.buyerID))
            return "request"
        case 5:
            guard let order = pick(.paid, .shipped, .completed), order.refundableMinor > 0 else { return "skip" }
            let amount = random.next() % 2 == 0 ? nil : Int64(random.next() % UInt64(order.refundableMinor)) + 1
            _ = try await services.escrow.perform(.refund(amountMinor: amount, reason: nil), on: order.id, by: party(order.sellerID))
            return "refund"
        case 6:
            guard let order = pick(.created, .paid) else { return "skip" }
            let who = random.next() % 2 == 0 ? order.buyerID : order.sellerID
            _ = try await services.escrow.perform(.cancel(reason: nil), on: order.id, by: party(who))
            return "cancel"
        case 7:
            guard let order = pick(.paid, .shipped, .completed), order.refundableMinor > 0 else { return "skip" }
            let action: StaffDecision.Action = random.next() % 3 == 0 ? .cancel : .refund
            let amount = Int64(random.next() % UInt64(order.refundableMinor)) + 1
            let decision = try await services.escrow.proposeDecision(action, amountMinor: amount, reason: "ruling \(step)", on: order.id, by: cast.staff[0])
            if decision.status == .awaitingApproval { _ = try await services.escrow.approveDecision(decision.id, by: cast.staff[1]) }
            return "decision"
        case 8:
            let (user, principal) = (cast.buyers + cast.sellers)[Int(random.next() % 4)]
            guard let balance = try await services.ledger.balances(of: user.id).first, balance.availableMinor > 0 else { return "skip" }
            // Mostly within what may leave; now and then more, which the reserve or the ledger refuses.
            let limit = random.next() % 4 == 0 ? balance.availableMinor : balance.withdrawableMinor
            guard limit > 0 else { return "skip" }
            let amount = Int64(random.next() % UInt64(limit)) + 1
            _ = try await services.payments.requestPayout(currency: "EUR", amountMinor: amount, destination: random.next() % 4 == 0 ? "fail-account" : "DE89", by: principal)
            return "payout"
        case 9:
            let seller = cast.sellers[Int(random.next() % 2)].1
            let source: PaymentsService.Source = random.next() % 2 == 0 ? .balance : .card(token: "tok_visa")
            _ = try await services.payments.placeDeposit(currency: "EUR", amountMinor: Int64(random.next() % 5 + 1) * 1_000, from: source, by: seller)
            return "deposit"
        case 10:
            let month = MonthName.of(clock.now().addingTimeInterval(-40 * 86_400))
            _ = try await services.payments.closeMonth(month)
            return "close"
        default:
            // Mostly hours (orders stay payable), now and then days (periods end, windows close).
            clock.advance(by: Double(random.next() % (random.next() % 4 == 0 ? 4 * 86_400 : 6 * 3_600)))
            try await runner.runDueJobs()
            return "time"
        }
    }

    static func checkInvariants(_ services: AppServices, after step: String, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await services.ledger.verify()
        #expect(report.isClean, "seed \(seed) after \(step): \(report.findings)", sourceLocation: sourceLocation)
        let (transfers, orders) = try await services.store.read { repositories in
            (try await repositories.ledger.transfers(after: nil, limit: 100_000), try await repositories.orders.list(.all, status: nil, after: nil, limit: 10_000))
        }
        let byID = Dictionary(uniqueKeysWithValues: transfers.map { ($0.id, $0) })
        let ordersByID = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0) })
        for transfer in transfers {
            // A release of escrow: the order completed by the buyer's word or the period's end.
            if case .postPending(let hold) = transfer.mode, byID[hold]?.purpose == .escrowHold, let order = transfer.orderID.flatMap({ ordersByID[$0] }) {
                let released = order.timeline.contains { $0.kind == .receiptConfirmed || $0.kind == .autoCompleted }
                #expect(released, "seed \(seed) after \(step): escrow of \(order.id) released without confirmation", sourceLocation: sourceLocation)
            }
            // The fund pays buyers only on a recorded, executed staff decision.
            if transfer.purpose == .guaranteePayout {
                let orderID = try #require(transfer.orderID)
                let decisions = try await services.store.read { try await $0.staffDecisions.decisions(order: orderID) }
                #expect(decisions.contains { $0.status == .executed && !$0.reason.isEmpty }, "seed \(seed): fund paid on \(orderID) without a decision",
                        sourceLocation: sourceLocation)
            }
        }
    }
}
