import Foundation

/// Business settings of escrow, the same for every server of a deployment.
public struct EscrowSettings: Sendable, Equatable {
    /// An unpaid order is cancelled after this.
    public var paymentWindowSeconds: TimeInterval = 24 * 3600
    /// A shipped order completes on its own after this (10 days, as Alipay does for express delivery).
    public var autoCompleteSeconds: TimeInterval = 10 * 86_400
    /// The seller may extend the confirmation period once, by at most this many days.
    public var maximumExtensionDays = 10
    /// The platform fee, in basis points of the order total (200 = 2%).
    public var feeBasisPoints = 200
    /// The share of the fee that feeds the buyer guarantee fund, in basis points of the fee.
    public var fundShareBasisPoints = 2_000
    /// Purchases up to this many minor units may go on the buyer's monthly statement (B5).
    public var microPaymentLimitMinor: Int64 = 1_000

    public init() {}
}

/// Who performs an action on an order.
public enum EscrowActor: Sendable, Equatable {
    case buyer(UserID)
    case seller(UserID)
    /// A moderator or administrator.
    case staff(UserID)
    /// Fiducia itself: timeouts.
    case system

    var userID: UserID? {
        switch self {
        case .buyer(let id), .seller(let id), .staff(let id): id
        case .system: nil
        }
    }
}

/// What can be done to an order.
public enum OrderAction: Sendable, Equatable {
    case pay(PaymentMethod)
    case ship(carrier: String, trackingNumber: String)
    case addTracking(TrackingEvent)
    case confirmReceipt
    case autoComplete
    case extendConfirmation(days: Int)
    case cancel(reason: String?)
    case expire
    /// The amount defaults to the whole total.
    case requestRefund(amountMinor: Int64?, reason: String)
    /// The amount defaults to what the buyer asked for, else the whole total.
    case refund(amountMinor: Int64?, reason: String?)

    /// The verb used in messages ("cannot be paid").
    public var verb: String {
        switch self {
        case .pay: "paid"
        case .ship: "shipped"
        case .addTracking: "given tracking events"
        case .confirmReceipt: "confirmed as received"
        case .autoComplete: "completed automatically"
        case .extendConfirmation: "extended"
        case .cancel: "cancelled"
        case .expire: "expired"
        case .requestRefund: "given a refund request"
        case .refund: "refunded"
        }
    }
}

/// A reference to an account by owner and kind (the service finds or opens it for the order's currency).
public struct AccountReference: Sendable, Hashable {
    public let owner: LedgerOwner
    public let kind: LedgerAccountKind

    public init(_ owner: LedgerOwner, _ kind: LedgerAccountKind) {
        self.owner = owner
        self.kind = kind
    }

    public static func platform(_ kind: LedgerAccountKind) -> AccountReference { AccountReference(.platform, kind) }
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
}

/// Background work an order needs: a timeout to schedule (or move) or to cancel.
public enum EscrowTimeout: Sendable, Equatable {
    case schedule(Kind, dueAt: Date)
    case cancel(Kind)

    public enum Kind: String, Sendable, CaseIterable {
        case expireUnpaid = "order.expire"
        case autoComplete = "order.autoComplete"
    }
}

/// The outcome of a legal action: the new order, the money to move and the timeouts to change.
public struct EscrowTransition: Sendable, Equatable {
    public var order: Order
    public var money: [MoneyMovement]
    public var timeouts: [EscrowTimeout]
}

/// What the ledger says about a seller, needed when a refund after completion may exceed what
/// the seller holds, and to recover what the seller owes the guarantee fund.
public struct SellerPosition: Sendable, Equatable {
    public var availableMinor: Int64
    public var depositMinor: Int64
    public var debtMinor: Int64

    public init(availableMinor: Int64 = 0, depositMinor: Int64 = 0, debtMinor: Int64 = 0) {
        self.availableMinor = availableMinor
        self.depositMinor = depositMinor
        self.debtMinor = debtMinor
    }
}

