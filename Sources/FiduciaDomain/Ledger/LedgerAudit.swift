/// Recomputes every balance from the transfers alone and checks every invariant of the ledger.
/// Pure: it is fed transfers (in any order) and then the stored accounts and the orders' escrow.
public struct LedgerAudit: Sendable {
    public private(set) var transfersChecked = 0
    private var computed: [LedgerAccountID: LedgerBalances] = [:]
    private var pendings: [TransferID: Transfer] = [:]
    private var resolutions: [Transfer] = []
    private var problems: [String] = []
    private static let problemLimit = 1_000

    public init() {}

    /// One problem found by the audit, in words.
    public struct Report: Sendable, Equatable {
        public struct CurrencyTotals: Sendable, Equatable {
            public var escrowHeldMinor: Int64 = 0
            public var ordersHeldMinor: Int64 = 0
            public var feesMinor: Int64 = 0
            public var guaranteeFundMinor: Int64 = 0
            public var guaranteeClaimsMinor: Int64 = 0
            public var userBalancesMinor: Int64 = 0
            public var externalMinor: Int64 = 0
        }

        public let transfersChecked: Int
        public let accountsChecked: Int
        public let problems: [String]
        public let totals: [Currency: CurrencyTotals]

        public var isClean: Bool { problems.isEmpty }
    }

    private mutating func problem(_ text: String) {
        if problems.count < Self.problemLimit { problems.append(text) }
    }

    public mutating func add(_ transfer: Transfer) {
        transfersChecked += 1
        switch transfer.mode {
        case .posted, .pending:
            guard transfer.amountMinor > 0 else { return problem("transfer \(transfer.id) moves a non-positive amount") }
            var debit = computed[transfer.debitAccountID, default: .init()]
            var credit = computed[transfer.creditAccountID, default: .init()]
            if transfer.mode == .posted {
                debit.debitsPosted += transfer.amountMinor
                credit.creditsPosted += transfer.amountMinor
            } else {
                debit.debitsPending += transfer.amountMinor
                credit.creditsPending += transfer.amountMinor
                pendings[transfer.id] = transfer
            }
            computed[transfer.debitAccountID] = debit
            computed[transfer.creditAccountID] = credit
        case .postPending, .voidPending:
            resolutions.append(transfer)
        }
        if transfer.debitAccountID == transfer.creditAccountID {
            problem("transfer \(transfer.id) debits and credits the same account")
        }
    }

    /// Matches resolutions to their holds and compares everything with what is stored.
    /// `heldOrders` is, per order whose money should be in escrow, its currency and total.
    public mutating func finish(accounts: [LedgerAccount], heldOrders: [OrderID: (Currency, Int64)]) -> Report {
        var resolved: Set<TransferID> = []
        for resolution in resolutions {
            guard let pendingID = resolution.mode.pendingID, let pending = pendings[pendingID] else {
                problem("transfer \(resolution.id) resolves a hold that does not exist")
                continue
            }
            guard resolved.insert(pendingID).inserted else {
                problem("hold \(pendingID) is resolved more than once")
                continue
            }
            guard resolution.debitAccountID == pending.debitAccountID, resolution.creditAccountID == pending.creditAccountID else {
                problem("transfer \(resolution.id) resolves hold \(pendingID) between other accounts")
                continue
            }
            var debit = computed[pending.debitAccountID, default: .init()]
            var credit = computed[pending.creditAccountID, default: .init()]
            debit.debitsPending -= pending.amountMinor
            credit.creditsPending -= pending.amountMinor
            if case .postPending = resolution.mode {
                if resolution.amountMinor > pending.amountMinor { problem("transfer \(resolution.id) posts more than hold \(pendingID) reserved") }
                debit.debitsPosted += resolution.amountMinor
                credit.creditsPosted += resolution.amountMinor
            }
            computed[pending.debitAccountID] = debit
            computed[pending.creditAccountID] = credit
        }

        var totals: [Currency: Report.CurrencyTotals] = [:]
        var postedSums: [Currency: Int64] = [:]
        var pendingSums: [Currency: Int64] = [:]
        for account in accounts {
            let recomputed = computed[account.id, default: .init()]
            if recomputed != account.balances {
                problem("account \(account.id) (\(account.owner) \(account.kind.rawValue) \(account.currency)) stores \(account.balances) but its transfers give \(recomputed)")
            }
            if !LedgerAccount.isWithinLimits(recomputed, kind: account.kind) {
                problem("account \(account.id) (\(account.owner) \(account.kind.rawValue) \(account.currency)) is beyond its limit: \(recomputed)")
            }
            postedSums[account.currency, default: 0] += recomputed.creditsPosted - recomputed.debitsPosted
            pendingSums[account.currency, default: 0] += recomputed.creditsPending - recomputed.debitsPending
            var currencyTotals = totals[account.currency, default: .init()]
            let balance = recomputed.creditsPosted - recomputed.debitsPosted
            switch account.kind {
            case .fees: currencyTotals.feesMinor += balance
            case .guaranteeFund: currencyTotals.guaranteeFundMinor += balance
            case .guaranteeClaims: currencyTotals.guaranteeClaimsMinor += balance
            case .external: currencyTotals.externalMinor += balance
            case .available, .deposit, .debt, .statement: currencyTotals.userBalancesMinor += balance
            }
            totals[account.currency] = currencyTotals
        }
        let known = Set(accounts.map(\.id))
        for id in computed.keys where !known.contains(id) {
            problem("transfers move money through account \(id), which does not exist")
        }
        for (currency, sum) in postedSums where sum != 0 {
            problem("posted balances in \(currency) sum to \(sum), not zero")
        }
        for (currency, sum) in pendingSums where sum != 0 {
            problem("pending balances in \(currency) sum to \(sum), not zero")
        }

        // Escrow: the open order holds must be exactly the paid-but-unreleased orders.
        var heldByOrder: [OrderID: Int64] = [:]
        for (id, pending) in pendings where !resolved.contains(id) {
            guard let order = pending.orderID, [.escrowHold, .platformFee, .guaranteeContribution].contains(pending.purpose) else { continue }
            heldByOrder[order, default: 0] += pending.amountMinor
            totals[pending.currency, default: .init()].escrowHeldMinor += pending.amountMinor
        }
        for (order, (currency, total)) in heldOrders {
            totals[currency, default: .init()].ordersHeldMinor += total
            let held = heldByOrder[order] ?? 0
            if held != total { problem("order \(order) should hold \(total) \(currency) in escrow but its open holds are \(held)") }
        }
        for (order, held) in heldByOrder where heldOrders[order] == nil {
            problem("order \(order) is not awaiting release but \(held) is still held for it")
        }
        return Report(transfersChecked: transfersChecked, accountsChecked: accounts.count, problems: problems, totals: totals)
    }
}
