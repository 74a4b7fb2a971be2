/// Named failures of orders and escrow. Every illegal move is one of these, and changes nothing.
public enum EscrowError: DomainError, Equatable {
    case illegalTransition(action: String, status: OrderStatus)
    case notAllowed(action: String)
    case paymentWindowClosed
    case confirmationNotDue
    case extensionAlreadyUsed
    case refundWindowClosed
    case refundAmountInvalid(maximumMinor: Int64)
    case refundRequested
    case escrowFrozen
    case statementLimitExceeded(limitMinor: Int64)
    case sellerNotFound
    case buyerIsSeller
    case paymentDeclined(String)
    case trackingLimitReached

    public var kind: FailureKind {
        switch self {
        case .illegalTransition, .paymentWindowClosed, .confirmationNotDue, .extensionAlreadyUsed, .refundWindowClosed,
            .refundRequested, .escrowFrozen, .trackingLimitReached:
            .conflict
        case .notAllowed: .forbidden
        case .refundAmountInvalid, .buyerIsSeller: .invalidInput
        case .sellerNotFound: .notFound
        case .statementLimitExceeded, .paymentDeclined: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .illegalTransition: "illegal-transition"
        case .notAllowed: "forbidden"
        case .paymentWindowClosed: "payment-window-closed"
        case .confirmationNotDue: "confirmation-not-due"
        case .extensionAlreadyUsed: "extension-already-used"
        case .refundWindowClosed: "refund-window-closed"
        case .refundAmountInvalid: "validation-failed"
        case .refundRequested: "refund-requested"
        case .escrowFrozen: "escrow-frozen"
        case .statementLimitExceeded: "statement-limit-exceeded"
        case .sellerNotFound: "seller-not-found"
        case .buyerIsSeller: "validation-failed"
        case .paymentDeclined: "payment-declined"
        case .trackingLimitReached: "tracking-limit-reached"
        }
    }

    public var title: String {
        switch self {
        case .illegalTransition: "Not possible in this order state"
        case .notAllowed: "Not allowed"
        case .paymentWindowClosed: "Payment window closed"
        case .confirmationNotDue: "Confirmation period not over"
        case .extensionAlreadyUsed: "Already extended"
        case .refundWindowClosed: "Return window closed"
        case .refundAmountInvalid, .buyerIsSeller: "Some fields are invalid"
        case .refundRequested: "Refund requested"
        case .escrowFrozen: "Escrow frozen"
        case .statementLimitExceeded: "Too large for the monthly statement"
        case .sellerNotFound: "No such seller"
        case .paymentDeclined: "Payment declined"
        case .trackingLimitReached: "Too many tracking events"
        }
    }

    public var detail: String {
        switch self {
        case .illegalTransition(let action, let status):
            "An order that is \(status.rawValue) cannot be \(action)."
        case .notAllowed(let action):
            "Only the party this belongs to can \(action) this order."
        case .paymentWindowClosed:
            "The time to pay for this order has passed; it is cancelled."
        case .confirmationNotDue:
            "The confirmation period of this order is not over yet."
        case .extensionAlreadyUsed:
            "The confirmation period of an order can be extended only once."
        case .refundWindowClosed:
            "The return window of this order has closed."
        case .refundAmountInvalid(let maximum):
            "The refund must be a positive amount of at most \(maximum) minor units."
        case .refundRequested:
            "The buyer asked for a refund, so the order does not complete on its own."
        case .escrowFrozen:
            "The escrow of this order is frozen while a dispute is settled."
        case .statementLimitExceeded(let limit):
            "Only purchases of at most \(limit) minor units can go on the monthly statement."
        case .sellerNotFound:
            "There is no seller with this id."
        case .buyerIsSeller:
            "A buyer cannot order from themself."
        case .paymentDeclined(let reason):
            "The payment was declined: \(reason). Nothing was charged; try another card."
        case .trackingLimitReached:
            "An order keeps at most 100 tracking events."
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