/// How a payment divides between the seller, the platform and the guarantee fund.
public struct FeeSplit: Sendable, Equatable {
    public let sellerNetMinor: Int64
    public let platformFeeMinor: Int64
    public let fundContributionMinor: Int64

    /// The fee is `total × feeBasisPoints / 10 000`, rounded half up, computed in 128 bits so that
    /// no order total can overflow; the fund's share is taken from the fee, rounded down.
    public init(totalMinor: Int64, feeBasisPoints: Int, fundShareBasisPoints: Int) {
        precondition(totalMinor >= 0 && (0...10_000).contains(feeBasisPoints) && (0...10_000).contains(fundShareBasisPoints))
        let fee = Self.basisPoints(totalMinor, feeBasisPoints, roundHalfUp: true)
        let fund = Self.basisPoints(fee, fundShareBasisPoints, roundHalfUp: false)
        sellerNetMinor = totalMinor - fee
        platformFeeMinor = fee - fund
        fundContributionMinor = fund
        precondition(sellerNetMinor + platformFeeMinor + fundContributionMinor == totalMinor, "a split adds up to the total")
    }

    static func basisPoints(_ amount: Int64, _ points: Int, roundHalfUp: Bool) -> Int64 {
        let product = amount.multipliedFullWidth(by: Int64(points))
        let rounding: Int64 = roundHalfUp ? 5_000 : 0
        let (low, carry) = product.low.addingReportingOverflow(UInt64(rounding))
        let high = product.high + (carry ? 1 : 0)
        return Int64(10_000).dividingFullWidth((high: high, low: low)).quotient
    }
}

