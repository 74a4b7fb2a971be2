import Foundation

/// When a seller may take their security deposit back (B4, D1).
///
/// The deposit backs the seller's sales: fines are taken from it and it repays the buyer
/// guarantee fund when the seller cannot pay a refund they owe. So it stays, whole, while any sale
/// can still turn into a claim: an order not yet finished, an open dispute, a completed order
/// whose return window or genuine-goods claim period has not ended, or a debt to the fund. Once
/// none is left (a seller who stops selling waits out their last windows, at most 90 days), any
/// part of it may be moved back to the seller's available balance, from where the usual payout
/// rules apply. New sales after a withdrawal are simply sales without a deposit.
public enum DepositWithdrawal {
    /// What a sale still asks of the deposit.
    public enum Claim: Equatable, Sendable {
        /// Not finished, or in dispute: anything may still happen.
        case open
        /// Finished; the buyer may still claim until then.
        case claimableUntil(Date)
        /// Nothing more can be claimed.
        case closed
    }

    /// The longest a completed sale can be claimed on, in days: the longest return window a
    /// seller may offer and the genuine-goods claim period, whichever is longer. Sales completed
    /// earlier than this need not be read at all.
    public static let longestClaimDays = max(AfterSalesPolicy.returnWindowRange.upperBound, AfterSalesPolicy.genuineGoodsClaimDays)

    /// What `order` still asks of its seller's deposit at `now`.
    public static func claim(on order: Order, at now: Date) -> Claim {
        if order.escrowFrozen { return .open }
        switch order.status {
        case .created, .paid, .shipped:
            return .open
        case .cancelled, .refunded:
            return .closed
        case .completed:
            guard let completedAt = order.completedAt, order.refundableMinor > 0 else { return .closed }
            var end = completedAt.addingTimeInterval(Double(order.policy.returnWindowDays) * 86_400)
            if order.policy.genuineGoodsGuarantee {
                end = max(end, completedAt.addingTimeInterval(Double(AfterSalesPolicy.genuineGoodsClaimDays) * 86_400))
            }
            return now <= end ? .claimableUntil(end) : .closed
        }
    }

    /// Checks a withdrawal of `amountMinor` from a deposit of `depositMinor`, given the seller's
    /// recent sales (at least those not finished or completed in the last `longestClaimDays`)
    /// and their debt to the guarantee fund in the deposit's currency.
    public static func check(
        amountMinor: Int64, depositMinor: Int64, currency: Currency, sales: [Order], debtMinor: Int64, at now: Date
    ) throws(DepositWithdrawalError) {
        guard amountMinor >= 1 else { throw .nothingToWithdraw }
        guard amountMinor <= depositMinor else { throw .moreThanTheDeposit(depositMinor: depositMinor, currency: currency) }
        guard debtMinor <= 0 else { throw .debtOutstanding(debtMinor: debtMinor, currency: currency) }
        let claims = sales.map { claim(on: $0, at: now) }
        let open = claims.filter { $0 == .open }.count
        guard open == 0 else { throw .salesOpen(count: open) }
        let lastClaim = claims.compactMap { claim -> Date? in
            if case .claimableUntil(let end) = claim { return end }
            return nil
        }.max()
        if let lastClaim { throw .claimsOpen(until: lastClaim) }
    }
}

public enum DepositWithdrawalError: DomainError, Equatable {
    case nothingToWithdraw
    case moreThanTheDeposit(depositMinor: Int64, currency: Currency)
    case debtOutstanding(debtMinor: Int64, currency: Currency)
    case salesOpen(count: Int)
    case claimsOpen(until: Date)

    public var kind: FailureKind {
        switch self {
        case .nothingToWithdraw, .moreThanTheDeposit: .unprocessable
        case .debtOutstanding, .salesOpen, .claimsOpen: .conflict
        }
    }

    public var code: String {
        switch self {
        case .nothingToWithdraw, .moreThanTheDeposit: "deposit-too-small"
        case .debtOutstanding, .salesOpen, .claimsOpen: "deposit-backs-sales"
        }
    }

    public var title: String {
        switch self {
        case .nothingToWithdraw, .moreThanTheDeposit: "Not that much in the deposit"
        case .debtOutstanding, .salesOpen, .claimsOpen: "The deposit still backs your sales"
        }
    }

    public var detail: String {
        switch self {
        case .nothingToWithdraw:
            "There is no deposit to withdraw."
        case .moreThanTheDeposit(let deposit, let currency):
            "The deposit holds \(Money.format(deposit, currency)); at most that can be withdrawn."
        case .debtOutstanding(let debt, let currency):
            "You owe the buyer guarantee fund \(Money.format(debt, currency)); the deposit stays until that is repaid."
        case .salesOpen(let count):
            "\(count == 1 ? "1 sale is" : "\(count) sales are") not finished or in dispute; the deposit stays until \(count == 1 ? "it is" : "they are")."
        case .claimsOpen(let until):
            "Buyers can still claim on a completed sale (a return or a genuine-goods claim) until \(until.formatted(Date.ISO8601FormatStyle().year().month().day())); the deposit can be withdrawn after that."
        }
    }
}
