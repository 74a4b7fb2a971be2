/// Named failures of orders and escrow. Every illegal move is one of these, and changes nothing.
/// Bad input is a `ValidationError`, never one of these.
public enum EscrowError: DomainError, Equatable {
    /// The order's state does not allow this kind of action.
    case illegalTransition(OrderActionKind, status: OrderStatus)
    /// The caller has no part in this kind of action.
    case notAllowed(OrderActionKind)
    case paymentWindowClosed
    /// An unpaid order cannot expire before its payment window ends.
    case paymentWindowOpen
    case confirmationNotDue
    case extensionAlreadyUsed
    case refundWindowClosed
    case refundAmountInvalid(maximumMinor: Int64)
    case refundRequested
    case escrowFrozen
    case statementLimitExceeded(limitMinor: Int64)
    case statementCreditLimitReached(limitMinor: Int64, owedMinor: Int64)
    /// A refund the seller makes after completion must come out of their balance and deposit.
    case sellerCannotCoverRefund(coverableMinor: Int64, neededMinor: Int64)
    case sellerNotFound
    case buyerIsSeller
    case paymentDeclined(String)
    case trackingLimitReached
    /// Only an open dispute's outcome can settle an order this way.
    case noDisputeOpen
    /// The order's dispute was settled; it cannot be disputed again.
    case alreadyDisputed

    public var kind: FailureKind {
        switch self {
        case .illegalTransition, .paymentWindowClosed, .paymentWindowOpen, .confirmationNotDue, .extensionAlreadyUsed, .refundWindowClosed,
            .refundRequested, .escrowFrozen, .trackingLimitReached, .noDisputeOpen, .alreadyDisputed:
            .conflict
        case .notAllowed: .forbidden
        case .refundAmountInvalid, .buyerIsSeller: .unprocessable
        case .sellerNotFound: .notFound
        case .statementLimitExceeded, .statementCreditLimitReached, .sellerCannotCoverRefund, .paymentDeclined: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .illegalTransition: "illegal-transition"
        case .notAllowed: "not-your-part"
        case .paymentWindowClosed: "payment-window-closed"
        case .paymentWindowOpen: "payment-window-open"
        case .confirmationNotDue: "confirmation-not-due"
        case .extensionAlreadyUsed: "extension-already-used"
        case .refundWindowClosed: "refund-window-closed"
        case .refundAmountInvalid: "rule-not-met"
        case .refundRequested: "refund-requested"
        case .escrowFrozen: "escrow-frozen"
        case .statementLimitExceeded: "statement-limit-exceeded"
        case .statementCreditLimitReached: "statement-credit-limit-reached"
        case .sellerCannotCoverRefund: "refund-not-covered"
        case .sellerNotFound: "seller-not-found"
        case .buyerIsSeller: "rule-not-met"
        case .paymentDeclined: "payment-declined"
        case .trackingLimitReached: "tracking-limit-reached"
        case .noDisputeOpen: "no-dispute-open"
        case .alreadyDisputed: "already-disputed"
        }
    }

    public var title: String {
        switch self {
        case .illegalTransition: "Not possible in this order state"
        case .notAllowed: "Not your part of the order"
        case .paymentWindowClosed: "Payment window closed"
        case .paymentWindowOpen: "Payment window still open"
        case .confirmationNotDue: "Confirmation period not over"
        case .extensionAlreadyUsed: "Already extended"
        case .refundWindowClosed: "Return window closed"
        case .refundAmountInvalid, .buyerIsSeller: RuleNotMet.title
        case .refundRequested: "Refund requested"
        case .escrowFrozen: "Escrow frozen"
        case .statementLimitExceeded: "Too large for the monthly statement"
        case .statementCreditLimitReached: "Statement credit limit reached"
        case .sellerCannotCoverRefund: "Refund not covered"
        case .sellerNotFound: "No such seller"
        case .paymentDeclined: "Payment declined"
        case .trackingLimitReached: "Too many tracking events"
        case .noDisputeOpen: "No dispute open"
        case .alreadyDisputed: "Already disputed"
        }
    }

    public var detail: String {
        switch self {
        case .illegalTransition(let action, let status):
            "An order that is \(status.rawValue) cannot be \(action.pastParticiple)."
        case .notAllowed(let action):
            "Only \(action.allowedActors) can \(action.infinitive) this order."
        case .paymentWindowClosed:
            "The time to pay for this order has passed; it is cancelled."
        case .paymentWindowOpen:
            "The buyer can still pay for this order."
        case .confirmationNotDue:
            "The confirmation period of this order is not over yet."
        case .extensionAlreadyUsed:
            "The confirmation period of an order can be extended only once."
        case .refundWindowClosed:
            "The return window of this order has closed."
        case .refundAmountInvalid(let maximum):
            maximum > 0
                ? "The refund must be a positive amount of at most \(maximum) minor units."
                : "Nothing of this order can be refunded any more."
        case .refundRequested:
            "The buyer asked for a refund, so the order does not complete on its own."
        case .escrowFrozen:
            "The escrow of this order is frozen while a dispute is settled."
        case .statementLimitExceeded(let limit):
            "Only purchases of at most \(limit) minor units can go on the monthly statement."
        case .statementCreditLimitReached(let limit, let owed):
            "Unpaid statements may total at most \(limit) minor units; \(owed) are owed already. Pay by card or from your balance."
        case .sellerCannotCoverRefund(let coverable, let needed):
            "This refund needs \(needed) minor units from the seller (the fee on it is returned by the platform), but the seller's balance and deposit cover only \(coverable). Add money to your balance, or ask a moderator to decide."
        case .sellerNotFound:
            "There is no seller with this id."
        case .buyerIsSeller:
            "A buyer cannot order from themself."
        case .paymentDeclined(let reason):
            "The payment was declined: \(reason). Nothing was charged; try another card."
        case .trackingLimitReached:
            "An order keeps at most \(Shipment.maximumEvents) tracking events."
        case .noDisputeOpen:
            "This order has no open dispute to settle."
        case .alreadyDisputed:
            "This order's dispute was already settled; an order is disputed once."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .refundAmountInvalid: [FieldError(field: "amountMinor", message: detail)]
        case .buyerIsSeller: [FieldError(field: "sellerId", message: detail)]
        default: []
        }
    }
}