/// The order state machine. Pure: given an order, an action, who acts and when, it returns the
/// new order and the money and timeouts to change, or a named error and nothing else.
///
/// ```
/// created ──pay──▶ paid ──ship──▶ shipped ──confirmReceipt / autoComplete──▶ completed
///    │               │               │                                          │
///    │cancel/expire  │cancel         │refund (full or part)                     │refund within
///    ▼               ▼               ▼                                          ▼ the return window
/// cancelled       cancelled       refunded                                   refunded
/// ```
public enum EscrowMachine {
    public static func apply(
        _ action: OrderAction,
        to order: Order,
        by actor: EscrowActor,
        at now: Date,
        settings: EscrowSettings,
        seller position: SellerPosition = SellerPosition()
    ) throws(EscrowError) -> EscrowTransition {
        var next = order
        var money: [MoneyMovement] = []
        var timeouts: [EscrowTimeout] = []
        let split = FeeSplit(totalMinor: order.totalMinor, feeBasisPoints: order.feeBasisPoints, fundShareBasisPoints: order.fundShareBasisPoints)
        func event(_ kind: OrderEvent.Kind, _ detail: String) {
            next.timeline.append(OrderEvent(at: now, kind: kind, actor: actor.userID, detail: detail))
        }
        func require(_ statuses: OrderStatus...) throws(EscrowError) {
            guard statuses.contains(order.status) else { throw .illegalTransition(action: action.verb, status: order.status) }
        }
        func requireActor(_ allowed: (EscrowActor) -> Bool) throws(EscrowError) {
            guard allowed(actor) else { throw .notAllowed(action: String(action.verb.split(separator: " ").first ?? "")) }
        }
        let isBuyer: (EscrowActor) -> Bool = { if case .buyer(let id) = $0 { return id == order.buyerID } else { return false } }
        let isSeller: (EscrowActor) -> Bool = { if case .seller(let id) = $0 { return id == order.sellerID } else { return false } }
        let isStaff: (EscrowActor) -> Bool = { if case .staff = $0 { return true } else { return false } }
        let isSystem: (EscrowActor) -> Bool = { $0 == .system }

        switch action {
        case .pay(let method):
            try requireActor(isBuyer)
            try require(.created)
            guard now < order.payBy else { throw .paymentWindowClosed }
            let buyer = AccountReference(.user(order.buyerID), .available)
            switch method {
            case .card(_, let chargeID):
                next.paymentReference = chargeID
                money.append(MoneyMovement(
                    debit: .platform(.external), credit: buyer, amountMinor: order.totalMinor, mode: .posted,
                    purpose: .cardPayment, reference: "order:\(order.id):card"
                ))
            case .statement:
                guard order.totalMinor <= settings.microPaymentLimitMinor else {
                    throw .statementLimitExceeded(limitMinor: settings.microPaymentLimitMinor)
                }
                money.append(MoneyMovement(
                    debit: AccountReference(.user(order.buyerID), .statement), credit: buyer, amountMinor: order.totalMinor,
                    mode: .posted, purpose: .statementCharge, reference: "order:\(order.id):statement"
                ))
            case .balance:
                break
            }
            money += holds(order, split).map { hold in
                MoneyMovement(debit: hold.debit, credit: hold.credit, amountMinor: hold.amountMinor, mode: .pending, purpose: hold.purpose, reference: hold.reference)
            }
            next.status = .paid
            next.paidAt = now
            next.paymentMethod = method.name
            timeouts.append(.cancel(.expireUnpaid))
            event(.paid, "Paid \(order.money) by \(method.name). The money is held in escrow.")

        case .ship(let carrier, let trackingNumber):
            try requireActor(isSeller)
            try require(.paid)
            let carrier = carrier.trimmingWhitespace()
            let trackingNumber = trackingNumber.trimmingWhitespace()
            guard (1...80).contains(carrier.count), (1...80).contains(trackingNumber.count) else {
                throw .illegalTransition(action: "shipped without a carrier and tracking number", status: order.status)
            }
            next.status = .shipped
            next.shippedAt = now
            next.shipment = Shipment(carrier: carrier, trackingNumber: trackingNumber)
            let confirmBy = now.addingTimeInterval(settings.autoCompleteSeconds)
            next.confirmBy = confirmBy
            timeouts.append(.schedule(.autoComplete, dueAt: confirmBy))
            event(.shipped, "Shipped with \(carrier), tracking number \(trackingNumber).")

        case .addTracking(let tracking):
            try requireActor { isSeller($0) || isStaff($0) }
            try require(.shipped, .completed)
            guard (next.shipment?.events.count ?? 0) < 100 else { throw .trackingLimitReached }
            next.shipment?.events.append(tracking)
            event(.tracking, "\(tracking.location): \(tracking.description)")

        case .confirmReceipt:
            try requireActor(isBuyer)
            try require(.shipped)
            guard !order.escrowFrozen else { throw .escrowFrozen }
            money += release(order, split, position)
            next.status = .completed
            next.completedAt = now
            next.refundRequest = nil
            timeouts.append(.cancel(.autoComplete))
            event(.receiptConfirmed, "The buyer confirmed receipt. \(Money.format(split.sellerNetMinor, order.currency)) was released to the seller.")

        case .autoComplete:
            try requireActor(isSystem)
            try require(.shipped)
            guard let confirmBy = order.confirmBy, now >= confirmBy else { throw .confirmationNotDue }
            guard order.refundRequest == nil else { throw .refundRequested }
            guard !order.escrowFrozen else { throw .escrowFrozen }
            money += release(order, split, position)
            next.status = .completed
            next.completedAt = now
            event(.autoCompleted, "The confirmation period ended, so the order completed and \(Money.format(split.sellerNetMinor, order.currency)) was released to the seller.")

        case .extendConfirmation(let days):
            try requireActor(isSeller)
            try require(.shipped)
            guard !order.confirmationExtended else { throw .extensionAlreadyUsed }
            guard (1...settings.maximumExtensionDays).contains(days), let confirmBy = order.confirmBy else {
                throw .illegalTransition(action: "extended by \(days) days (1 to \(settings.maximumExtensionDays) allowed)", status: order.status)
            }
            let extended = confirmBy.addingTimeInterval(Double(days) * 86_400)
            next.confirmBy = extended
            next.confirmationExtended = true
            timeouts.append(.schedule(.autoComplete, dueAt: extended))
            event(.confirmationExtended, "The seller extended the confirmation period by \(days) day\(days == 1 ? "" : "s").")

        case .cancel(let reason):
            try requireActor { isBuyer($0) || isSeller($0) || isStaff($0) }
            try require(.created, .paid)
            if order.status == .paid {
                money += holds(order, split).map { voiding($0) }
                next.refundedMinor = order.totalMinor
            }
            next.status = .cancelled
            next.closedAt = now
            timeouts.append(.cancel(.expireUnpaid))
            let who = isBuyer(actor) ? "the buyer" : isSeller(actor) ? "the seller" : "a moderator"
            let suffix = order.status == .paid ? " The payment was returned to the buyer in full." : ""
            event(.cancelled, "Cancelled by \(who)\(reason.map { ": \($0)" } ?? "").\(suffix)")

        case .expire:
            try requireActor(isSystem)
            try require(.created)
            guard now >= order.payBy else { throw .illegalTransition(action: "expired before its payment window ends", status: order.status) }
            next.status = .cancelled
            next.closedAt = now
            event(.expired, "Not paid in time, so the order was cancelled.")

        case .requestRefund(let requested, let reason):
            let amount = requested ?? order.totalMinor
            try requireActor(isBuyer)
            try require(.shipped, .completed)
            if order.status == .completed, let deadline = order.returnDeadline, now > deadline { throw .refundWindowClosed }
            guard (1...order.totalMinor).contains(amount) else { throw .refundAmountInvalid(maximumMinor: order.totalMinor) }
            next.refundRequest = RefundRequest(amountMinor: amount, reason: reason, requestedAt: now)
            event(.refundRequested, "The buyer asked for a refund of \(Money.format(amount, order.currency)): \(reason)")

        case .refund(let requested, let reason):
            let amount = requested ?? order.refundRequest?.amountMinor ?? order.totalMinor
            try requireActor { isSeller($0) || isStaff($0) }
            try require(.shipped, .completed)
            guard !order.escrowFrozen else { throw .escrowFrozen }
            guard (1...order.totalMinor).contains(amount) else { throw .refundAmountInvalid(maximumMinor: order.totalMinor) }
            if order.status == .shipped {
                // Still in escrow: return the holds, then settle what the seller keeps.
                money += holds(order, split).map { voiding($0) }
                if amount < order.totalMinor {
                    let kept = FeeSplit(totalMinor: order.totalMinor - amount, feeBasisPoints: order.feeBasisPoints, fundShareBasisPoints: order.fundShareBasisPoints)
                    money += holds(order, kept, stage: "settle").map { settlement in
                        MoneyMovement(debit: settlement.debit, credit: settlement.credit, amountMinor: settlement.amountMinor, mode: .posted, purpose: settlement.purpose, reference: settlement.reference)
                    }
                }
                timeouts.append(.cancel(.autoComplete))
            } else {
                guard let deadline = order.returnDeadline, now <= deadline else { throw .refundWindowClosed }
                money += refundAfterCompletion(order, amount: amount, position)
            }
            next.status = .refunded
            next.refundedMinor = amount
            next.refundRequest = nil
            next.closedAt = now
            let kind = amount == order.totalMinor ? "in full" : "in part (\(Money.format(amount, order.currency)))"
            event(.refunded, "Refunded \(kind) to the buyer\(reason.map { ": \($0)" } ?? "").")
        }
        return EscrowTransition(order: next, money: money, timeouts: timeouts)
    }

