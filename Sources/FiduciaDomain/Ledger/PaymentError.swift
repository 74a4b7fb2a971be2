/// Named failures of deposits, payouts, saved cards and statements.
public enum PaymentError: DomainError, Equatable {
    case savedCardRequired
    case unknownCard
    case cardDeclined(String)
    case monthNotOver(String)

    public var kind: FailureKind {
        switch self {
        case .savedCardRequired, .cardDeclined: .unprocessable
        case .unknownCard: .invalidInput
        case .monthNotOver: .conflict
        }
    }

    public var code: String {
        switch self {
        case .savedCardRequired: "saved-card-required"
        case .unknownCard: "validation-failed"
        case .cardDeclined: "payment-declined"
        case .monthNotOver: "month-not-over"
        }
    }

    public var title: String {
        switch self {
        case .savedCardRequired: "Saved card required"
        case .unknownCard: "Some fields are invalid"
        case .cardDeclined: "Payment declined"
        case .monthNotOver: "Month not over"
        }
    }

    public var detail: String {
        switch self {
        case .savedCardRequired: "Save a card first: the monthly statement is charged to it when the month closes."
        case .unknownCard: "The payment provider does not know this card token."
        case .cardDeclined(let reason): "The payment was declined: \(reason). Nothing was charged; try another card."
        case .monthNotOver(let month): "Statements of \(month) can be closed once the month is over."
        }
    }

    public var fieldErrors: [FieldError] {
        self == .unknownCard ? [FieldError(field: "cardToken", message: detail)] : []
    }
}
