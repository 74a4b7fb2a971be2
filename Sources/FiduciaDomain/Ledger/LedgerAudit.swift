/// One violated invariant found by the audit: a stable code and a sentence naming what is wrong.
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// A transfer moves zero or a negative amount.
        case nonPositiveAmount = "non-positive-amount"
        /// A transfer debits and credits one account.
        case sameAccount = "same-account"
        /// A post or void names a hold that does not exist.
        case unknownHold = "unknown-hold"
        /// A hold is posted or voided more than once.
        case holdResolvedTwice = "hold-resolved-twice"
        /// A post or void moves between other accounts than its hold.
        case resolutionMismatch = "resolution-mismatch"
        /// A post moves more than its hold reserved.
        case postExceedsHold = "post-exceeds-hold"
        /// An account's stored running totals differ from its transfers.
        case totalsMismatch = "totals-mismatch"
        /// An account is beyond its limit (a user balance below zero, say).
        case beyondLimit = "beyond-limit"
        /// A transfer names an account that does not exist.
        case unknownAccount = "unknown-account"
        /// Balances of a currency do not sum to zero.
        case unbalancedCurrency = "unbalanced-currency"
        /// An order's open escrow holds differ from what it should hold.
        case escrowMismatch = "escrow-mismatch"
        /// Money is held for an order that is not awaiting release.
        case strayEscrow = "stray-escrow"
        /// Totals too large to add up (the data was tampered with).
        case overflow
    }

    public let code: Code
    public let message: String

    public var description: String { "\(code.rawValue): \(message)" }
}

/// Recomputes every balance from the transfers alone and checks every invariant of the ledger.
/// Pure: it is fed transfers (in any order) and then the stored accounts and the orders' escrow.
/// It never traps on bad data: a tampered database is reported, not crashed on.
public struct LedgerAudit: Sendable {
    public private(set) var transfersChecked = 0
    private var computed: [LedgerAccountID: LedgerBalances] = [:]
    private var pendings: [TransferID: Transfer] = [:]
    private var resolutions: [Transfer] = []
    private var findings: [AuditFinding] = []
    private static let findingLimit = 1_000

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
        public let findings: [AuditFinding]
        public let totals: [Currency: CurrencyTotals]