    /// The escrow holds of a payment: the seller's net, the platform fee and the fund's share,
    /// all reserved on the buyer's available balance. Zero amounts are left out.
    static func holds(_ order: Order, _ split: FeeSplit, stage: String = "hold") -> [MoneyMovement] {
        let buyer = AccountReference(.user(order.buyerID), .available)
        let parts: [(AccountReference, Int64, TransferPurpose, String)] = [
            (AccountReference(.user(order.sellerID), .available), split.sellerNetMinor, .escrowHold, "seller"),
            (.platform(.fees), split.platformFeeMinor, .platformFee, "fee"),
            (.platform(.guaranteeFund), split.fundContributionMinor, .guaranteeContribution, "fund"),
        ]
        return parts.filter { $0.1 > 0 }.map { credit, amount, purpose, part in
            MoneyMovement(debit: buyer, credit: credit, amountMinor: amount, mode: .pending, purpose: purpose, reference: "order:\(order.id):\(stage):\(part)")
        }
    }

    private static func voiding(_ hold: MoneyMovement) -> MoneyMovement {
        MoneyMovement(debit: hold.debit, credit: hold.credit, amountMinor: 0, mode: .voidPending(reference: hold.reference), purpose: hold.purpose, reference: hold.reference + ":void")
    }

    /// Posts the holds, then recovers what the seller owes the guarantee fund from the proceeds.
    private static func release(_ order: Order, _ split: FeeSplit, _ position: SellerPosition) -> [MoneyMovement] {
        var money = holds(order, split).map { hold in
            MoneyMovement(debit: hold.debit, credit: hold.credit, amountMinor: hold.amountMinor, mode: .postPending(reference: hold.reference), purpose: hold.purpose, reference: hold.reference + ":post")
        }
        let recoverable = min(position.debtMinor, position.availableMinor + split.sellerNetMinor)
        if recoverable > 0 {
            money += recovery(order, amount: recoverable, from: .available, stage: "sale")
        }
        return money
    }

