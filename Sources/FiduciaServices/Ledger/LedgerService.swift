import FiduciaDomain
import FiduciaPersistence
import Foundation

/// A user's money in one currency, as shown to them.
public struct UserBalance: Sendable, Equatable {
    public let currency: Currency
    /// What the user can spend or withdraw now.
    public let availableMinor: Int64
    /// Paid by this user as a buyer and held in escrow.
    public let heldAsBuyerMinor: Int64
    /// Owed to this user as a seller, held in escrow until the buyers confirm.
    public let incomingAsSellerMinor: Int64
    /// Payouts in flight.
    public let payingOutMinor: Int64
    public let depositMinor: Int64
    /// What the user owes the guarantee fund.
    public let debtMinor: Int64
    /// Small purchases on the open monthly statement.
    public let statementMinor: Int64
}

/// One line of a monthly ledger statement.
public struct StatementEntry: Sendable, Equatable {
    public let transfer: Transfer
    public let account: LedgerAccountKind
    /// Positive when money came into the user's account, negative when it left.
    public let amountMinor: Int64
    public let balanceAfterMinor: Int64
}

extension AccountReference {
    /// The one order in which transactions lock accounts, so that two of them never wait on each other.
    static func lockOrder(_ lhs: AccountReference, _ rhs: AccountReference) -> Bool {
        (lhs.owner.storageKey, lhs.kind.rawValue) < (rhs.owner.storageKey, rhs.kind.rawValue)
    }
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
    /// each transfer is checked by `LedgerRules` before it is written.
    public func execute(
        _ movements: [MoneyMovement],
        currency: Currency,
        orderID: OrderID?,
        in repositories: Repositories,
        now: Date
    ) async throws {
        guard !movements.isEmpty else { return }
        var references = Set<AccountReference>()
        for movement in movements {
            references.insert(movement.debit)
            references.insert(movement.credit)
        }
        var accounts = try await repositories.ledger.lockAccounts(
            references.sorted(by: AccountReference.lockOrder), currency: currency, newID: { ids.make() }, now: now
        )
        var changed = Set<AccountReference>()
        for movement in movements {
            var debit = accounts[movement.debit]!
            var credit = accounts[movement.credit]!
            var pending: Transfer?
            var mode = TransferMode.posted
            var amount = movement.amountMinor
            switch movement.mode {
            case .posted: mode = .posted
            case .pending: mode = .pending
            case .postPending(let reference), .voidPending(let reference):
                guard let hold = try await repositories.ledger.transfer(reference: reference), hold.mode == .pending else {
                    throw LedgerError.pendingTransferNotFound(TransferID(reference))
                }
                if try await repositories.ledger.isResolved(hold.id) { throw LedgerError.pendingTransferAlreadyResolved(hold.id) }
                pending = hold
                amount = hold.amountMinor
                if case .postPending = movement.mode { mode = .postPending(hold.id) } else { mode = .voidPending(hold.id) }
            }
            let transfer = Transfer(
                id: ids.make(), debitAccountID: debit.id, creditAccountID: credit.id, amountMinor: amount, currency: currency,
                mode: mode, purpose: movement.purpose, reference: movement.reference, orderID: orderID, createdAt: now
            )
            try LedgerRules.apply(transfer, debit: &debit, credit: &credit, pending: pending)
            try await repositories.ledger.record(transfer)
            accounts[movement.debit] = debit
            accounts[movement.credit] = credit
            changed.formUnion([movement.debit, movement.credit])
        }
        // Each account's running totals are written once, after all its transfers.
        try await repositories.ledger.saveTotals(changed.sorted(by: AccountReference.lockOrder).map { accounts[$0]! })
    }

    /// Feeds the buyer guarantee fund from outside (the platform's own money).
    public func topUpGuaranteeFund(currency: Currency, amountMinor: Int64, reference: String) async throws {
        guard amountMinor > 0 else { throw ValidationError(field: "amountMinor", "The amount must be positive.") }
        let now = clock.now()
        let movement = MoneyMovement(
            debit: .platform(.external), credit: .platform(.guaranteeFund), amountMinor: amountMinor, mode: .posted,
            purpose: .fundTopUp, reference: reference
        )
        try await store.write { repositories in
            try await execute([movement], currency: currency, orderID: nil, in: repositories, now: now)
        }
    }

