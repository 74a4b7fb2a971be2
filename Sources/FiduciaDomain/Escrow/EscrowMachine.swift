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
    /// What a buyer may owe on unpaid statements at most, in minor units of the currency: the
    /// statement is credit, and credit has a limit.
    public var statementCreditLimitMinor: Int64 = 5_000
    /// A staff refund or cancellation of more than this many major units needs a second staff
    /// member's approval (maker–checker).
    public var secondApprovalAboveMajor: Int64 = 500

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

    public var userID: UserID? {
        switch self {
        case .buyer(let id), .seller(let id), .staff(let id): id
        case .system: nil
        }
    }

    var name: String {
        switch self {
        case .buyer: "the buyer"
        case .seller: "the seller"
        case .staff: "a moderator"
        case .system: "Fiducia"
        }
    }
}

/// The kinds of action, without their arguments: what `allowedActions` lists and errors name.
public enum OrderActionKind: String, Sendable, CaseIterable, Codable {
    case pay, ship, addTracking, confirmReceipt, autoComplete, extendConfirmation, cancel, expire, requestRefund, refund
    /// The buyer opens a dispute: the money stays where it is until the dispute is settled.
    case openDispute
    /// A dispute's outcome moves the money (a ruling, an agreement, a deadline).
    case settleDispute

