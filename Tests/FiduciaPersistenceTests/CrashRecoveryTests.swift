import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import SQLKit
import Testing

/// Attack 5: multi-step money flows used to leave money held forever, or a card charged with
/// nothing to show for it, when the server died between the steps. Each test runs the first steps
/// on a server whose payment provider "kills" it at the worst moment (it does the provider's part,
/// then nothing after it in the process runs), drops that server, and starts a fresh one on the
/// same database, whose jobs must finish the flow: applied or refunded, never lost or doubled.
@Suite("Crash recovery of money flows")
struct CrashRecoveryTests {
    /// Where the simulated crash happens.
    enum CrashPoint: Sendable {
        /// The provider charged the card; the server dies before it hears back.
        case afterCharge
        /// The server dies before the provider is asked to charge.
        case beforeCharge
        /// The server dies before the provider is asked to pay out.
        case beforePayout
    }

    struct SimulatedCrash: Error {}

    /// The sandbox, with the server dying at `point`.
    struct CrashingProvider: PaymentProvider {
        let sandbox: SandboxPaymentProvider
        let point: CrashPoint
        var name: String { sandbox.name }

        func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
            switch point {
            case .afterCharge:
                _ = try await sandbox.charge(request)
                throw SimulatedCrash()
            case .beforeCharge: throw SimulatedCrash()
            case .beforePayout: return try await sandbox.charge(request)
            }
        }

        func payout(_ request: PayoutRequest) async throws -> PayoutOutcome {
            if point == .beforePayout { throw SimulatedCrash() }
            return try await sandbox.payout(request)
        }

