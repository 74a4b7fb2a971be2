import Foundation

/// One line of a user's ledger statement.
public struct StatementEntry: Sendable, Equatable {
    public let transfer: Transfer
    public let account: LedgerAccountKind
    /// Positive when the account's balance grew (money in, or more owed on a debit-normal account).
    public let amountMinor: Int64
    public let balanceAfterMinor: Int64
}

/// A user's statement for a period: every transfer touching their accounts, with the running
/// balance of each account after it. Pending transfers and voids show with a zero change (they
/// reserve or release, they do not move money); posts move it.
public enum LedgerStatement {
    /// `before` sets the opening balances; `during` (oldest first) becomes the lines.
    public static func entries(accounts: [LedgerAccount], before: [Transfer], during: [Transfer]) -> [StatementEntry] {
        let kinds = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0.kind) })
        var balances: [LedgerAccountID: Int64] = [:]
        func change(_ transfer: Transfer, on account: LedgerAccountID) -> Int64 {
            let amount: Int64 =
                switch transfer.mode {
                case .posted, .postPending: transfer.amountMinor
                case .pending, .voidPending: 0
                }
            let credited = transfer.creditAccountID == account
            let grows = kinds[account]?.normalSide == .debit ? !credited : credited
            return grows ? amount : -amount
        }
        for transfer in before {
            for account in [transfer.debitAccountID, transfer.creditAccountID] where kinds[account] != nil {
                balances[account] = balances[account, default: 0].addingSaturated(change(transfer, on: account))
            }
        }
        var entries: [StatementEntry] = []
        for transfer in during {
            for account in [transfer.debitAccountID, transfer.creditAccountID] where kinds[account] != nil {
                let amount = change(transfer, on: account)
                let balance = balances[account, default: 0].addingSaturated(amount)
                balances[account] = balance
                entries.append(StatementEntry(transfer: transfer, account: kinds[account]!, amountMinor: amount, balanceAfterMinor: balance))
            }
        }
        return entries
    }
}
