import Foundation

/// What a merchant promises about customer care (F6), measured against what happened: every
/// buyer message answered within so many hours, every paid order shipped within so many hours.
public struct ServiceCommitments: Sendable, Equatable {
    public var answerWithinHours: Int?
    public var shipWithinHours: Int?
    /// When the commitments took their present form: only what happened since is measured.
    public var since: Date

    public init(answerWithinHours: Int?, shipWithinHours: Int?, since: Date) {
        self.answerWithinHours = answerWithinHours
        self.shipWithinHours = shipWithinHours
        self.since = since
    }

    public static let hoursRange = 1...720
    /// The period the profile reports on.
    public static let windowDays = 90

    public static func validate(answerWithinHours: Int?, shipWithinHours: Int?) throws(ValidationError) {
        var validator = Validator()
        validator.check(answerWithinHours != nil || shipWithinHours != nil, field: "shipWithinHours", "Make at least one promise.")
        for (field, value) in [("answerWithinHours", answerWithinHours), ("shipWithinHours", shipWithinHours)] {
            if let value { validator.check(hoursRange.contains(value), field: field, "Promise between 1 and \(hoursRange.upperBound) hours (30 days).") }
        }
        try validator.throwIfInvalid()
    }

    /// How often a promise was kept: over the cases that are settled (kept, or past their time).
    public struct Record: Sendable, Equatable {
        public let kept: Int
        public let total: Int

        public init(kept: Int, total: Int) {
            self.kept = kept
            self.total = total
        }

        /// Whole per cent, nil before anything could be measured.
        public var percent: Int? { total > 0 ? Int((Double(kept) * 100 / Double(total)).rounded(.down)) : nil }
    }

    /// Shipping: each order paid since the start of the window is kept when it shipped within the
    /// promise, broken when it shipped later or is still unshipped past it; an order still within
    /// its time, or cancelled within it, is not counted yet.
    public static func shipping(_ orders: [(paidAt: Date, shippedAt: Date?, closedAt: Date?)], within hours: Int, now: Date) -> Record {
        let allowance = TimeInterval(hours) * 3_600
        var kept = 0, total = 0
        for order in orders {
            let due = order.paidAt.addingTimeInterval(allowance)
            if let shipped = order.shippedAt {
                total += 1
                if shipped <= due { kept += 1 }
            } else if let closed = order.closedAt {
                // Cancelled or refunded before shipping: broken only if that came after the promise ran out.
                if closed > due { total += 1 }
            } else if now > due {
                total += 1
            }
        }
        return Record(kept: kept, total: total)
    }

    public enum Speaker: Sendable, Equatable { case buyer, merchant, other }

    /// Answering: in each order, a buyer message that follows anything but another buyer message
    /// starts a wait; the merchant's next message in that order ends it. Kept when it ended within
    /// the promise; broken when it ended later or is still open past it.
    public static func answering(_ messages: [(order: String, speaker: Speaker, at: Date)], within hours: Int, now: Date) -> Record {
        let allowance = TimeInterval(hours) * 3_600
        var kept = 0, total = 0
        let byOrder = Dictionary(grouping: messages, by: \.order)
        for (_, thread) in byOrder {
            var waitingSince: Date?
            for message in thread.sorted(by: { $0.at < $1.at }) {
                switch message.speaker {
                case .buyer:
                    if waitingSince == nil { waitingSince = message.at }
                case .merchant:
                    if let start = waitingSince {
                        total += 1
                        if message.at <= start.addingTimeInterval(allowance) { kept += 1 }
                        waitingSince = nil
                    }
                case .other:
                    break
                }
            }
            if let start = waitingSince, now > start.addingTimeInterval(allowance) { total += 1 }
        }
        return Record(kept: kept, total: total)
    }
}