        func findCharge(idempotencyKey: String) async throws -> ChargeOutcome { try await sandbox.findCharge(idempotencyKey: idempotencyKey) }
        func refund(_ request: CardRefundRequest) async throws -> RefundOutcome { try await sandbox.refund(request) }
        func verifyCard(_ token: String) async throws -> CardCheck { try await sandbox.verifyCard(token) }
        func verifyWebhook(body: [UInt8], signature: String?, now: Date) async throws -> PaymentEvent {
            try await sandbox.verifyWebhook(body: body, signature: signature, now: now)
        }
    }

    /// Runs `before` on a server that crashes at `point`, then `after` on a fresh server over the
    /// same database (the first one's memory is gone; only the database remains).
    static func crash(
        _ kind: TestDatabaseKind, at point: CrashPoint, clock: ManualClock = ManualClock(),
        before: @Sendable (AppServices) async throws -> Void,
        after: @Sendable (AppServices) async throws -> Void
    ) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ in
            let store = try await TestDatabases.store(database)
            let sandbox = SandboxPaymentProvider(store: store, clock: clock, random: SystemRandomSource())
            let dying = AppServices(database: database, vault: try await TestDatabases.vault(database), settings: .forTests, clock: clock, provider: CrashingProvider(sandbox: sandbox, point: point))
            try await before(dying)
            let restarted = AppServices(database: database, vault: try await TestDatabases.vault(database), settings: .forTests, clock: clock)
            try await after(restarted)
        }
    }

    static func charges(_ services: AppServices) async throws -> [(status: String, refunded: Int64)] {
        try await services.store.database.read { sql in
            try await sql.raw("SELECT status, refunded_minor FROM sandbox_charges ORDER BY created_at").all().map {
                (try $0.decode(column: "status", as: String.self), try $0.decode(column: "refunded_minor", as: Int64.self))
            }
        }
    }

    static func order(_ seller: UserID) -> NewOrder {
        NewOrder(sellerID: seller, currency: "EUR", items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: 4_000)])
    }

    @Test(arguments: TestDatabases.kinds)
    func aChargeWhoseServerDiedIsAppliedByReconciliation(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        let orderID = OrderBox()
        try await Self.crash(kind, at: .afterCharge, clock: clock) { services in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let order = try await services.escrow.createOrder(Self.order(seller.id), by: asBuyer)
            orderID.set(order.id)
            await #expect(throws: PaymentError.providerUnavailable) {
                try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            }
            // A retry before reconciliation could charge twice, so it is told to wait.
            await #expect(throws: PaymentError.paymentInProgress) {
                try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            }
            #expect(try await services.escrow.order(order.id, by: asBuyer).status == .created)
        } after: { services in
            let id = try #require(orderID.value)
            // Nothing happens before the reconciliation is due…
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            #expect(try await services.store.read { try await $0.orders.find(id, lock: false) }?.status == .created)
            // …then the charge the provider made is found and applied.
            clock.advance(by: services.settings.chargeReconcileSeconds)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let order = try #require(try await services.store.read { try await $0.orders.find(id, lock: false) })
            #expect(order.status == .paid)
            #expect(order.heldMinor == 4_000)
            let charges = try await Self.charges(services)
            #expect(charges.map(\.status) == ["succeeded"])
            let attempts = try await services.store.read { try await $0.payments.chargeAttempts(purpose: .order, subjectID: id.rawValue) }
            #expect(attempts.map(\.state) == [.succeeded])
            #expect(try await services.ledger.verify().isClean)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aChargeForAnOrderCancelledMeanwhileGoesBackToTheCard(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await Self.crash(kind, at: .afterCharge, clock: clock) { services in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let order = try await services.escrow.createOrder(Self.order(seller.id), by: asBuyer)
            await #expect(throws: PaymentError.providerUnavailable) {
                try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            }
            // The buyer gives up and cancels the unpaid order.
            _ = try await services.escrow.perform(.cancel(reason: nil), on: order.id, by: asBuyer)
        } after: { services in
            clock.advance(by: services.settings.chargeReconcileSeconds)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            // The reconciliation found the charge, could not apply it, and wrote the refund job,
            // which the next pass runs.
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let charges = try await Self.charges(services)
            #expect(charges.map(\.status) == ["refunded"])
            #expect(charges.map(\.refunded) == [4_000])
            // The money never reached the ledger, so the ledger has nothing to show for it.
            #expect(try await services.store.read { try await $0.ledger.transferCount() } == 0)
            #expect(try await services.ledger.verify().isClean)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aChargeThatWasNeverMadeIsAbandonedAndTheBuyerPaysAgain(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        let box = OrderBox()
        try await Self.crash(kind, at: .beforeCharge, clock: clock) { services in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            let order = try await services.escrow.createOrder(Self.order(seller.id), by: asBuyer)
            box.set(order.id)
            await #expect(throws: PaymentError.providerUnavailable) {
                try await services.escrow.pay(order.id, with: .card(token: "tok_visa"), by: asBuyer)
            }
        } after: { services in
            let id = try #require(box.value)
            clock.advance(by: services.settings.chargeReconcileSeconds)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let attempts = try await services.store.read { try await $0.payments.chargeAttempts(purpose: .order, subjectID: id.rawValue) }
            #expect(attempts.map(\.state) == [.abandoned])
            #expect(try await Self.charges(services).isEmpty)
            let buyer = try #require(try await services.store.read { try await $0.users.findCredentials(email: "ann@example.com") }?.user)
            let paid = try await services.escrow.pay(id, with: .card(token: "tok_visa"), by: .user(buyer, session: SessionID("ses_ann")))
            #expect(paid.status == .paid)
            #expect(try await Self.charges(services).map(\.status) == ["succeeded"])
            #expect(try await services.ledger.verify().isClean)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aDepositChargeIsNeverLost(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await Self.crash(kind, at: .afterCharge, clock: clock) { services in
            let (_, asSeller) = try await services.makeUser("tea", roles: [.seller])
            await #expect(throws: PaymentError.providerUnavailable) {
                try await services.payments.placeDeposit(currency: "EUR", amountMinor: 20_000, from: .card(token: "tok_visa"), by: asSeller)
            }
        } after: { services in
            clock.advance(by: services.settings.chargeReconcileSeconds)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let seller = try #require(try await services.store.read { try await $0.users.findCredentials(email: "tea@example.com") }?.user)
            #expect(try await services.ledger.balances(of: seller.id).first?.depositMinor == 20_000)
            #expect(try await Self.charges(services).map(\.status) == ["succeeded"])
            #expect(try await services.ledger.verify().isClean)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aPayoutHeldWhenTheServerDiedIsSubmittedByItsJob(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await Self.crash(kind, at: .beforePayout, clock: clock) { services in
            let (seller, asSeller) = try await services.makeUser("tea", roles: [.seller])
            try await services.store.write { repositories in
                try await services.ledger.execute([
                    MoneyMovement(debit: .platform(.external), credit: .user(seller.id, .available), amountMinor: 7_000, mode: .posted, purpose: .chargeCredited, reference: "gift"),
                ], currency: Currency("EUR")!, orderID: nil, in: repositories, now: clock.now())
            }
            let payout = try await services.payments.requestPayout(currency: "EUR", amountMinor: 7_000, destination: "DE89 3704", by: asSeller)
            #expect(payout.status == .pending)
            #expect(payout.submittedAt == nil)
        } after: { services in
            let seller = try #require(try await services.store.read { try await $0.users.findCredentials(email: "tea@example.com") }?.user)
            #expect(try await services.ledger.balances(of: seller.id).first?.payingOutMinor == 7_000)
            // The submission job (written with the hold) asks the provider; its webhook settles it.
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            clock.advance(by: 3)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let payouts = try await services.store.read { try await $0.payments.payouts(user: seller.id, limit: 10) }
            #expect(payouts.map(\.status) == [.paid])
            #expect(payouts.first?.submittedAt != nil)
            let balance = try #require(try await services.ledger.balances(of: seller.id).first)
            #expect((balance.availableMinor, balance.payingOutMinor) == (0, 0))
            #expect(try await services.ledger.verify().isClean)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aStatementChargeIsSettledByReconciliation(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_801_000_000))  // 2027-01-27
        try await Self.crash(kind, at: .afterCharge, clock: clock) { services in
            let (_, asBuyer) = try await services.makeUser("ann")
            let (seller, _) = try await services.makeUser("tea", roles: [.seller])
            _ = try await services.payments.saveCard(token: "tok_visa", by: asBuyer)
            let order = try await services.escrow.createOrder(
                NewOrder(sellerID: seller.id, currency: "EUR", items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: 800)]), by: asBuyer
            )
            _ = try await services.escrow.pay(order.id, with: .statement(), by: asBuyer)
            clock.advance(by: 6 * 86_400)
            let run = try await services.payments.closeMonth("2027-01")
            #expect(run.paid.isEmpty)
        } after: { services in
            clock.advance(by: services.settings.chargeReconcileSeconds)
            try await services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let buyer = try #require(try await services.store.read { try await $0.users.findCredentials(email: "ann@example.com") }?.user)
            let statements = try await services.store.read { try await $0.payments.statements(buyer: buyer.id) }
            #expect(statements.map(\.status) == [.paid])
            #expect(try await services.ledger.balances(of: buyer.id).first?.statementMinor == 0)
            // Closing again charges nobody twice.
            let again = try await services.payments.closeMonth("2027-01")
            #expect(again.paid.isEmpty && again.failed.isEmpty)
            #expect(try await Self.charges(services).map(\.status) == ["succeeded"])
            #expect(try await services.ledger.verify().isClean)
        }
    }
}

/// Carries an id from the crashing server's closure to the restarted one's.
final class OrderBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: OrderID?
    var value: OrderID? { lock.withLock { stored } }
    func set(_ id: OrderID) { lock.withLock { stored = id } }
}