    // MARK: Reading

    /// The user's balances, one per currency they have used.
    public func balances(of user: UserID) async throws -> [UserBalance] {
        let accounts = try await store.read { try await $0.ledger.accounts(owner: .user(user)) }
        let payingOut = try await store.read { repositories in
            try await repositories.payments.payouts(user: user, limit: 1_000).filter { $0.status == .pending }
        }
        var byCurrency: [Currency: [LedgerAccountKind: LedgerBalances]] = [:]
        for account in accounts { byCurrency[account.currency, default: [:]][account.kind] = account.balances }
        return byCurrency.keys.sorted().map { currency in
            let kinds = byCurrency[currency]!
            let available = kinds[.available] ?? .init()
            let paying = payingOut.filter { $0.currency == currency }.reduce(0) { $0 + $1.amountMinor }
            let debt = kinds[.debt] ?? .init()
            let statement = kinds[.statement] ?? .init()
            return UserBalance(
                currency: currency,
                availableMinor: available.spendable,
                heldAsBuyerMinor: available.debitsPending - paying,
                incomingAsSellerMinor: available.creditsPending,
                payingOutMinor: paying,
                depositMinor: (kinds[.deposit] ?? .init()).spendable,
                debtMinor: debt.debitsPosted - debt.creditsPosted,
                statementMinor: statement.debitsPosted - statement.creditsPosted
            )
        }
    }

    /// The user's ledger lines in a calendar month (UTC), with running balances per account.
    public func statement(of user: UserID, month: String) async throws -> [StatementEntry] {
        guard let (start, end) = MonthName.range(of: month) else {
            throw ValidationError(field: "month", "The month must be written YYYY-MM.")
        }
        return try await store.snapshot { repositories in
            let accounts = try await repositories.ledger.accounts(owner: .user(user))
            let kinds = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0.kind) })
            let normal = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0.kind.normalSide) })
            // Running balances start from everything before the month.
            let before = try await repositories.ledger.transfers(touching: accounts.map(\.id), from: Date(timeIntervalSince1970: 0), to: start)
            let during = try await repositories.ledger.transfers(touching: accounts.map(\.id), from: start, to: end)
            var balances: [LedgerAccountID: Int64] = [:]
            var pendings: [TransferID: Transfer] = [:]
            func effect(_ transfer: Transfer, on account: LedgerAccountID) -> Int64 {
                let amount: Int64
                switch transfer.mode {
                case .posted, .postPending: amount = transfer.amountMinor
                case .pending, .voidPending: amount = 0
                }
                let sign: Int64 = transfer.creditAccountID == account ? 1 : -1
                return normal[account] == .debit ? -sign * amount : sign * amount
            }
            for transfer in before where transfer.mode == .pending { pendings[transfer.id] = transfer }
            for transfer in before {
                for account in [transfer.debitAccountID, transfer.creditAccountID] where kinds[account] != nil {
                    balances[account, default: 0] += effect(transfer, on: account)
                }
            }
            var entries: [StatementEntry] = []
            for transfer in during {
                for account in [transfer.debitAccountID, transfer.creditAccountID] where kinds[account] != nil {
                    let change = effect(transfer, on: account)
                    balances[account, default: 0] += change
                    entries.append(StatementEntry(transfer: transfer, account: kinds[account]!, amountMinor: change, balanceAfterMinor: balances[account]!))
                }
            }
            return entries
        }
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
                    for order in orders { held[order.id] = (order.currency, order.totalMinor) }
                    guard orders.count == 1_000 else { break }
                    after = orders.last?.id
                }
            }
            return audit.finish(accounts: accounts, heldOrders: held)
        }
    }
}

/// Calendar months in UTC, written `YYYY-MM`.
public enum MonthName {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    public static func of(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", parts.year!, parts.month!)
    }

    /// The first instant of the month and of the next one.
    public static func range(of month: String) -> (Date, Date)? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let number = Int(parts[1]), (1...12).contains(number),
            let start = calendar.date(from: DateComponents(year: year, month: number, day: 1)),
            let end = calendar.date(byAdding: .month, value: 1, to: start)
        else { return nil }
        return (start, end)
    }
}
