import FiduciaDomain
import Foundation
import SQLKit

/// Stores accounts (with their running totals) and the append-only transfers.
public protocol LedgerRepository: Sendable {
    /// The accounts, opening (with zero totals) those that do not exist, in one statement; on
    /// PostgreSQL the rows are locked, in the order given, until the transaction ends. Callers
    /// pass them in one fixed order so that concurrent transactions cannot deadlock.
    func lockAccounts(_ references: [AccountReference], currency: Currency, newID: () -> LedgerAccountID, now: Date) async throws -> [AccountReference: LedgerAccount]
    /// Whether this transaction may write platform accounts' totals late (`LateTotals`): on
    /// PostgreSQL, in a write transaction.
    var writesTotalsLate: Bool { get }
    /// The accounts, opening those that do not exist, without locking them (for `LateTotals`):
    /// their totals as last committed, plus this transaction's own late changes.
    func openAccounts(_ references: [AccountReference], currency: Currency, newID: () -> LedgerAccountID, now: Date) async throws -> [AccountReference: LedgerAccount]
    /// Records accounts' new totals as changes written just before the commit (`LateTotals`).
    func saveTotalsLate(from before: [LedgerAccount], to after: [LedgerAccount]) async throws
    /// Writes the late changes (the transaction's last statements, before its commit).
    func writeLateTotals() async throws
    /// The account if it exists (no lock).
    func account(owner: LedgerOwner, kind: LedgerAccountKind, currency: Currency) async throws -> LedgerAccount?
    func accounts(owner: LedgerOwner) async throws -> [LedgerAccount]
    func allAccounts() async throws -> [LedgerAccount]
    func transfer(reference: String) async throws -> Transfer?
    /// The transfers with these references (the holds a plan posts or voids), by reference.
    func transfers(references: [String]) async throws -> [String: Transfer]
    /// Which of these pending transfers have been posted or voided.
    func resolved(among pending: [TransferID]) async throws -> Set<TransferID>
    /// Appends a transfer (already checked by `LedgerRules`).
    func record(_ transfer: Transfer) async throws
    /// Writes accounts' new running totals (locked, and checked by `LedgerRules`).
    func saveTotals(_ accounts: [LedgerAccount]) async throws
    /// Transfers touching any of `accounts` created in [from, to), oldest first.
    func transfers(touching accounts: [LedgerAccountID], from: Date, to: Date) async throws -> [Transfer]
    /// All transfers in id order after `cursor`, `limit` at a time (for verification).
    func transfers(after cursor: TransferID?, limit: Int) async throws -> [Transfer]
    func recentTransfers(limit: Int) async throws -> [Transfer]
    func transferCount() async throws -> Int
    /// The sum of the unresolved holds with `purpose` on the owner's account of `kind`.
    func pendingTotal(debit owner: LedgerOwner, kind: LedgerAccountKind, currency: Currency, purpose: TransferPurpose) async throws -> Int64
}

