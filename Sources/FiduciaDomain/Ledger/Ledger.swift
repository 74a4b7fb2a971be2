import Foundation

/// Fiducia's double-entry ledger, in the style of TigerBeetle.
///
/// Every movement of money is a `Transfer` that debits one account and credits another by the
/// same positive amount, so the sum over all accounts is zero in each currency at every moment.
/// Transfers are never changed or deleted. A hold (escrow, a payout in flight) is a *pending*
/// transfer: it reserves the amount on both accounts and is later *posted* (the money moves) or
/// *voided* (the reservation disappears), each by a new transfer that names it.

public typealias LedgerAccountID = Identifier<LedgerAccount>
public typealias TransferID = Identifier<Transfer>

/// Who an account belongs to: a user, or the platform itself.
public enum LedgerOwner: Sendable, Hashable, CustomStringConvertible {
    case user(UserID)
    case platform

    public var storageKey: String {
        switch self {
        case .user(let id): id.rawValue
        case .platform: "platform"
        }
    }

    public init(storageKey: String) {
        self = storageKey == "platform" ? .platform : .user(UserID(storageKey))
    }

    public var description: String { storageKey }
}

/// What an account is for. The kind fixes which side of the balance may not go negative.
public enum LedgerAccountKind: String, Sendable, CaseIterable, Codable {
    /// A user's spendable money (refunds and sale proceeds land here; escrow holds reserve it).
    case available
    /// A seller's security deposit: a trust signal, and where fines and guarantee recoveries come from.
    case deposit
    /// What a seller owes the guarantee fund after the fund paid a buyer on their behalf.
    case debt
    /// A buyer's open monthly statement of small purchases, to be paid in one charge.
    case statement
    /// Money outside Fiducia: card payments come from here and payouts go to it.
    case external
    /// The platform's fee income.
    case fees
    /// The buyer guarantee fund (先行赔付): pays buyers at once when a seller cannot.
    case guaranteeFund
    /// The guarantee fund's claims on sellers (mirrors the sellers' debt accounts).
    case guaranteeClaims

    /// Which balance must stay non-negative.
    public var normalSide: NormalSide {
        switch self {
        case .available, .deposit, .fees, .guaranteeFund, .guaranteeClaims: .credit
        case .debt, .statement: .debit
        case .external: .unbounded
        }
    }

    public var belongsToPlatform: Bool {
        switch self {
        case .external, .fees, .guaranteeFund, .guaranteeClaims: true
        case .available, .deposit, .debt, .statement: false
        }
    }

    public enum NormalSide: Sendable {
        /// Credits must cover debits (posted plus pending): money the platform holds for someone.
        case credit
        /// Debits must cover credits: money someone owes.
        case debit
        /// The outside world: no limit.
        case unbounded
    }
}

/// The running totals of an account. Balances are derived from these.
public struct LedgerBalances: Sendable, Equatable, Codable {
    public var debitsPosted: Int64 = 0
    public var creditsPosted: Int64 = 0
    public var debitsPending: Int64 = 0
    public var creditsPending: Int64 = 0

    public init(debitsPosted: Int64 = 0, creditsPosted: Int64 = 0, debitsPending: Int64 = 0, creditsPending: Int64 = 0) {
        self.debitsPosted = debitsPosted
        self.creditsPosted = creditsPosted
        self.debitsPending = debitsPending
        self.creditsPending = creditsPending
    }

    /// Credits minus debits, posted only.
    public var postedCreditBalance: Int64 { creditsPosted - debitsPosted }

    /// Debits minus credits, posted only: what a debit-normal account (a debt, a statement) owes.
    public var postedDebitBalance: Int64 { debitsPosted - creditsPosted }

    /// What can be spent from a credit-normal account: posted credits minus posted and pending debits.
    public var spendable: Int64 { creditsPosted - debitsPosted - debitsPending }
}

/// An account in the ledger.
public struct LedgerAccount: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "acc"

    public let id: LedgerAccountID
    public let owner: LedgerOwner
    public let kind: LedgerAccountKind
    public let currency: Currency
    public var balances: LedgerBalances

    public init(id: LedgerAccountID, owner: LedgerOwner, kind: LedgerAccountKind, currency: Currency, balances: LedgerBalances = .init()) {
        self.id = id
        self.owner = owner
        self.kind = kind
        self.currency = currency
        self.balances = balances
    }

    /// Whether these totals respect the account's normal side.
    public static func isWithinLimits(_ balances: LedgerBalances, kind: LedgerAccountKind) -> Bool {
        switch kind.normalSide {
        case .credit: balances.debitsPosted + balances.debitsPending <= balances.creditsPosted
        case .debit: balances.creditsPosted + balances.creditsPending <= balances.debitsPosted
        case .unbounded: true
        }
    }
}

