import Foundation

/// How much of a seller's balance must stay on the platform while buyers can still return goods.
///
/// A sale completes when the buyer confirms receipt, but the buyer may still return the goods
/// within the order's return window. If the seller withdrew everything at once, a refund in that
/// window would find an empty balance and fall on the guarantee fund. So, in the spirit of eBay's
/// payment holds for new sellers and Amazon's account-level reserve:
///
/// * the **exposure** is what buyers of completed orders still inside their return window could
///   get back (what they paid, minus what they already got back);
/// * a **new seller** (fewer than `establishedSales` completed sales whose return window has
///   closed) keeps all of it as a reserve; an **established seller** keeps `establishedShare`
///   of it;
/// * the security **deposit** already covers refunds, so it is subtracted from the reserve.
///
/// The reserve limits payouts and paying for orders from the balance; refunds may use it.
public enum PayoutReserve {
    public static let establishedSales = 20
    /// An established seller keeps a quarter of the exposure (in basis points).
    public static let establishedShareBasisPoints: Int64 = 2_500

    /// A seller's record, as the reserve needs it.
    public struct Record: Sendable, Equatable {
        /// What buyers could still get back of completed orders inside their return window.
        public var exposureMinor: Int64
        /// Completed sales whose return window has closed.
        public var settledSales: Int
        public var depositMinor: Int64

        public init(exposureMinor: Int64, settledSales: Int, depositMinor: Int64) {
            self.exposureMinor = exposureMinor
            self.settledSales = settledSales
            self.depositMinor = depositMinor
        }
    }

    /// The part of the seller's balance that may not leave the platform now.
    public static func reservedMinor(_ record: Record) -> Int64 {
        let exposure = max(0, record.exposureMinor)
        let kept = record.settledSales >= establishedSales
            ? FeeSplit.basisPoints(exposure, Int(establishedShareBasisPoints), roundHalfUp: true)
            : exposure
        return max(0, kept - max(0, record.depositMinor))
    }

    /// What may be paid out or spent of `availableMinor` with `reservedMinor` kept back.
    public static func withdrawableMinor(availableMinor: Int64, reservedMinor: Int64) -> Int64 {
        max(0, availableMinor - reservedMinor)
    }

    /// The explanation shown beside the balance.
    public static func explanation(_ record: Record, reservedMinor: Int64, currency: Currency) -> String {
        guard reservedMinor > 0 else { return "Nothing of your balance is reserved." }
        let share = record.settledSales >= establishedSales ? "a quarter of " : ""
        return "\(Money.format(reservedMinor, currency)) stays reserved until return windows close: \(share)what buyers could still get back "
            + "(\(Money.format(record.exposureMinor, currency))), less your deposit."
    }
}

/// Failures of money leaving Fiducia.
public enum PayoutError: DomainError, Equatable {
    /// The amount is more than the balance minus the reserve.
    case reserveHeld(withdrawableMinor: Int64, reservedMinor: Int64)

    public var kind: FailureKind { .unprocessable }
    public var code: String { "reserve-held" }
    public var title: String { "Part of the balance is reserved" }
    public var detail: String {
        switch self {
        case .reserveHeld(let withdrawable, let reserved):
            "\(reserved) minor units of the balance stay reserved while buyers can still return goods; at most \(withdrawable) can leave now."
        }
    }
}

/// When a staff action on an order's money needs a second staff member (maker–checker, as Jube
/// does for rule changes): large refunds and cancellations are proposed by one and approved by
/// another, never by the same person.
public enum StaffApproval {
    /// Whether moving `amountMinor` of `currency` by staff needs a second approval.
    public static func needsSecondApproval(amountMinor: Int64, currency: Currency, settings: EscrowSettings) -> Bool {
        guard let threshold = settings.secondApprovalAboveMajor.multipliedChecked(by: currency.minorUnitsPerMajor) else { return true }
        return amountMinor > threshold
    }
}
