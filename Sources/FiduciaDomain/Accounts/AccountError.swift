/// Named failures of account operations.
public enum AccountError: DomainError, Equatable {
    case emailTaken
    case externalIDTaken(String)
    case apiClientNameInvalid

    public var kind: FailureKind {
        switch self {
        case .emailTaken, .externalIDTaken: .conflict
        case .apiClientNameInvalid: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .emailTaken: "email-taken"
        case .externalIDTaken: "external-id-taken"
        case .apiClientNameInvalid: "validation-failed"
        }
    }

    public var title: String {
        switch self {
        case .emailTaken: "Email already registered"
        case .externalIDTaken: "External id already used"
        case .apiClientNameInvalid: "Some fields are invalid"
        }
    }

    public var detail: String {
        switch self {
        case .emailTaken: "An account with this email address already exists. Log in instead."
        case .externalIDTaken(let id): "This API client already created a user with external id \(id)."
        case .apiClientNameInvalid: "The API client name must be 1 to 80 characters."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .apiClientNameInvalid: [FieldError(field: "name", message: detail)]
        default: []
        }
    }
}
