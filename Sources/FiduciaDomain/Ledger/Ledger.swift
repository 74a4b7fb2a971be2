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
    case statementCharge = "statement_charge"
    case statementPayment = "statement_payment"
    case payout
    case fundTopUp = "fund_top_up"
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

/// Named failures of the ledger.
public enum LedgerError: DomainError, Equatable {
    case insufficientFunds(LedgerAccountKind, needed: Int64, available: Int64)
    case pendingTransferNotFound(TransferID)
    case pendingTransferAlreadyResolved(TransferID)
    case postExceedsPending(TransferID)
    case duplicateReference(String)

    public var kind: FailureKind {
        switch self {
        case .insufficientFunds: .unprocessable
        case .pendingTransferNotFound: .notFound
        case .pendingTransferAlreadyResolved, .duplicateReference: .conflict
        case .postExceedsPending: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .insufficientFunds: "insufficient-funds"
        case .pendingTransferNotFound: "not-found"
        case .pendingTransferAlreadyResolved: "hold-already-resolved"
        case .postExceedsPending: "validation-failed"
        case .duplicateReference: "duplicate-transfer"
        }
    }

    public var title: String {
        switch self {
        case .insufficientFunds: "Insufficient funds"
        case .pendingTransferNotFound: "Not found"
        case .pendingTransferAlreadyResolved: "Hold already resolved"
        case .postExceedsPending: "Some fields are invalid"
        case .duplicateReference: "Transfer already made"
        }
    }

    public var detail: String {
        switch self {
        case .insufficientFunds(let kind, let needed, let available):
            "The \(kind.rawValue) balance is too low: \(needed) minor units are needed and \(available) are available."
        case .pendingTransferNotFound(let id): "There is no hold \(id)."
        case .pendingTransferAlreadyResolved(let id): "The hold \(id) has already been released or returned."
        case .postExceedsPending(let id): "More cannot be released than the hold \(id) reserved."
        case .duplicateReference(let reference): "The transfer \(reference) has already been made."
        }
    }
}

/// The pure rules of applying a transfer to its two accounts.
public enum LedgerRules {
    /// Applies `transfer` to its accounts' totals, or throws if the result would break an
    /// account's limit. `pending` is the pending transfer a post or void resolves.
    ///
    /// Preconditions (programming errors, kept in release builds): a positive amount, two distinct
    /// accounts, one currency, and a resolution that names the accounts of its pending transfer.
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
        switch transfer.mode {
        case .posted:
            newDebit.debitsPosted += transfer.amountMinor
            newCredit.creditsPosted += transfer.amountMinor
        case .pending:
            newDebit.debitsPending += transfer.amountMinor
            newCredit.creditsPending += transfer.amountMinor
        case .postPending(let id), .voidPending(let id):
            guard let pending else { throw .pendingTransferNotFound(id) }
            precondition(pending.id == id && pending.mode == .pending, "a resolution names a pending transfer")
            precondition(
                pending.debitAccountID == transfer.debitAccountID && pending.creditAccountID == transfer.creditAccountID,
                "a resolution moves between its pending transfer's accounts"
            )
            guard transfer.amountMinor <= pending.amountMinor else { throw .postExceedsPending(id) }
            newDebit.debitsPending -= pending.amountMinor
            newCredit.creditsPending -= pending.amountMinor
            if case .postPending = transfer.mode {
                newDebit.debitsPosted += transfer.amountMinor
                newCredit.creditsPosted += transfer.amountMinor
            }
        }
        precondition(newDebit.debitsPending >= 0 && newCredit.creditsPending >= 0, "pending totals never go negative")
        guard LedgerAccount.isWithinLimits(newDebit, kind: debit.kind) else {
            throw .insufficientFunds(debit.kind, needed: transfer.amountMinor, available: max(0, debit.balances.spendable))
        }
        guard LedgerAccount.isWithinLimits(newCredit, kind: credit.kind) else {
            throw .insufficientFunds(credit.kind, needed: transfer.amountMinor, available: max(0, credit.balances.debitsPosted - credit.balances.creditsPosted - credit.balances.creditsPending))
        }
        debit.balances = newDebit
        credit.balances = newCredit
    }
}