/// Why a transfer exists; kept on every transfer so statements and audits can say so in words.
public enum TransferPurpose: String, Sendable, Codable, CaseIterable {
    case cardPayment = "card_payment"
    case escrowHold = "escrow_hold"
    case platformFee = "platform_fee"
    case guaranteeContribution = "guarantee_contribution"
    case refund
    case guaranteePayout = "guarantee_payout"
    case guaranteeClaim = "guarantee_claim"
    case guaranteeRecovery = "guarantee_recovery"
    case depositPlaced = "deposit_placed"
    /// A security deposit (or part of it) moved back to the seller's balance.
    case depositWithdrawn = "deposit_withdrawn"
    case statementCharge = "statement_charge"
    case statementPayment = "statement_payment"
    case payout
    case fundTopUp = "fund_top_up"
    /// Money returned to the card that paid (a hold on the buyer's balance until the provider confirms).
    case cardRefund = "card_refund"
    /// A cancelled or refunded statement purchase taken off the buyer's open statement.
    case statementReversal = "statement_reversal"
    /// A card charge that could be neither applied nor refunded, credited to the payer's balance.
    case chargeCredited = "charge_credited"
    /// The fee (and the fund's share of it) on a part of a completed order that went back to the buyer.
    case feeReturned = "fee_returned"
    /// A penalty's fine, from the seller's deposit to the buyer guarantee fund (D1).
    case fine
    /// A fine given back when an appeal reduces or overturns its penalty (D5).
    case fineReturned = "fine_returned"
}

/// How a transfer acts on its accounts.
public enum TransferMode: Sendable, Equatable {
    /// Moves money now.
    case posted
    /// Reserves money (a hold).
    case pending
    /// Moves the money of a pending transfer (all of it, or less; the rest is released).
    case postPending(TransferID)
    /// Releases a pending transfer without moving money.
    case voidPending(TransferID)

    public var storageName: String {
        switch self {
        case .posted: "posted"
        case .pending: "pending"
        case .postPending: "post_pending"
        case .voidPending: "void_pending"
        }
    }

    public var pendingID: TransferID? {
        switch self {
        case .postPending(let id), .voidPending(let id): id
        case .posted, .pending: nil
        }
    }
}

/// A movement of money: immutable once written.
public struct Transfer: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "trf"

    public let id: TransferID
    public let debitAccountID: LedgerAccountID
    public let creditAccountID: LedgerAccountID
    public let amountMinor: Int64
    public let currency: Currency
    public let mode: TransferMode
    public let purpose: TransferPurpose
    /// A unique key naming what the transfer is for (e.g. `order:ord_…:hold:seller`): writing the
    /// same movement twice is impossible.
    public let reference: String
    public let orderID: OrderID?
    public let createdAt: Date

    public init(
        id: TransferID,
        debitAccountID: LedgerAccountID,
        creditAccountID: LedgerAccountID,
        amountMinor: Int64,
        currency: Currency,
        mode: TransferMode,
        purpose: TransferPurpose,
        reference: String,
        orderID: OrderID?,
        createdAt: Date
    ) {
        self.id = id
        self.debitAccountID = debitAccountID
        self.creditAccountID = creditAccountID
        self.amountMinor = amountMinor
        self.currency = currency
        self.mode = mode
        self.purpose = purpose
        self.reference = reference
        self.orderID = orderID
        self.createdAt = createdAt
    }
}

/// Named failures of the ledger. Each has its own problem code.
public enum LedgerError: DomainError, Equatable {
    case insufficientFunds(LedgerAccountKind, needed: Int64, available: Int64)
    case pendingTransferNotFound(String)
    case pendingTransferAlreadyResolved(TransferID)
    case postExceedsPending(TransferID)
    case duplicateReference(String)
    /// The account's running totals would no longer fit in 64 bits.
    case totalsOverflow(LedgerAccountKind)
    /// A user's balance would pass the currency's limit (`MoneyLimits.maximumBalanceMinor`).
    case balanceLimitExceeded(LedgerAccountKind, limitMinor: Int64)

    public var kind: FailureKind {
        switch self {
        case .insufficientFunds, .totalsOverflow, .balanceLimitExceeded: .unprocessable
        case .pendingTransferNotFound: .notFound
        case .pendingTransferAlreadyResolved, .duplicateReference: .conflict
        case .postExceedsPending: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .insufficientFunds: "insufficient-funds"
        case .pendingTransferNotFound: "hold-not-found"
        case .pendingTransferAlreadyResolved: "hold-already-resolved"
        case .postExceedsPending: "hold-exceeded"
        case .duplicateReference: "duplicate-transfer"
        case .totalsOverflow: "ledger-totals-overflow"
        case .balanceLimitExceeded: "balance-limit-exceeded"
        }
    }

    public var title: String {
        switch self {
        case .insufficientFunds: "Insufficient funds"
        case .pendingTransferNotFound: "Hold not found"
        case .pendingTransferAlreadyResolved: "Hold already resolved"
        case .postExceedsPending: "More than the hold reserved"
        case .duplicateReference: "Transfer already made"
        case .totalsOverflow: "Amount too large for the ledger"
        case .balanceLimitExceeded: "Balance limit reached"
        }
    }