struct SQLLedgerRepository: LedgerRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind
    /// This transaction's late changes (PostgreSQL writes only).
    let late: LateTotals?

    var writesTotalsLate: Bool { late != nil }

    /// `account` with this transaction's late change added (what the transaction sees).
    private func withLateChange(_ account: LedgerAccount) throws -> LedgerAccount {
        guard let change = late?.change(of: account.id) else { return account }
        var seen = account
        seen.balances = try account.balances.adding(change, of: account.kind)
        return seen
    }

    func openAccounts(_ references: [AccountReference], currency: Currency, newID: () -> LedgerAccountID, now: Date) async throws -> [AccountReference: LedgerAccount] {
        guard !references.isEmpty else { return [:] }
        func read() async throws -> [AccountReference: LedgerAccount] {
            let keys = references.map { SQLQueryString("(\(bind: $0.owner.storageKey), \(bind: $0.kind.rawValue))") }
            var accounts: [AccountReference: LedgerAccount] = [:]
            for row in try await sql.raw("""
                SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts
                WHERE currency = \(bind: currency.code) AND (owner, kind) IN (\(keys.joined(separator: ", ")))
                """).all() {
                let account = try withLateChange(try Self.account(row))
                accounts[AccountReference(account.owner, account.kind)] = account
            }
            return accounts
        }
        // The platform's accounts exist after its first payment: one read is the usual case.
        let found = try await read()
        if found.count == references.count { return found }
        let rows = references.filter { found[$0] == nil }.map { reference in
            SQLQueryString("""
                (\(bind: newID().rawValue), \(bind: reference.owner.storageKey), \(bind: reference.kind.rawValue), \(bind: currency.code), 0, 0, 0, 0, \(bind: now.millisecondsSince1970))
                """)
        }
        try await sql.raw("""
            INSERT INTO ledger_accounts (id, owner, kind, currency, debits_posted, credits_posted, debits_pending, credits_pending, created_at)
            VALUES \(rows.joined(separator: ", ")) ON CONFLICT (owner, kind, currency) DO NOTHING
            """).run()
        let accounts = try await read()
        precondition(accounts.count == references.count, "every account was opened or found")
        return accounts
    }

    func saveTotalsLate(from before: [LedgerAccount], to after: [LedgerAccount]) async throws {
        guard let late else { preconditionFailure("only a PostgreSQL write transaction writes totals late") }
        let earlier = Dictionary(uniqueKeysWithValues: before.map { ($0.id, $0) })
        for account in after {
            guard let previous = earlier[account.id] else { preconditionFailure("a late change starts from the account as read") }
            try late.add(from: previous, to: account)
        }
    }

    func writeLateTotals() async throws {
        guard let late else { return }
        try await write(late.take())
    }

    /// `total = total + change`, one row at a time in id order (so that two transactions take
    /// the rows' locks in the same order).
    private func write(_ changes: [(LedgerAccountID, LedgerBalances)]) async throws {
        for (id, change) in changes {
            try await sql.raw("""
                UPDATE ledger_accounts
                SET debits_posted = debits_posted + \(bind: change.debitsPosted), credits_posted = credits_posted + \(bind: change.creditsPosted),
                    debits_pending = debits_pending + \(bind: change.debitsPending), credits_pending = credits_pending + \(bind: change.creditsPending)
                WHERE id = \(bind: id.rawValue)
                """).run()
        }
    }

    static let accountColumns = "id, owner, kind, currency, debits_posted, credits_posted, debits_pending, credits_pending"
    static let transferColumns = "id, debit_account_id, credit_account_id, amount_minor, currency, mode, pending_id, purpose, reference, order_id, created_at"

    func lockAccounts(_ references: [AccountReference], currency: Currency, newID: () -> LedgerAccountID, now: Date) async throws -> [AccountReference: LedgerAccount] {
        guard !references.isEmpty else { return [:] }
        // One round trip: an upsert whose no-op update takes the row lock (PostgreSQL, READ
        // COMMITTED: on the latest committed version) and returns the row, new or existing.
        let rows = references.map { reference in
            SQLQueryString("""
                (\(bind: newID().rawValue), \(bind: reference.owner.storageKey), \(bind: reference.kind.rawValue), \(bind: currency.code), 0, 0, 0, 0, \(bind: now.millisecondsSince1970))
                """)
        }
        let query: SQLQueryString = """
            INSERT INTO ledger_accounts (id, owner, kind, currency, debits_posted, credits_posted, debits_pending, credits_pending, created_at)
            VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (owner, kind, currency) DO UPDATE SET owner = excluded.owner
            RETURNING \(unsafeRaw: Self.accountColumns)
            """
        var accounts: [AccountReference: LedgerAccount] = [:]
        for row in try await sql.raw(query).all() {
            let account = try Self.account(row)
            accounts[AccountReference(account.owner, account.kind)] = account
        }
        precondition(accounts.count == references.count, "every account was opened or found")
        // A late change of an account now locked is written at once: its row holds it from here.
        if let late, !late.isEmpty {
            let lockedIDs = Set(accounts.values.map(\.id))
            let changes = late.take(lockedIDs)
            try await write(changes)
            for (id, change) in changes {
                guard let (reference, account) = accounts.first(where: { $0.value.id == id }) else { continue }
                var updated = account
                updated.balances = try account.balances.adding(change, of: account.kind)
                accounts[reference] = updated
            }
        }
        return accounts
    }

    func account(owner: LedgerOwner, kind accountKind: LedgerAccountKind, currency: Currency) async throws -> LedgerAccount? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts
            WHERE owner = \(bind: owner.storageKey) AND kind = \(bind: accountKind.rawValue) AND currency = \(bind: currency.code)
            """).first().map { try withLateChange(try Self.account($0)) }
    }

    func accounts(owner: LedgerOwner) async throws -> [LedgerAccount] {
        try await sql.raw("SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts WHERE owner = \(bind: owner.storageKey) ORDER BY currency, kind")
            .all().map { try withLateChange(try Self.account($0)) }
    }

    func allAccounts() async throws -> [LedgerAccount] {
        try await sql.raw("SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts ORDER BY id").all().map { try withLateChange(try Self.account($0)) }
    }

    func transfer(reference: String) async throws -> Transfer? {
        try await sql.raw("SELECT \(unsafeRaw: Self.transferColumns) FROM ledger_transfers WHERE reference = \(bind: reference)").first().map(Self.transfer)
    }

    func transfers(references: [String]) async throws -> [String: Transfer] {
        guard !references.isEmpty else { return [:] }
        let found = try await sql.select().column(SQLRaw(Self.transferColumns)).from("ledger_transfers")
            .where("reference", .in, references).all().map(Self.transfer)
        return Dictionary(found.map { ($0.reference, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func resolved(among pending: [TransferID]) async throws -> Set<TransferID> {
        guard !pending.isEmpty else { return [] }
        let rows = try await sql.select().column("pending_id").from("ledger_transfers").where("pending_id", .in, pending.map(\.rawValue)).all()
        return Set(try rows.map { TransferID(try $0.string("pending_id")) })
    }

    func record(_ transfer: Transfer) async throws {
        do {
            try await sql.raw("""
                INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, mode, pending_id, purpose, reference, order_id, created_at)
                VALUES (\(bind: transfer.id.rawValue), \(bind: transfer.debitAccountID.rawValue), \(bind: transfer.creditAccountID.rawValue),
                        \(bind: transfer.amountMinor), \(bind: transfer.currency.code), \(bind: transfer.mode.storageName),
                        \(bind: transfer.mode.pendingID?.rawValue), \(bind: transfer.purpose.rawValue), \(bind: transfer.reference),
                        \(bind: transfer.orderID?.rawValue), \(bind: transfer.createdAt.millisecondsSince1970))
                """).run()
        } catch where DatabaseErrors.isUniqueViolation(error) {
            if let pending = transfer.mode.pendingID, (DatabaseErrors.violatedConstraint(error) ?? "").contains("pending_id") {
                throw LedgerError.pendingTransferAlreadyResolved(pending)
            }
            throw LedgerError.duplicateReference(transfer.reference)
        }
    }

    func saveTotals(_ accounts: [LedgerAccount]) async throws {
        for account in accounts {
            try await sql.raw("""
                UPDATE ledger_accounts
                SET debits_posted = \(bind: account.balances.debitsPosted), credits_posted = \(bind: account.balances.creditsPosted),
                    debits_pending = \(bind: account.balances.debitsPending), credits_pending = \(bind: account.balances.creditsPending)
                WHERE id = \(bind: account.id.rawValue)
                """).run()
        }
    }

    func transfers(touching accounts: [LedgerAccountID], from: Date, to: Date) async throws -> [Transfer] {
        guard !accounts.isEmpty else { return [] }
        let ids = accounts.map(\.rawValue)
        return try await sql.select().column(SQLRaw(Self.transferColumns)).from("ledger_transfers")
            .where { group in
                group.where("debit_account_id", .in, ids).orWhere("credit_account_id", .in, ids)
            }
            .where("created_at", .greaterThanOrEqual, from.millisecondsSince1970)
            .where("created_at", .lessThan, to.millisecondsSince1970)
            .orderBy("created_at").orderBy("id")
            .all().map(Self.transfer)
    }

    func transfers(after cursor: TransferID?, limit: Int) async throws -> [Transfer] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.transferColumns) FROM ledger_transfers WHERE id > \(bind: cursor?.rawValue ?? "") ORDER BY id LIMIT \(bind: limit)
            """).all().map(Self.transfer)
    }

    func recentTransfers(limit: Int) async throws -> [Transfer] {
        try await sql.raw("SELECT \(unsafeRaw: Self.transferColumns) FROM ledger_transfers ORDER BY id DESC LIMIT \(bind: limit)")
            .all().map(Self.transfer)
    }

    func pendingTotal(debit owner: LedgerOwner, kind accountKind: LedgerAccountKind, currency: Currency, purpose: TransferPurpose) async throws -> Int64 {
        try await sql.raw("""
            SELECT CAST(COALESCE(SUM(t.amount_minor), 0) AS BIGINT) AS total FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.debit_account_id
            WHERE a.owner = \(bind: owner.storageKey) AND a.kind = \(bind: accountKind.rawValue) AND a.currency = \(bind: currency.code)
              AND t.mode = 'pending' AND t.purpose = \(bind: purpose.rawValue)
              AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id)
            """).first()?.int64("total") ?? 0
    }

    func transferCount() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM ledger_transfers").first()?.int("n") ?? 0
    }

    static func account(_ row: any SQLRow) throws -> LedgerAccount {
        LedgerAccount(
            id: LedgerAccountID(try row.string("id")),
            owner: LedgerOwner(storageKey: try row.string("owner")),
            kind: LedgerAccountKind(rawValue: try row.string("kind"))!,
            currency: Currency(try row.string("currency"))!,
            balances: LedgerBalances(
                debitsPosted: try row.int64("debits_posted"),
                creditsPosted: try row.int64("credits_posted"),
                debitsPending: try row.int64("debits_pending"),
                creditsPending: try row.int64("credits_pending")
            )
        )
    }

    static func transfer(_ row: any SQLRow) throws -> Transfer {
        let pending = try row.optionalString("pending_id").map(TransferID.init)
        let mode: TransferMode =
            switch try row.string("mode") {
            case "pending": .pending
            case "post_pending": .postPending(pending!)
            case "void_pending": .voidPending(pending!)
            default: .posted
            }
        return Transfer(
            id: TransferID(try row.string("id")),
            debitAccountID: LedgerAccountID(try row.string("debit_account_id")),
            creditAccountID: LedgerAccountID(try row.string("credit_account_id")),
            amountMinor: try row.int64("amount_minor"),
            currency: Currency(try row.string("currency"))!,
            mode: mode,
            purpose: TransferPurpose(rawValue: try row.string("purpose"))!,
            reference: try row.string("reference"),
            orderID: try row.optionalString("order_id").map(OrderID.init),
            createdAt: try row.date("created_at")
        )
    }
}
