import FiduciaDomain
import Foundation
import Testing

/// The whole ledger in memory for domain tests: a `LedgerBook` holding every account and hold,
/// driven by the real `LedgerPlanner` (no copy of its logic), plus every transfer for the audit.
struct InMemoryLedger {
    var book = LedgerBook()
    var transfers: [Transfer] = []
    var sequence = 0
    let currency: Currency

    init(currency: Currency = Currency("EUR")!) {
        self.currency = currency
    }

    /// Applies the movements all or nothing; returns the transfers they made.
    @discardableResult
    mutating func execute(_ movements: [MoneyMovement], order: OrderID?) throws -> [Transfer] {
        for reference in LedgerPlanner.accounts(of: movements) where book.accounts[reference] == nil {
            sequence += 1
            book.accounts[reference] = LedgerAccount(id: LedgerAccountID("acc_\(sequence)"), owner: reference.owner, kind: reference.kind, currency: currency)
        }
        var next = sequence
        let made = try LedgerPlanner.plan(movements, in: &book, currency: currency, orderID: order, at: Date(timeIntervalSince1970: 0)) {
            next += 1
            return TransferID("trf_\(String(format: "%06d", next))")
        }
        sequence = next
        transfers += made
        return made
    }

    func balance(_ reference: AccountReference) -> LedgerBalances { book.accounts[reference]?.balances ?? .init() }

    func spendable(_ user: UserID) -> Int64 { balance(.user(user, .available)).spendable }

    func position(of seller: UserID) -> SellerPosition {
        SellerPosition(
            availableMinor: balance(.user(seller, .available)).spendable,
            depositMinor: balance(.user(seller, .deposit)).spendable,
            debtMinor: balance(.user(seller, .debt)).postedDebitBalance
        )
    }

    /// The sum of unresolved holds with `purpose`.
    func openHolds(_ purpose: TransferPurpose) -> Int64 {
        book.holds.values.filter { $0.purpose == purpose && !book.resolved.contains($0.id) }.reduce(0) { $0 + $1.amountMinor }
    }

    func audit(orders: [Order]) -> LedgerAudit.Report {
        var audit = LedgerAudit()
        for transfer in transfers { audit.add(transfer) }
        var held: [OrderID: (Currency, Int64)] = [:]
        for order in orders where order.status.holdsEscrow { held[order.id] = (order.currency, order.heldMinor) }
        return audit.finish(accounts: Array(book.accounts.values), heldOrders: held)
    }
}
