import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// Money in and out (B4, B5, B6): security deposits, payouts, saved cards, monthly statements
/// and the payment provider's webhooks.
///
/// Every flow that talks to the provider is either one transaction plus an outbox job (payouts,
/// card refunds) or the card-charge saga with reconciliation (deposits, statements), so that a
/// crash at any point leaves nothing held forever and nothing charged twice or lost.
public struct PaymentsService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let ledger: LedgerService
    let cardCharges: CardCharges
    public let provider: any PaymentProvider
    let logger: Logger

    init(store: Store, clock: any WallClock, random: any RandomSource, ledger: LedgerService, cardCharges: CardCharges, provider: any PaymentProvider, logger: Logger) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.ledger = ledger
        self.cardCharges = cardCharges
        self.provider = provider
        self.logger = logger
    }

    private static func validate(amountMinor: Int64, currency: String) throws -> Currency {
        var validator = Validator()
        let parsed = Currency(currency)
        validator.check(parsed != nil, field: "currency", "The currency must be an ISO 4217 code such as EUR.")
        validator.check(amountMinor >= 1, field: "amountMinor", "The amount must be a positive number of minor units.")
        try validator.throwIfInvalid()
        // Each currency has its own ceiling, below the document's one for all currencies.
        let limit = parsed!.limits.maximumOrderTotalMinor
        guard amountMinor <= limit else {
            throw RuleNotMet(field: "amountMinor", "The amount may be at most \(limit) minor units of \(parsed!.code).")
        }
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
        let reference = "deposit:\(ids.make(Transfer.self))"
        let now = clock.now()
        switch source {
        case .card(let token):
            let token = token.trimmingWhitespace()
            guard (1...100).contains(token.codePointCount) else { throw ValidationError(field: "cardToken", "A card deposit needs a cardToken.") }
            let attempt = ChargeAttempt(
                id: ids.make(), purpose: .deposit, subjectID: reference, userID: seller.id, amountMinor: amountMinor, currency: currency,
                cardToken: token, createdAt: now
            )
            try await store.write { try await cardCharges.begin(attempt, in: $0, now: now) }
            _ = try await cardCharges.complete(attempt, effect: recordDeposit)
        case .balance:
            try await store.write { repositories in
                try await ledger.execute([
                    MoneyMovement(debit: .user(seller.id, .available), credit: .user(seller.id, .deposit), amountMinor: amountMinor, mode: .posted,
                                  purpose: .depositPlaced, reference: reference),
                ], currency: currency, orderID: nil, in: repositories, now: now)
                try await CreditService.scheduleRefresh(seller.id, role: .seller, in: repositories, now: now, ids: ids)
            }
        }
        return try await ledger.balances(of: seller.id).first { $0.currency == currency }!
    }

    /// Moves part or all of the acting user's security deposit back to their available balance,
    /// once it no longer backs any sale (`DepositWithdrawal`): the usual payout rules apply from
    /// there. Anyone may call it (a seller whose role was removed keeps their deposit); with no
    /// deposit there is nothing to withdraw.
    public func withdrawDeposit(currency: String, amountMinor: Int64, by principal: Principal) async throws -> UserBalance {
        let user = try principal.requireUser()
        let currency = try Self.validate(amountMinor: amountMinor, currency: currency)
        let reference = "deposit-withdrawal:\(ids.make(Transfer.self))"
        let now = clock.now()
        try await store.write { repositories in
            let deposit = AccountReference.user(user.id, .deposit), available = AccountReference.user(user.id, .available)
            // The deposit is locked first: a fine or a second withdrawal waits for this one.
            let accounts = try await repositories.ledger.lockAccounts(
                [deposit, available].sorted(by: AccountReference.lockOrder), currency: currency, newID: { ids.make() }, now: now
            )
            try await checkWithdrawal(amountMinor, from: accounts[deposit]!.balances.spendable, of: user.id, currency: currency, in: repositories, now: now)
            try await ledger.execute([
                MoneyMovement(debit: deposit, credit: available, amountMinor: amountMinor, mode: .posted, purpose: .depositWithdrawn, reference: reference),
            ], currency: currency, orderID: nil, in: repositories, now: now)
            // The deposit raised the seller's starting point: recompute the score without it.
            try await CreditService.scheduleRefresh(user.id, role: .seller, in: repositories, now: now, ids: ids)
        }
        return try await ledger.balances(of: user.id).first { $0.currency == currency }!
    }

    /// Whether the acting user's deposit in `currency` could be withdrawn now, and if not, why
    /// (for the wallet page, which says so before anyone tries).
    public func depositWithdrawalHold(currency: Currency, depositMinor: Int64, by principal: Principal) async throws -> DepositWithdrawalError? {
        let user = try principal.requireUser()
        let now = clock.now()
        return try await store.read { repositories in
            do {
                try await checkWithdrawal(depositMinor, from: depositMinor, of: user.id, currency: currency, in: repositories, now: now)
                return nil
            } catch let error as DepositWithdrawalError {
                return error
            }
        }
    }

    /// Reads what the deposit still backs (recent sales, a debt to the fund) and judges a withdrawal.
    private func checkWithdrawal(
        _ amountMinor: Int64, from depositMinor: Int64, of user: UserID, currency: Currency, in repositories: Repositories, now: Date
    ) async throws {
        let debt = try await repositories.ledger.accounts(owner: .user(user))
            .first { $0.kind == .debt && $0.currency == currency }?.balances.postedDebitBalance ?? 0
        let since = now.addingTimeInterval(-Double(DepositWithdrawal.longestClaimDays + 1) * 86_400)
        let sales = try await repositories.orders.backedByDeposit(seller: user, completedSince: since)
        try DepositWithdrawal.check(amountMinor: amountMinor, depositMinor: depositMinor, currency: currency, sales: sales, debtMinor: debt, at: now)
    }

    /// The effect of a successful card charge for a deposit.
    var recordDeposit: CardCharges.Effect {
        { attempt, _, repositories, now in
            try await ledger.execute([
                MoneyMovement(debit: .platform(.external), credit: .user(attempt.userID, .deposit), amountMinor: attempt.amountMinor, mode: .posted,
                              purpose: .depositPlaced, reference: attempt.subjectID),
            ], currency: attempt.currency, orderID: nil, in: repositories, now: now)
            // The deposit raises a seller's starting point: recompute the score.
            try await CreditService.scheduleRefresh(attempt.userID, role: .seller, in: repositories, now: now, ids: ids)
        }
    }

    // MARK: Payouts

    static let submitPayoutJobKind = "payments.submitPayout"

    /// Sends money from the acting user's balance to their bank account. In one transaction the
    /// amount is held and a submission job is written; the provider is then asked at once (and,
    /// should that fail or the server die, by the job). The provider's webhook later posts the
    /// hold (paid) or voids it (failed). The reserve (`PayoutReserve`) stays behind.
    public func requestPayout(currency: String, amountMinor: Int64, destination: String, by principal: Principal) async throws -> Payout {
        let user = try principal.requireUser()
        let currency = try Self.validate(amountMinor: amountMinor, currency: currency)
        let destination = destination.trimmingWhitespace()
        guard Payout.destinationLength.contains(destination.codePointCount) else { throw ValidationError(field: "destination", "Give the account to pay into (1 to 80 characters).") }
        let now = clock.now()
        let payout = Payout(id: ids.make(), userID: user.id, currency: currency, amountMinor: amountMinor, destination: destination, createdAt: now)
        try await store.write { repositories in
            try await IncidentService.requireNone("payouts", in: repositories)
            try await ledger.requireWithdrawable(amountMinor, of: user.id, currency: currency, alsoLocking: [.platform(.external)], in: repositories, now: now)
            try await repositories.payments.insertPayout(payout)
            try await ledger.execute([
                MoneyMovement(
                    debit: .user(user.id, .available), credit: .platform(.external), amountMinor: amountMinor,
                    mode: .pending, purpose: .payout, reference: payout.holdReference
                ),
            ], currency: currency, orderID: nil, in: repositories, now: now)
            try await repositories.jobs.schedule(
                Job(id: ids.make(), kind: Self.submitPayoutJobKind, uniqueKey: "\(Self.submitPayoutJobKind):\(payout.id)", payload: payout.id.rawValue, dueAt: now),
                now: now
            )
        }
        do {
            if let submitted = try await submit(payout.id, cancelJob: true) { return submitted }
        } catch {
            logger.warning("a payout could not be submitted now; its job will try again", metadata: ["payout": "\(payout.id)", "error": "\(String(reflecting: error))"])
        }
        return payout
    }

    /// Asks the provider to make a pending payout (idempotent by payout id), then records its
    /// answer: accepted (the webhook settles it later) or rejected (the hold is voided).
    private func submit(_ id: PayoutID, cancelJob: Bool) async throws -> Payout? {
        guard let outcome = try await askProvider(toPay: id) else { return nil }
        return try await store.write { repositories in
            let payout = try await record(outcome, for: id, in: repositories, now: clock.now())
            if cancelJob { try await repositories.jobs.cancel(uniqueKey: "\(Self.submitPayoutJobKind):\(id)", now: clock.now()) }
            return payout
        }
    }

    private func askProvider(toPay id: PayoutID) async throws -> PayoutOutcome? {
        // The hold and the submission job must be on disk before the provider can pay out.
        try await store.commitRequestWrites()
        guard let payout = try await store.read({ try await $0.payments.payout(id, lock: false) }), payout.status == .pending, payout.submittedAt == nil else {
            return nil
        }
        // A payout asked for just before an incident waits, held, until the incident ends.
        if let incident = try await store.read({ try await $0.incidents.active() }) {
            throw JobDeferred(seconds: 60, reason: "incident mode: \(incident.reason)")
        }
        return try await provider.payout(PayoutRequest(payoutID: payout.id, amountMinor: payout.amountMinor, currency: payout.currency, destination: payout.destination))
    }

    private func record(_ outcome: PayoutOutcome, for id: PayoutID, in repositories: Repositories, now: Date) async throws -> Payout? {
        guard var payout = try await repositories.payments.payout(id, lock: true) else { return nil }
        guard payout.status == .pending, payout.submittedAt == nil else { return payout }
        switch outcome {
        case .accepted:
            payout.submittedAt = now
            try await repositories.payments.updatePayout(payout)
            return payout
        case .rejected(let reason):
            return try await settle(id, paid: false, reason: reason, in: repositories, now: now)
        }
    }

    /// The submission job: the outbox half of `requestPayout`.
    var submitPayoutJob: JobHandler {
        JobHandler(kind: Self.submitPayoutJobKind, outside: { job, _ in
            try await askProvider(toPay: PayoutID(job.payload))
        }, then: { job, outcome, repositories, now in
            guard let outcome else { return }
            _ = try await record(outcome, for: PayoutID(job.payload), in: repositories, now: now)
        })
    }

    public func payouts(by principal: Principal) async throws -> [Payout] {
        let user = try principal.requireUser()
        return try await store.read { try await $0.payments.payouts(user: user.id, limit: 100) }
    }

    /// Posts or voids a payout's hold, once; later calls for a settled payout change nothing.
    func settle(_ id: PayoutID, paid: Bool, reason: String?, in repositories: Repositories, now: Date) async throws -> Payout? {
        guard var payout = try await repositories.payments.payout(id, lock: true) else { return nil }
        guard payout.status == .pending else { return payout }
        let hold = MoneyMovement(debit: .user(payout.userID, .available), credit: .platform(.external), amountMinor: payout.amountMinor,
                                 mode: .pending, purpose: .payout, reference: payout.holdReference)
        try await ledger.execute([paid ? .post(hold) : .void(hold)], currency: payout.currency, orderID: nil, in: repositories, now: now)
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

    /// Saves the acting user's card, which monthly statements are charged to, once the provider
    /// accepted a verification: a card that cannot pay never backs statement credit.
    public func saveCard(token: String, by principal: Principal) async throws -> SavedCard {
        let user = try principal.requireUser()
        let token = token.trimmingWhitespace()
        guard (1...100).contains(token.codePointCount) else { throw PaymentError.unknownCard }
        let card: SavedCard
        switch try await provider.verifyCard(token) {
        case .accepted(let label): card = SavedCard(token: token, label: label)
        case .declined(let reason): throw PaymentError.cardDeclined(reason)
        case .unknown: throw PaymentError.unknownCard
        }
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
    /// statement on the buyer's saved card (`fiducia billing close`), each through the card-charge
    /// saga. A declined statement stays failed and is tried again at the next run.
    public func closeMonth(_ month: String, progress: @Sendable (Int, Int, Statement) -> Void = { _, _, _ in }) async throws -> BillingRun {
        guard let (_, end) = MonthName.range(of: month) else { throw ValidationError(field: "month", "The month must be written YYYY-MM.") }
        guard clock.now() >= end else { throw PaymentError.monthNotOver(month) }
        let statements = try await store.read { try await $0.payments.unsettledStatements(through: month) }
        var run = BillingRun()
        for (index, statement) in statements.enumerated() {
            progress(index + 1, statements.count, statement)
            let settled = try await close(statement)
            if settled.status == .paid { run.paid.append(settled) } else { run.failed.append(settled) }
        }
        return run
    }

    private func close(_ statement: Statement) async throws -> Statement {
        let now = clock.now()
        let card = try await store.read { try await $0.payments.savedCard(user: statement.buyerID) }
        if statement.totalMinor == 0 || card == nil {
            // Nothing to charge (every purchase was refunded), or nothing to charge it to.
            return try await store.write { repositories in
                guard var current = try await repositories.payments.statement(statement.id, lock: true), current.status != .paid else { return statement }
                if current.totalMinor == 0 {
                    current.status = .paid
                    current.settledAt = now
                } else {
                    current.status = .failed
                    current.failureReason = "no saved card"
                }
                try await repositories.payments.updateStatement(current)
                return current
            }
        }
        let attempt = ChargeAttempt(
            id: ids.make(), purpose: .statement, subjectID: statement.id.rawValue, userID: statement.buyerID, amountMinor: statement.totalMinor,
            currency: statement.currency, cardToken: card!.token, createdAt: now
        )
        do {
            try await store.write { try await cardCharges.begin(attempt, in: $0, now: now) }
            _ = try await cardCharges.complete(attempt, effect: settleStatement)
        } catch PaymentError.cardDeclined(let reason) {
            try await store.write { repositories in
                guard var current = try await repositories.payments.statement(statement.id, lock: true), current.status != .paid else { return }
                current.status = .failed
                current.failureReason = reason
                try await repositories.payments.updateStatement(current)
            }
        } catch let error as PaymentError where error == .paymentInProgress || error == .providerUnavailable {
            logger.warning("a statement could not be settled now; reconciliation will finish it", metadata: ["statement": "\(statement.id)"])
        }
        return try await store.read { try await $0.payments.statement(statement.id, lock: false) } ?? statement
    }

    /// The effect of a successful card charge for a statement: the statement is paid. If the
    /// statement changed since the charge was asked for (a purchase on it was refunded), the
    /// charge is refused, refunded, and the statement is charged again at the next close.
    var settleStatement: CardCharges.Effect {
        { attempt, _, repositories, now in
            guard var current = try await repositories.payments.statement(StatementID(attempt.subjectID), lock: true), current.status != .paid,
                current.totalMinor == attempt.amountMinor
            else { throw PaymentError.statementChanged }
            try await ledger.execute([
                MoneyMovement(
                    debit: .platform(.external), credit: .user(current.buyerID, .statement),
                    amountMinor: current.totalMinor, mode: .posted, purpose: .statementPayment, reference: "statement:\(current.id):payment"
                ),
            ], currency: current.currency, orderID: nil, in: repositories, now: now)
            current.status = .paid
            current.failureReason = nil
            current.settledAt = now
            try await repositories.payments.updateStatement(current)
        }
    }

    /// The card-charge effect of each purpose, for reconciliation.
    func chargeEffect(_ purpose: ChargeAttempt.Purpose, escrow: EscrowService) -> CardCharges.Effect {
        switch purpose {
        case .order: escrow.recordCardPayment
        case .deposit: recordDeposit
        case .statement: settleStatement
        }
    }
}