    public var detail: String {
        switch self {
        case .insufficientFunds(let kind, let needed, let available):
            "The \(kind.rawValue) balance is too low: \(needed) minor units are needed and \(available) are available."
        case .pendingTransferNotFound(let reference): "There is no hold \(reference)."
        case .pendingTransferAlreadyResolved(let id): "The hold \(id) has already been released or returned."
        case .postExceedsPending(let id): "More cannot be released than the hold \(id) reserved."
        case .duplicateReference(let reference): "The transfer \(reference) has already been made."
        case .totalsOverflow(let kind): "The \(kind.rawValue) account cannot record this amount: its totals would overflow."
        case .balanceLimitExceeded(let kind, let limit): "The \(kind.rawValue) balance may not exceed \(limit) minor units."
        }
    }
}

/// The pure rules of applying a transfer to its two accounts.
public enum LedgerRules {
    /// Applies `transfer` to its accounts' totals, or throws if the result would break an
    /// account's limit or overflow its totals. `pending` is the pending transfer a post or void resolves.
    ///
    /// Preconditions (programming errors, kept in release builds): a non-negative amount (positive
    /// unless it resolves a hold), two distinct accounts, one currency, and a resolution that names
    /// the accounts of its pending transfer.
    public static func apply(
        _ transfer: Transfer,
        debit: inout LedgerAccount,
        credit: inout LedgerAccount,
        pending: Transfer?
    ) throws(LedgerError) {
        precondition(transfer.amountMinor > 0 || transfer.mode.pendingID != nil, "a transfer moves a positive amount")
        precondition(transfer.amountMinor >= 0, "a transfer amount is never negative")
        precondition(debit.id == transfer.debitAccountID && credit.id == transfer.creditAccountID, "the accounts must be the transfer's")
        precondition(debit.id != credit.id, "a transfer needs two distinct accounts")
        precondition(debit.currency == transfer.currency && credit.currency == transfer.currency, "one currency per transfer")

        var newDebit = debit.balances
        var newCredit = credit.balances
        func add(_ value: inout Int64, _ amount: Int64, _ kind: LedgerAccountKind) throws(LedgerError) {
            guard let sum = value.addingChecked(amount) else { throw .totalsOverflow(kind) }
            value = sum
        }
        switch transfer.mode {
        case .posted:
            try add(&newDebit.debitsPosted, transfer.amountMinor, debit.kind)
            try add(&newCredit.creditsPosted, transfer.amountMinor, credit.kind)
        case .pending:
            try add(&newDebit.debitsPending, transfer.amountMinor, debit.kind)
            try add(&newCredit.creditsPending, transfer.amountMinor, credit.kind)
        case .postPending(let id), .voidPending(let id):
            guard let pending else { throw .pendingTransferNotFound(id.rawValue) }
            precondition(pending.id == id && pending.mode == .pending, "a resolution names a pending transfer")
            precondition(
                pending.debitAccountID == transfer.debitAccountID && pending.creditAccountID == transfer.creditAccountID,
                "a resolution moves between its pending transfer's accounts"
            )
            guard transfer.amountMinor <= pending.amountMinor else { throw .postExceedsPending(id) }
            newDebit.debitsPending -= pending.amountMinor
            newCredit.creditsPending -= pending.amountMinor
            if case .postPending = transfer.mode {
                try add(&newDebit.debitsPosted, transfer.amountMinor, debit.kind)
                try add(&newCredit.creditsPosted, transfer.amountMinor, credit.kind)
            }
        }
        precondition(newDebit.debitsPending >= 0 && newCredit.creditsPending >= 0, "pending totals never go negative")
        guard LedgerAccount.isWithinLimits(newDebit, kind: debit.kind) else {
            throw .insufficientFunds(debit.kind, needed: transfer.amountMinor, available: max(0, debit.balances.spendable))
        }
        guard LedgerAccount.isWithinLimits(newCredit, kind: credit.kind) else {
            throw .insufficientFunds(credit.kind, needed: transfer.amountMinor, available: max(0, credit.balances.debitsPosted - credit.balances.creditsPosted - credit.balances.creditsPending))
        }
        // A credit raises a credit-normal balance and a debit raises what a debit-normal account owes.
        if credit.kind.normalSide == .credit { try checkBalanceLimit(newCredit, of: credit) }
        if debit.kind.normalSide == .debit { try checkBalanceLimit(newDebit, of: debit) }
        debit.balances = newDebit
        credit.balances = newCredit
    }

    /// A user's account may not hold more than the currency's balance limit (credit-normal
    /// accounts) or owe more than it (debit-normal ones). Platform accounts have no such limit.
    private static func checkBalanceLimit(_ balances: LedgerBalances, of account: LedgerAccount) throws(LedgerError) {
        guard !account.kind.belongsToPlatform else { return }
        let limit = account.currency.limits.maximumBalanceMinor
        let balance = account.kind.normalSide == .credit ? balances.postedCreditBalance : balances.postedDebitBalance
        guard balance <= limit else { throw .balanceLimitExceeded(account.kind, limitMinor: limit) }
    }
}
