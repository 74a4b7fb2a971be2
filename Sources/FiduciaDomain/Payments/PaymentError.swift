/// Named failures of deposits, payouts, saved cards and statements.
public enum PaymentError: DomainError, Equatable {
    case savedCardRequired
    case unknownCard
    case cardDeclined(String)
    case monthNotOver(String)
    /// Another charge for the same order or statement is in flight (or its outcome is being
    /// reconciled after a failure); a second one could charge twice.
    case paymentInProgress
    /// The provider did not answer; whether it charged is found out by reconciliation.
    case providerUnavailable
    /// A statement's total changed between asking for its charge and recording it.
    case statementChanged

    public var kind: FailureKind {
        switch self {
        case .savedCardRequired, .cardDeclined: .unprocessable
        case .unknownCard: .unprocessable
        case .monthNotOver, .paymentInProgress, .statementChanged: .conflict
        case .providerUnavailable: .unavailable
        }
    }

    public var code: String {
        switch self {
        case .savedCardRequired: "saved-card-required"
        case .unknownCard: "rule-not-met"
        case .cardDeclined: "payment-declined"
        case .monthNotOver: "month-not-over"
        case .paymentInProgress: "payment-in-progress"
        case .providerUnavailable: "payment-provider-unavailable"
        case .statementChanged: "statement-changed"
        }
    }

    public var title: String {
        switch self {
        case .savedCardRequired: "Saved card required"
        case .unknownCard: RuleNotMet.title
        case .cardDeclined: "Payment declined"
        case .monthNotOver: "Month not over"
        case .paymentInProgress: "Payment in progress"
        case .providerUnavailable: "Payment provider unavailable"
        case .statementChanged: "Statement changed"
        }
    }

    public var detail: String {
        switch self {
        case .savedCardRequired: "Save a card first: the monthly statement is charged to it when the month closes."
        case .unknownCard: "The payment provider does not know this card token."
        case .cardDeclined(let reason): "The payment was declined: \(reason). Nothing was charged; try another card."
        case .monthNotOver(let month): "Statements of \(month) can be closed once the month is over."
        case .paymentInProgress: "A payment for this is already being processed. If it does not complete, it is settled within a few minutes; then try again."
        case .providerUnavailable: "The payment provider did not answer. If it charged, the payment is applied (or refunded) within a few minutes; nothing is charged twice."
        case .statementChanged: "The statement changed while it was being charged; the charge is refunded and the statement is charged again at the next close."
        }
    }

    public var isTransient: Bool { self == .paymentInProgress || self == .providerUnavailable }

    public var fieldErrors: [FieldError] {
        self == .unknownCard ? [FieldError(field: "cardToken", message: detail)] : []
    }
}
