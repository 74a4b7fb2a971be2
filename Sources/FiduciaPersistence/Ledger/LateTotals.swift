import FiduciaDomain
import NIOConcurrencyHelpers

/// Changes to platform ledger accounts' running totals that a PostgreSQL transaction writes just
/// before it commits, instead of locking the accounts' rows when it first touches them.
///
/// Every card payment credits the platform's `external` account and every completion credits
/// `fees` and the guarantee fund: locked at first touch, those few rows made every money request
/// wait for the one before it to finish all its remaining round trips and commit (issue 15's
/// profile: most active backends waiting on them). A movement that only *credits* a platform
/// account (or touches `external`, which has no limit) cannot break the account's limit whatever
/// others do meanwhile, so it needs no lock to be planned: its change is added here and written
/// as `total = total + change`, row by row in one order, as the transaction's last statements.
/// The row locks are then held only for the commit itself.
///
/// Reads in the same transaction see the changes (`SQLLedgerRepository` adds them), a savepoint
/// that rolls back takes its changes with it (`Repositories.savepoint`), and an account the
/// transaction later locks has its pending change written first. SQLite (one writer at a time)
/// never defers.
public final class LateTotals: Sendable {
    private let changes = NIOLockedValueBox<[LedgerAccountID: LedgerBalances]>([:])

    public init() {}

    /// Adds the change from `before` to `after` of one account.
    func add(from before: LedgerAccount, to after: LedgerAccount) throws {
        let delta = try LedgerBalances.change(from: before.balances, to: after.balances, of: after.kind)
        try changes.withLockedValue { changes in
            changes[after.id] = try (changes[after.id] ?? LedgerBalances()).adding(delta, of: after.kind)
        }
    }

    /// The change waiting for `account`, if any.
    func change(of account: LedgerAccountID) -> LedgerBalances? {
        changes.withLockedValue { $0[account] }
    }

    /// Takes the changes of `accounts` (all when nil) out, in the order rows are locked (by id).
    func take(_ accounts: Set<LedgerAccountID>? = nil) -> [(LedgerAccountID, LedgerBalances)] {
        changes.withLockedValue { changes in
            let taken = changes.filter { accounts?.contains($0.key) ?? true }
            for id in taken.keys { changes[id] = nil }
            return taken.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    var isEmpty: Bool { changes.withLockedValue { $0.isEmpty } }

    /// What a savepoint restores when it rolls back.
    func snapshot() -> [LedgerAccountID: LedgerBalances] { changes.withLockedValue { $0 } }
    func restore(_ snapshot: [LedgerAccountID: LedgerBalances]) { changes.withLockedValue { $0 = snapshot } }
}

extension LedgerBalances {
    /// `after` minus `before`, field by field, with checked arithmetic.
    static func change(from before: LedgerBalances, to after: LedgerBalances, of kind: LedgerAccountKind) throws -> LedgerBalances {
        func minus(_ a: Int64, _ b: Int64) throws -> Int64 {
            let (value, overflow) = a.subtractingReportingOverflow(b)
            guard !overflow else { throw LedgerError.totalsOverflow(kind) }
            return value
        }
        return LedgerBalances(
            debitsPosted: try minus(after.debitsPosted, before.debitsPosted), creditsPosted: try minus(after.creditsPosted, before.creditsPosted),
            debitsPending: try minus(after.debitsPending, before.debitsPending), creditsPending: try minus(after.creditsPending, before.creditsPending)
        )
    }

    /// These totals plus `change`, field by field, with checked arithmetic.
    func adding(_ change: LedgerBalances, of kind: LedgerAccountKind) throws -> LedgerBalances {
        func plus(_ a: Int64, _ b: Int64) throws -> Int64 {
            let (value, overflow) = a.addingReportingOverflow(b)
            guard !overflow else { throw LedgerError.totalsOverflow(kind) }
            return value
        }
        return LedgerBalances(
            debitsPosted: try plus(debitsPosted, change.debitsPosted), creditsPosted: try plus(creditsPosted, change.creditsPosted),
            debitsPending: try plus(debitsPending, change.debitsPending), creditsPending: try plus(creditsPending, change.creditsPending)
        )
    }
}
