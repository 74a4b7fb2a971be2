import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// Money in and out (B4, B5, B6): security deposits, payouts, saved cards, monthly statements
/// and the payment provider's webhooks.
public struct PaymentsService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let ledger: LedgerService
    public let provider: any PaymentProvider
    let logger: Logger

    init(store: Store, clock: any WallClock, random: any RandomSource, ledger: LedgerService, provider: any PaymentProvider, logger: Logger) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.ledger = ledger
        self.provider = provider
        self.logger = logger
    }

    static let maximumAmountMinor: Int64 = 1_000_000_000_000

    private static func validate(amountMinor: Int64, currency: String) throws -> Currency {
        var validator = Validator()
        let parsed = Currency(currency)
        validator.check(parsed != nil, field: "currency", "The currency must be an ISO 4217 code such as EUR.")
        validator.check((1...maximumAmountMinor).contains(amountMinor), field: "amountMinor", "The amount must be a positive number of minor units.")
        try validator.throwIfInvalid()
        return parsed!
    }

    // MARK: Deposits

    /// Where a deposit's money comes from.
    public enum Source: Sendable, Equatable {
        case card(token: String)
        case balance
    }

    /// Places (or adds to) the acting seller's security deposit, from a card or their balance.
    public func placeDeposit(currency: String, amountMinor: Int64, from source: Source, by principal: Principal) async throws -> UserBalance {
        let seller = try principal.requireRole(.seller)
        let currency = try Self.validate(amountMinor: amountMinor, currency: currency)
        let depositID: TransferID = ids.make()
        let reference = "deposit:\(depositID)"
        var movements: [MoneyMovement] = []
        var chargeID: String?
        switch source {
        case .card(let token):
            switch try await provider.charge(ChargeRequest(idempotencyKey: reference, amountMinor: amountMinor, currency: currency, cardToken: token)) {
            case .declined(let reason): throw PaymentError.cardDeclined(reason)
            case .succeeded(let charge): chargeID = charge
            }
            movements.append(MoneyMovement(
                debit: .platform(.external), credit: AccountReference(.user(seller.id), .deposit), amountMinor: amountMinor,
                mode: .posted, purpose: .depositPlaced, reference: reference
            ))
        case .balance:
            movements.append(MoneyMovement(
                debit: AccountReference(.user(seller.id), .available), credit: AccountReference(.user(seller.id), .deposit),
                amountMinor: amountMinor, mode: .posted, purpose: .depositPlaced, reference: reference
            ))
        }
        let now = clock.now()
        let plannedMovements = movements
        do {
            try await store.write { repositories in
                try await ledger.execute(plannedMovements, currency: currency, orderID: nil, in: repositories, now: now)
                // The deposit raises a seller's starting point: recompute the score.
                try await CreditService.scheduleRefresh(seller.id, role: .seller, in: repositories, now: now, ids: ids)
            }
        } catch {
            if let chargeID { try? await provider.refund(chargeID: chargeID, amountMinor: amountMinor) }
            throw error
        }
        return try await ledger.balances(of: seller.id).first { $0.currency == currency }!
    }

    // MARK: Payouts

    /// Sends money from the acting user's available balance to their bank account. The amount is
    /// held at once; the provider's webhook later posts the hold (paid) or voids it (failed).
    public func requestPayout(currency: String, amountMinor: Int64, destination: String, by principal: Principal) async throws -> Payout {
        let user = try principal.requireUser()
        let currency = try Self.validate(amountMinor: amountMinor, currency: currency)
        let destination = destination.trimmingWhitespace()
        guard (1...80).contains(destination.count) else { throw ValidationError(field: "destination", "Give the account to pay into (1 to 80 characters).") }
        let now = clock.now()
        let payout = Payout(id: ids.make(), userID: user.id, currency: currency, amountMinor: amountMinor, destination: destination, createdAt: now)
        try await store.write { repositories in
            try await repositories.payments.insertPayout(payout)
            try await ledger.execute([
                MoneyMovement(
                    debit: AccountReference(.user(user.id), .available), credit: .platform(.external), amountMinor: amountMinor,
                    mode: .pending, purpose: .payout, reference: payout.holdReference
                ),
            ], currency: currency, orderID: nil, in: repositories, now: now)
        }
        switch try await provider.payout(PayoutRequest(payoutID: payout.id, amountMinor: amountMinor, currency: currency, destination: destination)) {
        case .accepted:
            return payout
        case .rejected(let reason):
            return try await store.write { repositories in
                try await settle(payout.id, paid: false, reason: reason, in: repositories, now: self.clock.now()) ?? payout
            }
        }
    }

    public func payouts(by principal: Principal) async throws -> [Payout] {
        let user = try principal.requireUser()
        return try await store.read { try await $0.payments.payouts(user: user.id, limit: 100) }
    }

    /// Posts or voids a payout's hold, once; later calls for a settled payout change nothing.
    func settle(_ id: PayoutID, paid: Bool, reason: String?, in repositories: Repositories, now: Date) async throws -> Payout? {
        guard var payout = try await repositories.payments.payout(id, lock: true) else { return nil }
        guard payout.status == .pending else { return payout }
        let hold = payout.holdReference
        try await ledger.execute([
            MoneyMovement(
                debit: AccountReference(.user(payout.userID), .available), credit: .platform(.external), amountMinor: 0,
                mode: paid ? .postPending(reference: hold) : .voidPending(reference: hold), purpose: .payout,
                reference: hold + (paid ? ":post" : ":void")
            ),
        ], currency: payout.currency, orderID: nil, in: repositories, now: now)
        payout.status = paid ? .paid : .failed
        payout.failureReason = paid ? nil : (reason ?? "the payout failed")
        payout.settledAt = now
        try await repositories.payments.updatePayout(payout)
        return payout
    }

    // MARK: Webhooks

    /// Receives a provider's webhook: verifies its signature and age, ignores a replayed event id,
    /// and applies the event, all in one transaction. Returns false for a duplicate.
    public func receiveWebhook(provider name: String, body: [UInt8], signature: String?) async throws -> Bool {
        guard name == provider.name else { throw WebhookError.unknownProvider(name) }
        let now = clock.now()
        let event = try await provider.verifyWebhook(body: body, signature: signature, now: now)
        return try await store.write { repositories in
            guard try await repositories.payments.recordWebhookEvent(
                provider: name, eventID: event.id, type: event.type.rawValue, payload: String(decoding: body, as: UTF8.self), now: now
            ) else { return false }
            try await apply(event, in: repositories, now: now)
            return true
        }
    }

    func apply(_ event: PaymentEvent, in repositories: Repositories, now: Date) async throws {
        switch event.type {
        case .payoutPaid: _ = try await settle(PayoutID(event.payoutId), paid: true, reason: nil, in: repositories, now: now)
        case .payoutFailed: _ = try await settle(PayoutID(event.payoutId), paid: false, reason: event.reason, in: repositories, now: now)
        }
    }

    // MARK: Saved cards and statements

    /// Saves the acting user's card, which monthly statements are charged to.
    public func saveCard(token: String, by principal: Principal) async throws -> SavedCard {
        let user = try principal.requireUser()
        guard let label = try await provider.describeCard(token) else { throw PaymentError.unknownCard }
        let card = SavedCard(token: token, label: label)
        let now = clock.now()
        try await store.write { try await $0.payments.saveCard(card, user: user.id, now: now) }
        return card
    }

    public func savedCard(by principal: Principal) async throws -> SavedCard? {
        let user = try principal.requireUser()
        return try await store.read { try await $0.payments.savedCard(user: user.id) }
    }

    public func statements(by principal: Principal) async throws -> [Statement] {
        let user = try principal.requireUser()
        return try await store.read { try await $0.payments.statements(buyer: user.id) }
    }

    /// What closing a month did.
    public struct BillingRun: Sendable, Equatable {
        public var paid: [Statement] = []
        public var failed: [Statement] = []
    }

    /// Settles every open (or earlier failed) statement of `month` and before, one charge per
    /// statement on the buyer's saved card (`fiducia billing close`). A declined statement stays
    /// failed and is tried again at the next run.
    public func closeMonth(_ month: String, progress: @Sendable (Int, Int, Statement) -> Void = { _, _, _ in }) async throws -> BillingRun {
        guard let (_, end) = MonthName.range(of: month) else { throw ValidationError(field: "month", "The month must be written YYYY-MM.") }
        guard clock.now() >= end else { throw PaymentError.monthNotOver(month) }
        let statements = try await store.read { try await $0.payments.unsettledStatements(through: month) }
        var run = BillingRun()
        for (index, statement) in statements.enumerated() {
            progress(index + 1, statements.count, statement)
            let card = try await store.read { try await $0.payments.savedCard(user: statement.buyerID) }
            var outcome = ChargeOutcome.declined(reason: "no saved card")
            if let card, statement.totalMinor > 0 {
                outcome = try await provider.charge(ChargeRequest(
                    idempotencyKey: "statement:\(statement.id):\(card.token)", amountMinor: statement.totalMinor,
                    currency: statement.currency, cardToken: card.token
                ))
            } else if statement.totalMinor == 0 {
                outcome = .succeeded(chargeID: "nothing-to-charge")
            }
            let now = clock.now()
            let chargeOutcome = outcome
            let settled = try await store.write { repositories -> Statement in
                guard var current = try await repositories.payments.statement(statement.id, lock: true), current.status != .paid else {
                    return statement
                }
                switch chargeOutcome {
                case .succeeded:
                    if current.totalMinor > 0 {
                        try await ledger.execute([
                            MoneyMovement(
                                debit: .platform(.external), credit: AccountReference(.user(current.buyerID), .statement),
                                amountMinor: current.totalMinor, mode: .posted, purpose: .statementPayment, reference: "statement:\(current.id):payment"
                            ),
                        ], currency: current.currency, orderID: nil, in: repositories, now: now)
                    }
                    current.status = .paid
                    current.failureReason = nil
                    current.settledAt = now
                case .declined(let reason):
                    current.status = .failed
                    current.failureReason = reason
                }
                try await repositories.payments.updateStatement(current)
                return current
            }
            if settled.status == .paid { run.paid.append(settled) } else { run.failed.append(settled) }
        }
        return run
    }
}