    /// The verb in sentences ("An order that is paid cannot be shipped").
    public var pastParticiple: String {
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
        case .openDispute: "disputed"
        case .settleDispute: "settled as a dispute"
        }
    }

    /// The action in "Only … can <infinitive> this order".
    public var infinitive: String {
        switch self {
        case .pay: "pay for"
        case .ship: "ship"
        case .addTracking: "add tracking events to"
        case .confirmReceipt: "confirm receipt of"
        case .autoComplete: "complete"
        case .extendConfirmation: "extend the confirmation period of"
        case .cancel: "cancel"
        case .expire: "expire"
        case .requestRefund: "ask for a refund on"
        case .refund: "refund"
        case .openDispute: "open a dispute on"
        case .settleDispute: "settle a dispute on"
        }
    }

    /// Who may take this kind of action at all.
    public var allowedActors: String {
        switch self {
        case .pay, .confirmReceipt, .requestRefund, .openDispute: "the buyer"
        case .ship, .extendConfirmation: "the seller"
        case .addTracking: "the seller or a moderator"
        case .autoComplete, .expire: "Fiducia itself"
        case .cancel: "the buyer, the seller or a moderator"
        case .refund: "the seller or a moderator"
        case .settleDispute: "a moderator's ruling or the dispute's own outcome"
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
    /// The amount defaults to everything that can still be returned.
    case requestRefund(amountMinor: Int64?, reason: String)
    /// The amount defaults to what the buyer asked for, else everything that can still be returned.
    case refund(amountMinor: Int64?, reason: String?)
    case openDispute
    /// Ends a dispute's freeze. Refunds `refundMinor` to the buyer (after completion, from the
    /// seller); while the money is held, a refund or `release` releases the rest to the seller and
    /// ends the order, while an outcome with neither (withdrawn, the buyer silent) lets the order
    /// go on where it paused.
    /// `fundCovers`: after completion, whether the guarantee fund pays what the seller cannot:
    /// only for an outcome decided against the seller (a ruling, their default), never for one
    /// they agreed to, which is their own refund and must be covered by their balance and deposit.
    case settleDispute(refundMinor: Int64, release: Bool, reason: String, fundCovers: Bool)

    public var kind: OrderActionKind {
        switch self {
        case .pay: .pay
        case .ship: .ship
        case .addTracking: .addTracking
        case .confirmReceipt: .confirmReceipt
        case .autoComplete: .autoComplete
        case .extendConfirmation: .extendConfirmation
        case .cancel: .cancel
        case .expire: .expire
        case .requestRefund: .requestRefund
        case .refund: .refund
        case .openDispute: .openDispute
        case .settleDispute: .settleDispute
        }
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

/// Work outside the ledger that a transition asks for, done in the same transaction (statement
/// rows) or through a durable job (the payment provider).
public enum EscrowEffect: Sendable, Equatable {
    /// Add a purchase to the buyer's open statement.
    case addToStatement(StatementID, amountMinor: Int64)
    /// Take (part of) a cancelled or refunded purchase off the statement it is on.
    case reduceStatement(StatementID, amountMinor: Int64, removesPurchase: Bool)
    /// Return money to the card that paid. The ledger holds it on the buyer's balance
    /// (`holdReference`) until the provider confirms; if the provider refuses, the hold is voided
    /// and the money stays on the buyer's balance.
    case refundCard(chargeID: String, amountMinor: Int64, holdReference: String)
}

/// The outcome of a legal action: the new order, the money to move, the timeouts to change and
/// the other effects to carry out.
public struct EscrowTransition: Sendable, Equatable {
    public var order: Order
    public var money: [MoneyMovement]
    public var timeouts: [EscrowTimeout]
    public var effects: [EscrowEffect]
}

/// What the ledger says about a seller: needed when a release repays the guarantee fund, and when
/// a refund after completion comes out of the seller's money.
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

/// Everything outside the order that the machine's decisions depend on, read from the ledger in
/// the same transaction.
public struct EscrowPositions: Sendable, Equatable {
    public var seller: SellerPosition
    /// What the buyer owes on unpaid statements in the order's currency.
    public var buyerStatementOwedMinor: Int64
    /// Whether the statement that paid this order is still unpaid (so that a refund can take the
    /// purchase off it instead of crediting the buyer's balance).
    public var paymentStatementOpen: Bool

    public init(seller: SellerPosition = SellerPosition(), buyerStatementOwedMinor: Int64 = 0, paymentStatementOpen: Bool = false) {
        self.seller = seller
        self.buyerStatementOwedMinor = buyerStatementOwedMinor
        self.paymentStatementOpen = paymentStatementOpen
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
/// new order and the money, timeouts and effects to change, or a named error and nothing else.
///
/// ```
/// created ──pay──▶ paid ──ship──▶ shipped ──confirmReceipt / autoComplete──▶ completed
///    │               │  ╲            │  ╲                                         │
///    │cancel/expire  │   refund part  │   refund part (the rest stays held)      │refund within
///    ▼               ▼   (stays paid) ▼   (stays shipped)                         ▼ the return window
/// cancelled   cancelled/refunded   refunded (all that was held)                refunded
/// ```
///
/// Who may move escrow money, and when, is written in docs/ESCROW.md; `check` is where it is
/// enforced, and `allowedActions` (which pages and jobs use) is derived from it.
public enum EscrowMachine {
    /// The actions `actor` may take on `order` at `now`: the buttons a page shows, the jobs that
    /// still have work. `apply` accepts exactly these (and then checks the action's arguments).
    public static func allowedActions(order: Order, actor: EscrowActor, now: Date) -> [OrderActionKind] {
        OrderActionKind.allCases.filter { kind in
            do {
                try check(kind, order: order, actor: actor, now: now)
                return true
            } catch {
                return false
            }
        }
    }

    /// Whether `actor` may take an action of `kind` on `order` now: the actor's part first, then
    /// the order's state and time. Throws the precise reason when not.
    public static func check(_ kind: OrderActionKind, order: Order, actor: EscrowActor, now: Date) throws(EscrowError) {
        let isBuyer = actor == .buyer(order.buyerID)
        let isSeller = actor == .seller(order.sellerID)
        let isStaff = if case .staff = actor { true } else { false }
        let isSystem = actor == .system
        let mayAct: Bool =
            switch kind {
            case .pay, .confirmReceipt, .requestRefund, .openDispute: isBuyer
            case .ship, .extendConfirmation: isSeller
            case .addTracking, .refund: isSeller || isStaff
            case .autoComplete, .expire: isSystem
            case .cancel: isBuyer || isSeller || isStaff
            case .settleDispute: isStaff || isSystem
            }
        guard mayAct else { throw .notAllowed(kind) }

        func require(_ statuses: OrderStatus...) throws(EscrowError) {
            guard statuses.contains(order.status) else { throw .illegalTransition(kind, status: order.status) }
        }
        let withinReturnWindow = order.returnDeadline.map { now <= $0 } ?? false
        switch kind {
        case .pay:
            try require(.created)
            guard now < order.payBy else { throw .paymentWindowClosed }
        case .ship:
            try require(.paid)
        case .addTracking:
            try require(.shipped, .completed)
        case .confirmReceipt:
            try require(.shipped)
            guard !order.escrowFrozen else { throw .escrowFrozen }
        case .autoComplete:
            try require(.shipped)
            guard let confirmBy = order.confirmBy, now >= confirmBy else { throw .confirmationNotDue }
            guard order.refundRequest == nil else { throw .refundRequested }
            guard !order.escrowFrozen else { throw .escrowFrozen }
        case .extendConfirmation:
            try require(.shipped)
            guard !order.confirmationExtended else { throw .extensionAlreadyUsed }
        case .cancel:
            try require(.created, .paid)
            guard !order.escrowFrozen else { throw .escrowFrozen }
        case .expire:
            try require(.created)
            guard now >= order.payBy else { throw .paymentWindowOpen }
        case .requestRefund:
            try require(.shipped, .completed)
            guard !order.escrowFrozen else { throw .escrowFrozen }
            if order.status == .completed, !withinReturnWindow { throw .refundWindowClosed }
        case .openDispute:
            try require(.paid, .shipped, .completed)
            guard !order.escrowFrozen else { throw .escrowFrozen }
            // A dispute settles the order for good: there is no second one.
            guard !order.timeline.contains(where: { $0.kind == .disputeResolved }) else { throw .alreadyDisputed }
            if order.status == .completed {
                let genuineClaimEnds = order.completedAt?.addingTimeInterval(Double(AfterSalesPolicy.genuineGoodsClaimDays) * 86_400)
                let withinGenuine = order.policy.genuineGoodsGuarantee && genuineClaimEnds.map { now <= $0 } == true
                guard withinReturnWindow || withinGenuine else { throw .refundWindowClosed }
                guard order.refundableMinor > 0 else { throw .refundAmountInvalid(maximumMinor: 0) }
            }
        case .settleDispute:
            try require(.paid, .shipped, .completed)
            guard order.escrowFrozen else { throw .noDisputeOpen }
        case .refund:
            try require(.paid, .shipped, .completed)
            guard !order.escrowFrozen else { throw .escrowFrozen }
            if order.status == .completed, !withinReturnWindow { throw .refundWindowClosed }
        }
    }

    public static func apply(
        _ action: OrderAction,
        to order: Order,
        by actor: EscrowActor,
        at now: Date,
        settings: EscrowSettings,
        positions: EscrowPositions = EscrowPositions()
    ) throws -> EscrowTransition {
        try check(action.kind, order: order, actor: actor, now: now)
        var transition = EscrowTransition(order: order, money: [], timeouts: [], effects: [])
        func event(_ kind: OrderEvent.Kind, _ detail: String) {
            transition.order.timeline.append(OrderEvent(at: now, kind: kind, actor: actor.userID, detail: detail))
        }
        let isStaff = if case .staff = actor { true } else { false }

        switch action {
        case .pay(let method):
            let buyer = AccountReference.user(order.buyerID, .available)
            switch method {
            case .card(_, let chargeID):
                transition.order.paymentReference = chargeID
                transition.money.append(MoneyMovement(
                    debit: .platform(.external), credit: buyer, amountMinor: order.totalMinor, mode: .posted,
                    purpose: .cardPayment, reference: "order:\(order.id):card"
                ))
            case .statement(let statementID):
                guard let statementID else { preconditionFailure("the service opens the statement before paying on it") }
                guard order.totalMinor <= settings.microPaymentLimitMinor else {
                    throw EscrowError.statementLimitExceeded(limitMinor: settings.microPaymentLimitMinor)
                }
                guard let owed = positions.buyerStatementOwedMinor.addingChecked(order.totalMinor), owed <= settings.statementCreditLimitMinor else {
                    throw EscrowError.statementCreditLimitReached(limitMinor: settings.statementCreditLimitMinor, owedMinor: positions.buyerStatementOwedMinor)
                }
                transition.order.paymentReference = statementID.rawValue
                transition.money.append(MoneyMovement(
                    debit: .user(order.buyerID, .statement), credit: buyer, amountMinor: order.totalMinor,
                    mode: .posted, purpose: .statementCharge, reference: "order:\(order.id):statement"
                ))
                transition.effects.append(.addToStatement(statementID, amountMinor: order.totalMinor))
            case .balance:
                break
            }
            transition.order.status = .paid
            transition.order.paidAt = now
            transition.order.paymentMethod = method.name
            transition.money += holds(of: transition.order)
            transition.timeouts.append(.cancel(.expireUnpaid))
            event(.paid, "Paid \(order.money) by \(method.name). The money is held in escrow.")

        case .ship(let carrier, let trackingNumber):
            let carrier = carrier.trimmingWhitespace()
            let trackingNumber = trackingNumber.trimmingWhitespace()
            var validator = Validator()
            validator.check(Shipment.fieldLength.contains(carrier.codePointCount), field: "carrier", "Name the carrier (1 to 80 characters).")
            validator.check(Shipment.fieldLength.contains(trackingNumber.codePointCount), field: "trackingNumber", "Give the tracking number (1 to 80 characters).")
            try validator.throwIfInvalid()
            transition.order.status = .shipped
            transition.order.shippedAt = now
            transition.order.shipment = Shipment(carrier: carrier, trackingNumber: trackingNumber)
            let confirmBy = now.addingTimeInterval(settings.autoCompleteSeconds)
            transition.order.confirmBy = confirmBy
            transition.timeouts.append(.schedule(.autoComplete, dueAt: confirmBy))
            event(.shipped, "Shipped with \(carrier), tracking number \(trackingNumber).")

        case .addTracking(let tracking):
            let tracking = try tracking.validated()
            guard (order.shipment?.events.count ?? 0) < Shipment.maximumEvents else { throw EscrowError.trackingLimitReached }
            transition.order.shipment?.events.append(tracking)
            event(.tracking, "\(tracking.location): \(tracking.description)")

        case .confirmReceipt, .autoComplete:
            let released = order.heldMinor
            transition.money += release(order, positions.seller)
            transition.order.status = .completed
            transition.order.completedAt = now
            transition.order.refundRequest = nil
            let net = Money.format(split(order, released).sellerNetMinor, order.currency)
            if action == .confirmReceipt {
                transition.timeouts.append(.cancel(.autoComplete))
                event(.receiptConfirmed, "The buyer confirmed receipt. \(net) was released to the seller.")
            } else {
                event(.autoCompleted, "The confirmation period ended, so the order completed and \(net) was released to the seller.")
            }

        case .extendConfirmation(let days):
            guard (1...settings.maximumExtensionDays).contains(days) else {
                throw ValidationError(field: "days", "The confirmation period can be extended by 1 to \(settings.maximumExtensionDays) days.")
            }
            let extended = (order.confirmBy ?? now).addingTimeInterval(Double(days) * 86_400)
            transition.order.confirmBy = extended
            transition.order.confirmationExtended = true
            transition.timeouts.append(.schedule(.autoComplete, dueAt: extended))
            event(.confirmationExtended, "The seller extended the confirmation period by \(days) day\(days == 1 ? "" : "s").")

        case .cancel(let reason):
            let reason = try validatedReason(reason, required: isStaff)
            let held = order.heldMinor
            if held > 0 {
                transition.money += holds(of: order).map(MoneyMovement.void)
                try returnToSource(held, of: order, positions: positions, into: &transition)
                transition.order.refundedMinor += held
                transition.order.refundCount += 1
            }
            transition.order.status = .cancelled
            transition.order.closedAt = now
            transition.timeouts.append(.cancel(.expireUnpaid))
            let suffix = held > 0 ? " \(Money.format(held, order.currency)) was returned to the buyer." : ""
            event(.cancelled, "Cancelled by \(actor.name)\(reason.map { ": \($0)" } ?? "").\(suffix)")

        case .expire:
            transition.order.status = .cancelled
            transition.order.closedAt = now
            event(.expired, "Not paid in time, so the order was cancelled.")

        case .requestRefund(let requested, let reason):
            let refundable = order.refundableMinor
            let amount = requested ?? refundable
            guard (1...max(1, refundable)).contains(amount), refundable > 0 else { throw EscrowError.refundAmountInvalid(maximumMinor: refundable) }
            guard let reason = try validatedReason(reason, required: true) else { preconditionFailure("a required reason is returned") }
            // The request pauses automatic completion from now; when the seller answers it, the
            // time that was left resumes (see `refund`).
            transition.order.refundRequest = RefundRequest(amountMinor: amount, reason: reason, requestedAt: order.refundRequest?.requestedAt ?? now)
            event(.refundRequested, "The buyer asked for a refund of \(Money.format(amount, order.currency)): \(reason)")

        case .refund(let requested, let reason):
            let reason = try validatedReason(reason, required: isStaff)
            let refundable = order.refundableMinor
            let amount = requested ?? min(order.refundRequest?.amountMinor ?? refundable, refundable)
            guard (1...max(1, refundable)).contains(amount), refundable > 0 else { throw EscrowError.refundAmountInvalid(maximumMinor: refundable) }
            let number = order.refundCount + 1
            if order.status.holdsEscrow {
                // The money is still held: the seller (or a moderator) gives part of it back. The
                // holds are replaced by smaller ones for the rest, which stays held until the buyer
                // confirms receipt or the confirmation period ends; nothing reaches the seller now.
                transition.money += holds(of: order).map(MoneyMovement.void)
                transition.order.refundCount = number
                transition.order.refundedMinor += amount
                if amount < refundable {
                    transition.money += holds(of: transition.order)
                } else {
                    transition.order.status = .refunded
                    transition.order.closedAt = now
                    transition.timeouts.append(.cancel(.autoComplete))
                    transition.timeouts.append(.cancel(.expireUnpaid))
                }
                try returnToSource(amount, of: order, number: number, positions: positions, into: &transition)
                if transition.order.status == .shipped, let request = order.refundRequest, let confirmBy = order.confirmBy {
                    // The request is answered: the confirmation period resumes where it paused.
                    let resumed = confirmBy.addingTimeInterval(max(0, now.timeIntervalSince(request.requestedAt)))
                    transition.order.confirmBy = resumed
                    transition.timeouts.append(.schedule(.autoComplete, dueAt: resumed))
                }
            } else {
                // After completion the money is the seller's: a refund comes out of it.
                transition.money += try refundAfterCompletion(order, amount: amount, number: number, seller: positions.seller, byStaff: isStaff)
                transition.order.status = .refunded
                transition.order.refundCount = number
                transition.order.refundedMinor += amount
                transition.order.closedAt = now
                try returnToSource(amount, of: order, number: number, positions: positions, into: &transition)
            }
            transition.order.refundRequest = nil
            let part = transition.order.status == .refunded && transition.order.refundedMinor == order.totalMinor
                ? "in full" : "\(Money.format(amount, order.currency))"
            let rest = transition.order.status.holdsEscrow ? " The rest, \(Money.format(transition.order.heldMinor, order.currency)), stays held." : ""
            event(
                transition.order.status == .refunded ? .refunded : .partlyRefunded,
                "Refunded \(part) to the buyer by \(actor.name)\(reason.map { ": \($0)" } ?? "").\(rest)"
            )

        case .openDispute:
            // A refund request stays as it was (it pauses auto-completion too) until the dispute ends.
            transition.order.escrowFrozen = true
            event(.disputeOpened, order.status.holdsEscrow
                ? "The buyer opened a dispute: the payment stays in escrow until it is settled."
                : "The buyer opened a dispute after completion.")

        case .settleDispute(let refund, let release, let reason, let fundCovers):
            transition.order.escrowFrozen = false
            transition.order.refundRequest = nil
            let resumes = order.status.holdsEscrow && refund == 0 && !release
            if resumes {
                // Nothing decided about the money: the order goes on where the dispute paused it,
                // with the confirmation time that was left when it paused.
                if order.status == .shipped, let confirmBy = order.confirmBy {
                    let pausedAt = order.refundRequest?.requestedAt ?? order.timeline.last(where: { $0.kind == .disputeOpened })?.at ?? now
                    let resumed = confirmBy.addingTimeInterval(max(0, now.timeIntervalSince(pausedAt)))
                    transition.order.confirmBy = resumed
                    transition.timeouts.append(.schedule(.autoComplete, dueAt: resumed))
                }
            } else {
                try settleDispute(order, refund: refund, fundCovers: fundCovers, positions: positions, at: now, into: &transition)
            }
            let outcome =
                resumes ? "the order goes on as before"
                : refund == 0 ? "nothing was refunded" : "\(Money.format(refund, order.currency)) was refunded to the buyer"
            let rest = order.status.holdsEscrow && !resumes && refund < order.heldMinor ? " and the rest released to the seller" : ""
            event(.disputeResolved, "The dispute was settled (\(reason)): \(outcome)\(rest).")
        }
        return transition
    }

    /// A dispute's outcome on the order: `refund` back to the buyer's source; while the money is
    /// held, the rest released to the seller; after completion, out of the seller's balance and
    /// deposit, and (only when `fundCovers`) the fund pays the rest, which the seller then owes.
    private static func settleDispute(_ order: Order, refund: Int64, fundCovers: Bool, positions: EscrowPositions, at now: Date, into transition: inout EscrowTransition) throws(EscrowError) {
        guard (0...order.refundableMinor).contains(refund) else { throw .refundAmountInvalid(maximumMinor: order.refundableMinor) }
        let number = order.refundCount + 1
        if order.status.holdsEscrow {
            let held = order.heldMinor
            if refund == 0 {
                transition.money += release(order, positions.seller)
            } else {
                transition.money += holds(of: order).map(MoneyMovement.void)
                var rest = order
                rest.refundCount = number
                rest.refundedMinor += refund
                if refund < held {
                    let newHolds = holds(of: rest)
                    transition.money += newHolds
                    transition.money += release(rest, positions.seller)
                }
                try returnToSource(refund, of: order, number: number, positions: positions, into: &transition)
                transition.order.refundCount = number
                transition.order.refundedMinor += refund
            }
            transition.timeouts.append(.cancel(.autoComplete))
            if refund == held {
                transition.order.status = .refunded
                transition.order.closedAt = now
            } else {
                transition.order.status = .completed
                transition.order.completedAt = now
            }
        } else if refund > 0 {
            transition.money += try refundAfterCompletion(order, amount: refund, number: number, seller: positions.seller, byStaff: fundCovers)
            try returnToSource(refund, of: order, number: number, positions: positions, into: &transition)
            transition.order.status = .refunded
            transition.order.refundCount = number
            transition.order.refundedMinor += refund
            transition.order.closedAt = now
        }
    }

    /// A reason is optional from the parties and required from staff, whose every action on
    /// someone else's money is recorded with why.
    private static func validatedReason(_ reason: String?, required: Bool) throws(ValidationError) -> String? {
        let text = reason?.trimmingWhitespace() ?? ""
        if text.isEmpty {
            if required { throw ValidationError(field: "reason", "Give a reason (1 to 500 characters).") }
            return nil
        }
        guard RefundRequest.reasonLength.contains(text.codePointCount) else { throw ValidationError(field: "reason", "The reason must be at most 500 characters.") }
        return text
    }

    static func split(_ order: Order, _ amount: Int64) -> FeeSplit {
        FeeSplit(totalMinor: amount, feeBasisPoints: order.feeBasisPoints, fundShareBasisPoints: order.fundShareBasisPoints)
    }

    /// The escrow holds of what the order holds now: the seller's net, the platform fee and the
    /// fund's share, all reserved on the buyer's available balance. Zero amounts are left out.
    /// Each partial refund makes a new generation of holds, with references of their own.
    public static func holds(of order: Order) -> [MoneyMovement] {
        let split = split(order, order.totalMinor - order.refundedMinor)
        let buyer = AccountReference.user(order.buyerID, .available)
        let stage = order.refundCount == 0 ? "hold" : "hold\(order.refundCount)"
        let parts: [(AccountReference, Int64, TransferPurpose, String)] = [
            (.user(order.sellerID, .available), split.sellerNetMinor, .escrowHold, "seller"),
            (.platform(.fees), split.platformFeeMinor, .platformFee, "fee"),
            (.platform(.guaranteeFund), split.fundContributionMinor, .guaranteeContribution, "fund"),
        ]
        return parts.filter { $0.1 > 0 }.map { credit, amount, purpose, part in
            MoneyMovement(debit: buyer, credit: credit, amountMinor: amount, mode: .pending, purpose: purpose, reference: "order:\(order.id):\(stage):\(part)")
        }
    }

    /// Posts the holds, then recovers what the seller owes the guarantee fund from the proceeds.
    private static func release(_ order: Order, _ seller: SellerPosition) -> [MoneyMovement] {
        var money = holds(of: order).map(MoneyMovement.post)
        let net = split(order, order.heldMinor).sellerNetMinor
        let recoverable = min(seller.debtMinor, max(0, seller.availableMinor) + net)
        if recoverable > 0 {
            money += recovery(order, amount: recoverable)
        }
        return money
    }

    /// A refund after the money reached the seller. As eBay and Amazon do, no fee is kept on money
    /// that goes back to the buyer: the fee and the fund's share of the refunded part return from
    /// the platform, and the seller pays their net share. That share must be covered by the seller's
    /// balance and then their deposit, or the refund is refused: the guarantee fund pays wronged
    /// buyers, not refunds a seller chooses to make with money they no longer have. When staff
    /// decide (a ruling), the fund pays at once what the seller cannot (先行赔付), and the rest
    /// becomes the seller's debt to the fund, repaid from later sales.
    private static func refundAfterCompletion(_ order: Order, amount: Int64, number: Int, seller: SellerPosition, byStaff: Bool) throws(EscrowError) -> [MoneyMovement] {
        let buyer = AccountReference.user(order.buyerID, .available)
        let prefix = "order:\(order.id):refund\(number)"
        let share = split(order, amount)
        let fromAvailable = min(share.sellerNetMinor, max(0, seller.availableMinor))
        let fromDeposit = min(share.sellerNetMinor - fromAvailable, max(0, seller.depositMinor))
        let shortfall = share.sellerNetMinor - fromAvailable - fromDeposit
        if shortfall > 0, !byStaff {
            throw .sellerCannotCoverRefund(coverableMinor: fromAvailable + fromDeposit, neededMinor: share.sellerNetMinor)
        }
        let parts: [(AccountReference, Int64, TransferPurpose, String)] = [
            (.user(order.sellerID, .available), fromAvailable, .refund, "seller"),
            (.user(order.sellerID, .deposit), fromDeposit, .refund, "deposit"),
            (.platform(.fees), share.platformFeeMinor, .feeReturned, "fee"),
            (.platform(.guaranteeFund), share.fundContributionMinor, .feeReturned, "fund-share"),
            (.platform(.guaranteeFund), shortfall, .guaranteePayout, "fund"),
        ]
        var money = parts.filter { $0.1 > 0 }.map { debit, amount, purpose, part in
            MoneyMovement(debit: debit, credit: buyer, amountMinor: amount, mode: .posted, purpose: purpose, reference: "\(prefix):\(part)")
        }
        if shortfall > 0 {
            money.append(MoneyMovement(
                debit: .user(order.sellerID, .debt), credit: .platform(.guaranteeClaims), amountMinor: shortfall,
                mode: .posted, purpose: .guaranteeClaim, reference: "\(prefix):claim"
            ))
        }
        return money
    }

    /// Money returns to where it came from: a card payment to the card (held on the buyer's balance
    /// until the provider confirms), a statement purchase off the statement while it is unpaid.
    /// Only a balance payment, or a statement already paid by card, stays on the buyer's balance:
    /// money that truly arrived.
    private static func returnToSource(_ amount: Int64, of order: Order, number: Int? = nil, positions: EscrowPositions, into transition: inout EscrowTransition) throws(EscrowError) {
        let buyer = AccountReference.user(order.buyerID, .available)
        let reference = "order:\(order.id):return\(number ?? order.refundCount + 1)"
        switch order.paymentKind {
        case .card:
            guard let chargeID = order.paymentReference else { return }
            transition.money.append(MoneyMovement(debit: buyer, credit: .platform(.external), amountMinor: amount, mode: .pending, purpose: .cardRefund, reference: "\(reference):card"))
            transition.effects.append(.refundCard(chargeID: chargeID, amountMinor: amount, holdReference: "\(reference):card"))
        case .statement:
            guard positions.paymentStatementOpen, let statement = order.paymentReference else { return }
            let reversed = min(amount, positions.buyerStatementOwedMinor)
            guard reversed > 0 else { return }
            transition.money.append(MoneyMovement(debit: buyer, credit: .user(order.buyerID, .statement), amountMinor: reversed, mode: .posted, purpose: .statementReversal, reference: "\(reference):statement"))
            transition.effects.append(.reduceStatement(StatementID(statement), amountMinor: reversed, removesPurchase: order.refundedMinor + amount == order.totalMinor))
        case .balance, nil:
            return
        }
    }

    /// Moves `amount` from the seller's balance to the guarantee fund and reduces the seller's
    /// debt by the same amount.
    private static func recovery(_ order: Order, amount: Int64) -> [MoneyMovement] {
        [
            MoneyMovement(
                debit: .user(order.sellerID, .available), credit: .platform(.guaranteeFund), amountMinor: amount,
                mode: .posted, purpose: .guaranteeRecovery, reference: "order:\(order.id):recovery"
            ),
            MoneyMovement(
                debit: .platform(.guaranteeClaims), credit: .user(order.sellerID, .debt), amountMinor: amount,
                mode: .posted, purpose: .guaranteeRecovery, reference: "order:\(order.id):recovery:claim"
            ),
        ]
    }
}
