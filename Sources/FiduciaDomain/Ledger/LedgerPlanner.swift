import Foundation

/// A reference to an account by owner and kind (the ledger finds or opens it for a currency).
public struct AccountReference: Sendable, Hashable, CustomStringConvertible {
    public let owner: LedgerOwner
    public let kind: LedgerAccountKind

    public init(_ owner: LedgerOwner, _ kind: LedgerAccountKind) {
        self.owner = owner
        self.kind = kind
    }

    public static func platform(_ kind: LedgerAccountKind) -> AccountReference { AccountReference(.platform, kind) }
    public static func user(_ id: UserID, _ kind: LedgerAccountKind) -> AccountReference { AccountReference(.user(id), kind) }

    public var description: String { "\(owner.storageKey).\(kind.rawValue)" }

    /// The one order in which transactions lock accounts, so that two of them never wait on each
    /// other in a cycle.
    public static func lockOrder(_ lhs: AccountReference, _ rhs: AccountReference) -> Bool {
        (lhs.owner.storageKey, lhs.kind.rawValue) < (rhs.owner.storageKey, rhs.kind.rawValue)
    }
}

/// A transfer the ledger must make, described by purpose and unique reference.
public struct MoneyMovement: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        case posted
        case pending
        /// Post the pending movement with this reference (moves its full amount).
        case postPending(reference: String)
        /// Void the pending movement with this reference.
        case voidPending(reference: String)

        var resolvedReference: String? {
            switch self {
            case .postPending(let reference), .voidPending(let reference): reference
            case .posted, .pending: nil
            }
        }
    }

    public let debit: AccountReference
    public let credit: AccountReference
    public let amountMinor: Int64
    public let mode: Mode
    public let purpose: TransferPurpose
    public let reference: String

    public init(debit: AccountReference, credit: AccountReference, amountMinor: Int64, mode: Mode, purpose: TransferPurpose, reference: String) {
        self.debit = debit
        self.credit = credit
        self.amountMinor = amountMinor
        self.mode = mode
        self.purpose = purpose
        self.reference = reference
    }

    /// Posts the hold `hold` (its accounts, purpose and full amount).
    public static func post(_ hold: MoneyMovement) -> MoneyMovement {
        MoneyMovement(debit: hold.debit, credit: hold.credit, amountMinor: 0, mode: .postPending(reference: hold.reference), purpose: hold.purpose, reference: hold.reference + ":post")
    }

    /// Voids the hold `hold`: the reservation disappears and no money moves.
    public static func void(_ hold: MoneyMovement) -> MoneyMovement {
        MoneyMovement(debit: hold.debit, credit: hold.credit, amountMinor: 0, mode: .voidPending(reference: hold.reference), purpose: hold.purpose, reference: hold.reference + ":void")
    }
}

/// The accounts and holds a set of movements touches, as they stand before the movements: what
/// the ledger's storage loads (and locks) so that `LedgerPlanner` can decide.
public struct LedgerBook: Sendable {
    public var accounts: [AccountReference: LedgerAccount]
    /// Pending transfers the movements may resolve, by reference.
    public var holds: [String: Transfer]
    /// Holds already posted or voided.
    public var resolved: Set<TransferID>
    /// References known to be taken. Storage need not fill it (a unique index enforces it there);
    /// an in-memory ledger does.
    public var references: Set<String>

    public init(accounts: [AccountReference: LedgerAccount] = [:], holds: [String: Transfer] = [:], resolved: Set<TransferID> = [], references: Set<String> = []) {
        self.accounts = accounts
        self.holds = holds
        self.resolved = resolved
        self.references = references
    }
}

/// Ledger planning: turns the money movements a rule asks for into checked transfers. Pure: the
/// caller loads the accounts and holds, then stores what comes out.
public enum LedgerPlanner {
    /// Every account the movements touch, in lock order.
    public static func accounts(of movements: [MoneyMovement]) -> [AccountReference] {
        var references = Set<AccountReference>()
        for movement in movements {
            references.insert(movement.debit)
            references.insert(movement.credit)
        }
        return references.sorted(by: AccountReference.lockOrder)
    }

    /// The platform accounts among the movements' whose new totals storage may write late,
    /// without locking them first: `external`, which has no limit, and any other platform account
    /// the movements only credit, since a credit cannot take a credit-normal account below zero
    /// whatever other transactions do meanwhile. An account that a movement debits is locked and
    /// read as it stands, to check that it can pay. (Platform accounts are where every money
    /// request meets every other: see `LateTotals` in storage.)
    public static func lateAccounts(of movements: [MoneyMovement]) -> Set<AccountReference> {
        let debited = Set(movements.map(\.debit))
        return Set(accounts(of: movements).filter { reference in
            guard reference.owner == .platform else { return false }
            switch reference.kind.normalSide {
            case .unbounded: return true
            case .credit: return !debited.contains(reference)
            case .debit: return false
            }
        })
    }

    /// The references of the holds the movements post or void.
    public static func holdReferences(of movements: [MoneyMovement]) -> [String] {
        movements.compactMap(\.mode.resolvedReference)
    }

    /// Turns `movements` into transfers, in order, each checked by `LedgerRules` against the
    /// totals the earlier ones left. A post or void moves its hold's full amount. On any failure
    /// `book` is left as it was and nothing is returned.
    public static func plan(
        _ movements: [MoneyMovement],
        in book: inout LedgerBook,
        currency: Currency,
        orderID: OrderID?,
        at now: Date,
        newID: () -> TransferID
    ) throws(LedgerError) -> [Transfer] {
        var working = book
        var transfers: [Transfer] = []
        for movement in movements {
            guard var debit = working.accounts[movement.debit], var credit = working.accounts[movement.credit] else {
                preconditionFailure("the book holds every account of the movements: \(movement.debit), \(movement.credit)")
            }
            guard !working.references.contains(movement.reference) else { throw .duplicateReference(movement.reference) }
            var pending: Transfer?
            var mode = TransferMode.posted
            var amount = movement.amountMinor
            switch movement.mode {
            case .posted: mode = .posted
            case .pending: mode = .pending
            case .postPending(let reference), .voidPending(let reference):
                guard let hold = working.holds[reference], hold.mode == .pending else { throw .pendingTransferNotFound(reference) }
                guard !working.resolved.contains(hold.id) else { throw .pendingTransferAlreadyResolved(hold.id) }
                pending = hold
                amount = hold.amountMinor
                if case .postPending = movement.mode { mode = .postPending(hold.id) } else { mode = .voidPending(hold.id) }
            }
            let transfer = Transfer(
                id: newID(), debitAccountID: debit.id, creditAccountID: credit.id, amountMinor: amount, currency: currency,
                mode: mode, purpose: movement.purpose, reference: movement.reference, orderID: orderID, createdAt: now
            )
            try LedgerRules.apply(transfer, debit: &debit, credit: &credit, pending: pending)
            working.accounts[movement.debit] = debit
            working.accounts[movement.credit] = credit
            working.references.insert(movement.reference)
            if let pending { working.resolved.insert(pending.id) }
            if transfer.mode == .pending { working.holds[movement.reference] = transfer }
            transfers.append(transfer)
        }
        book = working
        return transfers
    }
}
