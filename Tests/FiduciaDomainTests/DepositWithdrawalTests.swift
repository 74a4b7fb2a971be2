import FiduciaDomain
import Foundation
import Testing

@Suite("Deposit withdrawal")
struct DepositWithdrawalTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let euro = Currency("EUR")!

    func sale(_ status: OrderStatus, completedDaysAgo: Double = 0, policy: AfterSalesPolicy = .standard, frozen: Bool = false, refundedAll: Bool = false) -> Order {
        var order = Order(
            id: OrderID("ord_1"), buyerID: UserID("usr_b"), sellerID: UserID("usr_s"), currency: euro,
            items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: 1_000)], totalMinor: 1_000, policy: policy,
            feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: now.addingTimeInterval(-120 * 86_400), payBy: now
        )
        order.status = status
        order.escrowFrozen = frozen
        if status != .created { order.paidAt = order.createdAt }
        if status == .completed { order.completedAt = now.addingTimeInterval(-completedDaysAgo * 86_400) }
        if refundedAll { order.refundedMinor = order.totalMinor }
        return order
    }

    func check(_ sales: [Order], amount: Int64 = 500, deposit: Int64 = 1_000, debt: Int64 = 0) throws(DepositWithdrawalError) {
        try DepositWithdrawal.check(amountMinor: amount, depositMinor: deposit, currency: euro, sales: sales, debtMinor: debt, at: now)
    }

    @Test
    func eachKindOfSaleHoldsTheDepositAsLongAsItCanBeClaimedOn() throws {
        #expect(throws: DepositWithdrawalError.salesOpen(count: 3)) { try check([sale(.created), sale(.paid), sale(.shipped)]) }
        // A dispute on a completed sale is open whatever its windows say.
        #expect(throws: DepositWithdrawalError.salesOpen(count: 1)) { try check([sale(.completed, completedDaysAgo: 200, frozen: true)]) }
        // The standard 7-day return window; then nothing more can be claimed.
        let sixDays = sale(.completed, completedDaysAgo: 6)
        #expect(throws: DepositWithdrawalError.claimsOpen(until: sixDays.completedAt!.addingTimeInterval(7 * 86_400))) { try check([sixDays]) }
        try check([sale(.completed, completedDaysAgo: 8), sale(.cancelled), sale(.refunded)])
        // The genuine-goods guarantee is claimable for 90 days, whatever the return window.
        let guaranteed = AfterSalesPolicy(returnWindowDays: 0, genuineGoodsGuarantee: true)
        #expect(throws: DepositWithdrawalError.self) { try check([sale(.completed, completedDaysAgo: 89, policy: guaranteed)]) }
        try check([sale(.completed, completedDaysAgo: 91, policy: guaranteed)])
        // A sale already refunded in full leaves nothing to claim.
        try check([sale(.completed, completedDaysAgo: 1, refundedAll: true)])
        // The latest end is the one named.
        let later = sale(.completed, completedDaysAgo: 1)
        #expect(throws: DepositWithdrawalError.claimsOpen(until: later.completedAt!.addingTimeInterval(7 * 86_400))) { try check([sixDays, later]) }
        #expect(DepositWithdrawal.longestClaimDays == 90)
    }

    @Test
    func aDebtOrMoreThanTheDepositIsRefused() throws {
        #expect(throws: DepositWithdrawalError.debtOutstanding(debtMinor: 1, currency: euro)) { try check([], debt: 1) }
        #expect(throws: DepositWithdrawalError.moreThanTheDeposit(depositMinor: 1_000, currency: euro)) { try check([], amount: 1_001) }
        #expect(throws: DepositWithdrawalError.nothingToWithdraw) { try check([], amount: 0) }
        try check([], amount: 1_000)
    }
}
