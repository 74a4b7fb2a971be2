import FiduciaDomain
import FiduciaPersistence
import Foundation

/// A user's money in one currency, as shown to them.
public struct UserBalance: Sendable, Equatable {
    public let currency: Currency
    /// What the user has on their balance now (posted, minus holds).
    public let availableMinor: Int64
    /// The part of it that stays on the platform while buyers can still return goods (`PayoutReserve`).
    public let reservedMinor: Int64
    /// What can be paid out or spent now: available minus reserved.
    public let withdrawableMinor: Int64
    /// Paid by this user as a buyer and held in escrow.
    public let heldAsBuyerMinor: Int64
    /// Owed to this user as a seller, held in escrow until the buyers confirm.
    public let incomingAsSellerMinor: Int64
    /// Payouts in flight.
    public let payingOutMinor: Int64
    /// Refunds on their way back to the user's card.
    public let refundingToCardMinor: Int64
    public let depositMinor: Int64
    /// What the user owes the guarantee fund.
    public let debtMinor: Int64
    /// Small purchases on unpaid monthly statements.
    public let statementMinor: Int64
    /// Why part of the balance is reserved, in words.
    public let reserveExplanation: String
}

/// Executes money movements on the ledger and answers questions about it.
public struct LedgerService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator

    public init(store: Store, clock: any WallClock, random: any RandomSource) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
    }

    // MARK: Moving money

    /// Applies `movements` in order inside the caller's transaction. Every account involved is
    /// locked first, in one fixed order, so that concurrent transactions cannot deadlock on them;
    /// the pure `LedgerPlanner` turns the movements into checked transfers, which are then stored.
    public func execute(
        _ movements: [MoneyMovement],
        currency: Currency,
        orderID: OrderID?,
        in repositories: Repositories,
        now: Date
    ) async throws {
        guard !movements.isEmpty else { return }
        let references = LedgerPlanner.accounts(of: movements)
        // Platform accounts that are only credited are not locked on PostgreSQL: their change is
        // written as the transaction's last statement (`LateTotals`), so money requests no longer
        // queue behind each other on those few rows.
        let late = repositories.ledger.writesTotalsLate ? LedgerPlanner.lateAccounts(of: movements) : []
        var accounts = try await repositories.ledger.lockAccounts(references.filter { !late.contains($0) }, currency: currency, newID: { ids.make() }, now: now)
        let unlocked = try await repositories.ledger.openAccounts(references.filter { late.contains($0) }, currency: currency, newID: { ids.make() }, now: now)
        accounts.merge(unlocked) { locked, _ in locked }
        let holds = try await repositories.ledger.transfers(references: LedgerPlanner.holdReferences(of: movements))
        let resolved = try await repositories.ledger.resolved(among: holds.values.map(\.id))
        var book = LedgerBook(accounts: accounts, holds: holds, resolved: resolved)
        let transfers = try LedgerPlanner.plan(movements, in: &book, currency: currency, orderID: orderID, at: now, newID: { ids.make() })
        for transfer in transfers {
            try await repositories.ledger.record(transfer)
        }
        // Each account's running totals are written once, after all its transfers.
        let changed = Set(transfers.flatMap { [$0.debitAccountID, $0.creditAccountID] })
        let after = book.accounts.sorted { AccountReference.lockOrder($0.key, $1.key) }.filter { changed.contains($0.value.id) }
        try await repositories.ledger.saveTotals(after.filter { !late.contains($0.key) }.map(\.value))
        let lateAfter = after.filter { late.contains($0.key) }
        if !lateAfter.isEmpty {
            try await repositories.ledger.saveTotalsLate(from: lateAfter.map { unlocked[$0.key]! }, to: lateAfter.map(\.value))
        }
    }

    /// The accounts of `references` to lock before a request's movements are planned. Where the
    /// ledger writes platform totals late (PostgreSQL), platform accounts are left out: `execute`
    /// locks one only if a movement debits it, so the common requests (payments, completions,
    /// refunds before completion) never lock the rows all of them share. Such a debit then locks
    /// a platform row after user rows, against the lock order; the rare cycle this allows with
    /// another request is broken by PostgreSQL's deadlock detection, and the transaction is run
    /// again whole or refused with nothing written.
    static func lockedUpFront(_ references: [AccountReference], in repositories: Repositories) -> [AccountReference] {
        repositories.ledger.writesTotalsLate ? references.filter { $0.owner != .platform } : references
    }

    /// The seller's reserve in `currency` now (see `PayoutReserve`), from their orders and deposit.
    func reserve(of user: UserID, currency: Currency, depositMinor: Int64, in repositories: Repositories, now: Date) async throws -> (PayoutReserve.Record, Int64) {
        let (exposure, settled) = try await repositories.orders.exposure(seller: user, currency: currency, now: now)
        let record = PayoutReserve.Record(exposureMinor: exposure, settledSales: settled, depositMinor: depositMinor)
        return (record, PayoutReserve.reservedMinor(record))
    }

    /// Locks the user's balance and deposit in `currency` (with `alsoLocking`, the other accounts
    /// the caller's movements touch, so that every lock is taken in the one order) and says how
    /// much may leave the platform now; throws `PayoutError.reserveHeld` when `amountMinor` would
    /// dip into the reserve.
    func requireWithdrawable(
        _ amountMinor: Int64, of user: UserID, currency: Currency, alsoLocking: [AccountReference], in repositories: Repositories, now: Date
    ) async throws {
        let references = Set([.user(user, .available), .user(user, .deposit)] + Self.lockedUpFront(alsoLocking, in: repositories))
        let accounts = try await repositories.ledger.lockAccounts(
            references.sorted(by: AccountReference.lockOrder), currency: currency, newID: { ids.make() }, now: now
        )
        let available = accounts[.user(user, .available)]!.balances.spendable
        let (_, reserved) = try await reserve(of: user, currency: currency, depositMinor: accounts[.user(user, .deposit)]!.balances.spendable, in: repositories, now: now)
        let withdrawable = PayoutReserve.withdrawableMinor(availableMinor: available, reservedMinor: reserved)
        // Less than the whole balance is the ledger's insufficient-funds; within it, the reserve's.
        if amountMinor > withdrawable, amountMinor <= available {
            throw PayoutError.reserveHeld(withdrawableMinor: withdrawable, reservedMinor: reserved)
        }
    }

    /// Feeds the buyer guarantee fund from outside (the platform's own money). `reference` names
    /// the top-up (a bank transfer's id, say): the same reference never funds twice.
    public func topUpGuaranteeFund(currency: Currency, amountMinor: Int64, reference: String) async throws {
        var validator = Validator()
        validator.check((1...currency.limits.maximumOrderTotalMinor).contains(amountMinor), field: "amountMinor",
                        "The amount must be a positive number of minor units, at most \(currency.limits.maximumOrderTotalMinor).")
        let reference = reference.trimmingWhitespace()
        validator.check((1...100).contains(reference.codePointCount), field: "reference", "Name the top-up (1 to 100 characters), so that it is recorded once.")
        try validator.throwIfInvalid()
        let now = clock.now()
        let movement = MoneyMovement(
            debit: .platform(.external), credit: .platform(.guaranteeFund), amountMinor: amountMinor, mode: .posted,
            purpose: .fundTopUp, reference: "fund-top-up:\(reference)"
        )
        try await store.write { repositories in
            try await execute([movement], currency: currency, orderID: nil, in: repositories, now: now)
        }
    }

    // MARK: Reading

    /// The user's balances, one per currency they have used.
    public func balances(of user: UserID) async throws -> [UserBalance] {
        let now = clock.now()
        return try await store.read { repositories in
            let accounts = try await repositories.ledger.accounts(owner: .user(user))
            let payingOut = try await repositories.payments.payouts(user: user, limit: 1_000).filter { $0.status == .pending }
            var byCurrency: [Currency: [LedgerAccountKind: LedgerBalances]] = [:]
            for account in accounts { byCurrency[account.currency, default: [:]][account.kind] = account.balances }
            var balances: [UserBalance] = []
            for currency in byCurrency.keys.sorted() {
                let kinds = byCurrency[currency]!
                let available = kinds[.available] ?? .init()
                let deposit = (kinds[.deposit] ?? .init()).spendable
                let paying = payingOut.filter { $0.currency == currency }.reduce(Int64(0)) { $0.addingSaturated($1.amountMinor) }
                let (record, reserved) = try await reserve(of: user, currency: currency, depositMinor: deposit, in: repositories, now: now)
                // The buyer's balance is reserved by escrow holds, payouts in flight and refunds
                // on their way to the card; only escrow is "held as buyer".
                let refunding = try await repositories.ledger.pendingTotal(debit: .user(user), kind: .available, currency: currency, purpose: .cardRefund)
                balances.append(UserBalance(
                    currency: currency,
                    availableMinor: available.spendable,
                    reservedMinor: min(reserved, max(0, available.spendable)),
                    withdrawableMinor: PayoutReserve.withdrawableMinor(availableMinor: available.spendable, reservedMinor: reserved),
                    heldAsBuyerMinor: available.debitsPending - paying - refunding,
                    incomingAsSellerMinor: available.creditsPending,
                    payingOutMinor: paying,
                    refundingToCardMinor: refunding,
                    depositMinor: deposit,
                    debtMinor: (kinds[.debt] ?? .init()).postedDebitBalance,
                    statementMinor: (kinds[.statement] ?? .init()).postedDebitBalance,
                    reserveExplanation: PayoutReserve.explanation(record, reservedMinor: reserved, currency: currency)
                ))
            }
            return balances
        }
    }

    /// The user's ledger lines in a calendar month (UTC), with running balances per account.
    public func statement(of user: UserID, month: String) async throws -> [StatementEntry] {
        guard let (start, end) = MonthName.range(of: month) else {
            throw ValidationError(field: "month", "The month must be written YYYY-MM.")
        }
        return try await store.snapshot { repositories in
            let accounts = try await repositories.ledger.accounts(owner: .user(user))
            let before = try await repositories.ledger.transfers(touching: accounts.map(\.id), from: Date(timeIntervalSince1970: 0), to: start)
            let during = try await repositories.ledger.transfers(touching: accounts.map(\.id), from: start, to: end)
            return LedgerStatement.entries(accounts: accounts, before: before, during: during)
        }
    }

    /// The administrators' view of the ledger: totals per currency and the latest transfers.
    public struct Overview: Sendable {
        public struct Totals: Sendable {
            public let currency: Currency
            public let escrowMinor, feesMinor, fundMinor, claimsMinor, usersMinor: Int64
        }
        public let transferCount: Int
        public let totals: [Totals]
        public let recent: [Transfer]
    }

    public func overview(by principal: Principal) async throws -> Overview {
        _ = try principal.requireRole(.admin, .moderator)
        let (count, accounts, recent, held) = try await store.read { repositories in
            (
                try await repositories.ledger.transferCount(), try await repositories.ledger.allAccounts(),
                try await repositories.ledger.recentTransfers(limit: 25), try await repositories.orders.heldTotals()
            )
        }
        var byCurrency: [Currency: [LedgerAccountKind: Int64]] = [:]
        for account in accounts {
            byCurrency[account.currency, default: [:]][account.kind, default: 0] = byCurrency[account.currency, default: [:]][account.kind, default: 0]
                .addingSaturated(account.balances.postedCreditBalance)
        }
        let totals = Set(byCurrency.keys).union(held.keys).sorted().map { currency in
            let kinds = byCurrency[currency] ?? [:]
            return Overview.Totals(
                currency: currency, escrowMinor: held[currency] ?? 0, feesMinor: kinds[.fees] ?? 0, fundMinor: kinds[.guaranteeFund] ?? 0,
                claimsMinor: kinds[.guaranteeClaims] ?? 0, usersMinor: (kinds[.available] ?? 0).addingSaturated(kinds[.deposit] ?? 0)
            )
        }
        return Overview(transferCount: count, totals: totals, recent: recent)
    }

    /// Recomputes every balance from the transfers and checks every invariant (`fiducia ledger verify`).
    public func verify(progress: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> LedgerAudit.Report {
        try await store.snapshot { repositories in
            var audit = LedgerAudit()
            var cursor: TransferID?
            while true {
                let page = try await repositories.ledger.transfers(after: cursor, limit: 5_000)
                for transfer in page { audit.add(transfer) }
                progress(audit.transfersChecked)
                guard page.count == 5_000 else { break }
                cursor = page.last?.id
            }
            let accounts = try await repositories.ledger.allAccounts()
            var held: [OrderID: (Currency, Int64)] = [:]
            for status in [OrderStatus.paid, .shipped] {
                var after: OrderID?
                while true {
                    let orders = try await repositories.orders.list(.all, status: status, after: after, limit: 1_000)
                    for order in orders { held[order.id] = (order.currency, order.heldMinor) }
                    guard orders.count == 1_000 else { break }
                    after = orders.last?.id
                }
            }
            return audit.finish(accounts: accounts, heldOrders: held)
        }
    }
}