        public var isClean: Bool { findings.isEmpty }
    }

    private mutating func problem(_ code: AuditFinding.Code, _ text: String) {
        if findings.count < Self.findingLimit { findings.append(AuditFinding(code: code, message: text)) }
    }

    /// Adds without trapping; an overflow is a finding (only tampered data gets there).
    private mutating func add(_ value: inout Int64, _ amount: Int64, _ what: @autoclosure () -> String) {
        guard let sum = value.addingChecked(amount) else {
            return problem(.overflow, "the totals of \(what()) overflow")
        }
        value = sum
    }

    public mutating func add(_ transfer: Transfer) {
        transfersChecked += 1
        switch transfer.mode {
        case .posted, .pending:
            guard transfer.amountMinor > 0 else { return problem(.nonPositiveAmount, "transfer \(transfer.id) moves a non-positive amount") }
            var debit = computed[transfer.debitAccountID, default: .init()]
            var credit = computed[transfer.creditAccountID, default: .init()]
            if transfer.mode == .posted {
                add(&debit.debitsPosted, transfer.amountMinor, "account \(transfer.debitAccountID)")
                add(&credit.creditsPosted, transfer.amountMinor, "account \(transfer.creditAccountID)")
            } else {
                add(&debit.debitsPending, transfer.amountMinor, "account \(transfer.debitAccountID)")
                add(&credit.creditsPending, transfer.amountMinor, "account \(transfer.creditAccountID)")
                pendings[transfer.id] = transfer
            }
            computed[transfer.debitAccountID] = debit
            computed[transfer.creditAccountID] = credit
        case .postPending, .voidPending:
            resolutions.append(transfer)
        }
        if transfer.debitAccountID == transfer.creditAccountID {
            problem(.sameAccount, "transfer \(transfer.id) debits and credits the same account")
        }
    }

    /// Matches resolutions to their holds and compares everything with what is stored.
    /// `heldOrders` is, per order whose money should be in escrow, its currency and total.
    public mutating func finish(accounts: [LedgerAccount], heldOrders: [OrderID: (Currency, Int64)]) -> Report {
        var resolved: Set<TransferID> = []
        for resolution in resolutions {
            guard let pendingID = resolution.mode.pendingID, let pending = pendings[pendingID] else {
                problem(.unknownHold, "transfer \(resolution.id) resolves a hold that does not exist")
                continue
            }
            guard resolved.insert(pendingID).inserted else {
                problem(.holdResolvedTwice, "hold \(pendingID) is resolved more than once")
                continue
            }
            guard resolution.debitAccountID == pending.debitAccountID, resolution.creditAccountID == pending.creditAccountID else {
                problem(.resolutionMismatch, "transfer \(resolution.id) resolves hold \(pendingID) between other accounts")
                continue
            }
            var debit = computed[pending.debitAccountID, default: .init()]
            var credit = computed[pending.creditAccountID, default: .init()]
            debit.debitsPending -= pending.amountMinor
            credit.creditsPending -= pending.amountMinor
            if case .postPending = resolution.mode {
                if resolution.amountMinor > pending.amountMinor { problem(.postExceedsHold, "transfer \(resolution.id) posts more than hold \(pendingID) reserved") }
                add(&debit.debitsPosted, resolution.amountMinor, "account \(pending.debitAccountID)")
                add(&credit.creditsPosted, resolution.amountMinor, "account \(pending.creditAccountID)")
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
                problem(.totalsMismatch, "account \(account.id) (\(account.owner) \(account.kind.rawValue) \(account.currency)) stores \(account.balances) but its transfers give \(recomputed)")
            }
            if !LedgerAccount.isWithinLimits(recomputed, kind: account.kind) {
                problem(.beyondLimit, "account \(account.id) (\(account.owner) \(account.kind.rawValue) \(account.currency)) is beyond its limit: \(recomputed)")
            }
            let balance = recomputed.postedCreditBalance
            add(&postedSums[account.currency, default: 0], balance, "\(account.currency) posted balances")
            add(&pendingSums[account.currency, default: 0], recomputed.creditsPending - recomputed.debitsPending, "\(account.currency) pending balances")
            var currencyTotals = totals[account.currency, default: .init()]
            switch account.kind {
            case .fees: add(&currencyTotals.feesMinor, balance, "fees")
            case .guaranteeFund: add(&currencyTotals.guaranteeFundMinor, balance, "the guarantee fund")
            case .guaranteeClaims: add(&currencyTotals.guaranteeClaimsMinor, balance, "guarantee claims")
            case .external: add(&currencyTotals.externalMinor, balance, "the external account")
            case .available, .deposit, .debt, .statement: add(&currencyTotals.userBalancesMinor, balance, "user balances")
            }
            totals[account.currency] = currencyTotals
        }
        let known = Set(accounts.map(\.id))
        for id in computed.keys where !known.contains(id) {
            problem(.unknownAccount, "transfers move money through account \(id), which does not exist")
        }
        for (currency, sum) in postedSums where sum != 0 {
            problem(.unbalancedCurrency, "posted balances in \(currency) sum to \(sum), not zero")
        }
        for (currency, sum) in pendingSums where sum != 0 {
            problem(.unbalancedCurrency, "pending balances in \(currency) sum to \(sum), not zero")
        }

        // Escrow: the open order holds must be exactly the paid-but-unreleased orders.
        var heldByOrder: [OrderID: Int64] = [:]
        for (id, pending) in pendings where !resolved.contains(id) {
            guard let order = pending.orderID, [.escrowHold, .platformFee, .guaranteeContribution].contains(pending.purpose) else { continue }
            add(&heldByOrder[order, default: 0], pending.amountMinor, "order \(order)'s holds")
            add(&totals[pending.currency, default: .init()].escrowHeldMinor, pending.amountMinor, "escrow")
        }
        for (order, (currency, total)) in heldOrders {
            add(&totals[currency, default: .init()].ordersHeldMinor, total, "orders held")
            let held = heldByOrder[order] ?? 0
            if held != total { problem(.escrowMismatch, "order \(order) should hold \(total) \(currency) in escrow but its open holds are \(held)") }
        }
        for (order, held) in heldByOrder where heldOrders[order] == nil {
            problem(.strayEscrow, "order \(order) is not awaiting release but \(held) is still held for it")
        }
        return Report(transfersChecked: transfersChecked, accountsChecked: accounts.count, findings: findings, totals: totals)
    }
}