    /// A refund after the money reached the seller: from the seller's balance; any shortfall is
    /// paid at once by the guarantee fund (先行赔付), becomes the seller's debt to the fund, and is
    /// recovered from the seller's deposit as far as it goes (the rest from later sales).
    private static func refundAfterCompletion(_ order: Order, amount: Int64, _ position: SellerPosition) -> [MoneyMovement] {
        let buyer = AccountReference(.user(order.buyerID), .available)
        let seller = AccountReference(.user(order.sellerID), .available)
        var money: [MoneyMovement] = []
        let fromSeller = min(amount, max(0, position.availableMinor))
        if fromSeller > 0 {
            money.append(MoneyMovement(debit: seller, credit: buyer, amountMinor: fromSeller, mode: .posted, purpose: .refund, reference: "order:\(order.id):refund:seller"))
        }
        let shortfall = amount - fromSeller
        if shortfall > 0 {
            money.append(MoneyMovement(debit: .platform(.guaranteeFund), credit: buyer, amountMinor: shortfall, mode: .posted, purpose: .guaranteePayout, reference: "order:\(order.id):refund:fund"))
            money.append(MoneyMovement(
                debit: AccountReference(.user(order.sellerID), .debt), credit: .platform(.guaranteeClaims), amountMinor: shortfall,
                mode: .posted, purpose: .guaranteeClaim, reference: "order:\(order.id):claim"
            ))
            let fromDeposit = min(shortfall, position.depositMinor)
            if fromDeposit > 0 {
                money += recovery(order, amount: fromDeposit, from: .deposit, stage: "deposit")
            }
        }
        return money
    }

    /// Moves `amount` from the seller's account of `kind` to the guarantee fund and reduces the
    /// seller's debt by the same amount.
    private static func recovery(_ order: Order, amount: Int64, from kind: LedgerAccountKind, stage: String) -> [MoneyMovement] {
        [
            MoneyMovement(
                debit: AccountReference(.user(order.sellerID), kind), credit: .platform(.guaranteeFund), amountMinor: amount,
                mode: .posted, purpose: .guaranteeRecovery, reference: "order:\(order.id):recovery:\(stage)"
            ),
            MoneyMovement(
                debit: .platform(.guaranteeClaims), credit: AccountReference(.user(order.sellerID), .debt), amountMinor: amount,
                mode: .posted, purpose: .guaranteeRecovery, reference: "order:\(order.id):recovery:\(stage):claim"
            ),
        ]
    }
}
