/// The broad kinds of failure, which the HTTP edge maps to status codes once.
public enum FailureKind: Sendable, Equatable {
    /// The request is malformed or a field is invalid (400).
    case invalidInput
    /// The caller is not authenticated (401).
    case unauthenticated
    /// The caller is authenticated but may not do this (403).
    case forbidden
    /// The thing does not exist, or the caller may not know that it does (404).
    case notFound
    /// The request conflicts with the current state, e.g. an illegal state transition (409).
    case conflict
    /// The request is well-formed and the API document allows it, but a rule that depends on the
    /// state of things refuses it: an amount above what is left, your own account, a card the
    /// provider does not know (422). A 400 means the request itself breaks the document.
    case unprocessable
    /// The request body is larger than allowed (413).
    case tooLarge
    /// Too many requests (429).
    case rateLimited
    /// A service Fiducia depends on did not answer (503).
    case unavailable
}

/// An error the domain or the service layer names on purpose.
///
/// Every case has a stable `code` (which becomes the problem `type` `/problems/<code>`), a short
/// `title` shared by all errors with that code, and a `detail` sentence for a person.
public protocol DomainError: Error, Sendable {
    var kind: FailureKind { get }
    var code: String { get }
    var title: String { get }
    var detail: String { get }
    /// Per-field messages for validation errors; empty otherwise.
    var fieldErrors: [FieldError] { get }
    /// The same request may succeed later (a payment still being settled): an idempotent replay
    /// must not repeat this answer forever.
    var isTransient: Bool { get }
}

extension DomainError {
    public var fieldErrors: [FieldError] { [] }
    public var isTransient: Bool { false }
}

/// A message about one field of a request.
public struct FieldError: Sendable, Equatable, Codable {
    public let field: String
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// One or more fields of a request are invalid.
public struct ValidationError: DomainError, Equatable {
    public let fieldErrors: [FieldError]

    public init(_ fieldErrors: [FieldError]) {
        precondition(!fieldErrors.isEmpty, "a validation error names at least one field")
        self.fieldErrors = fieldErrors
    }

    public init(field: String, _ message: String) {
        self.init([FieldError(field: field, message: message)])
    }

    public var kind: FailureKind { .invalidInput }
    public var code: String { "validation-failed" }
    public var title: String { "Some fields are invalid" }
    public var detail: String { fieldErrors.map(\.message).joined(separator: " ") }
}

/// Fields the API document allows, refused by a rule that depends on the state of things (422
/// `rule-not-met`): the amount left to refund, who is asking, what the rulebook in force says.
/// A `ValidationError` (400) is for a request that breaks the document itself.
public struct RuleNotMet: DomainError, Equatable {
    public static let title = "Refused by a rule"
    public let fieldErrors: [FieldError]

    public init(_ fieldErrors: [FieldError]) {
        precondition(!fieldErrors.isEmpty, "a refusal names at least one field")
        self.fieldErrors = fieldErrors
    }

    public init(field: String, _ message: String) {
        self.init([FieldError(field: field, message: message)])
    }

    public var kind: FailureKind { .unprocessable }
    public var code: String { "rule-not-met" }
    public var title: String { Self.title }
    public var detail: String { fieldErrors.map(\.message).joined(separator: " ") }
}

/// Collects field errors while validating a request, then throws them together.
public struct Validator {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func check(_ condition: Bool, field: String, _ message: @autoclosure () -> String) {
        if !condition { errors.append(FieldError(field: field, message: message())) }
    }

    public mutating func add(field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    public func throwIfInvalid() throws(ValidationError) {
        if !errors.isEmpty { throw ValidationError(errors) }
    }

    /// For checks against the state of things rather than the request's own shape.
    public func throwIfRuleNotMet() throws(RuleNotMet) {
        if !errors.isEmpty { throw RuleNotMet(errors) }
    }
}

/// Errors about who is asking, shared by every feature.
public enum AccessError: DomainError, Equatable {
    case authenticationRequired
    case invalidCredentials
    case invalidToken
    case forbidden(String)
    case onBehalfNotAllowed
    case tooManyLogInAttempts

    public var kind: FailureKind {
        switch self {
        case .authenticationRequired, .invalidCredentials, .invalidToken: .unauthenticated
        case .forbidden, .onBehalfNotAllowed: .forbidden
        case .tooManyLogInAttempts: .rateLimited
        }
    }

    public var code: String {
        switch self {
        case .authenticationRequired: "authentication-required"
        case .invalidCredentials: "invalid-credentials"
        case .invalidToken: "invalid-token"
        case .forbidden: "forbidden"
        case .onBehalfNotAllowed: "on-behalf-not-allowed"
        case .tooManyLogInAttempts: "too-many-log-in-attempts"
        }
    }

    public var title: String {
        switch self {
        case .authenticationRequired: "Authentication required"
        case .invalidCredentials: "Wrong email or password"
        case .invalidToken: "Invalid or expired token"
        case .forbidden: "Not allowed"
        case .onBehalfNotAllowed: "Cannot act for this user"
        case .tooManyLogInAttempts: "Too many log-in attempts"
        }
    }

    public var detail: String {
        switch self {
        case .authenticationRequired:
            "Sign in, or send a bearer token in the Authorization header."
        case .invalidCredentials:
            "The email or the password is wrong."
        case .invalidToken:
            "The bearer token is unknown, revoked or expired. Sign in again to get a new one."
        case .forbidden(let reason):
            reason
        case .onBehalfNotAllowed:
            "An API client can act only for the users it created."
        case .tooManyLogInAttempts:
            "There were too many wrong passwords for this account or from this address in the last \(Int(AccountRules.logInFailureWindowSeconds / 60)) minutes. Wait a few minutes, then try again."
        }
    }
}

/// A record that does not exist, or that the caller may not know exists.
public struct NotFoundError: DomainError, Equatable {
    public let entity: String
    public let id: String

    public init(entity: String, id: String) {
        self.entity = entity
        self.id = id
    }

    public var kind: FailureKind { .notFound }
    public var code: String { "not-found" }
    public var title: String { "Not found" }
    public var detail: String { "There is no \(entity) with id \(id)." }
}
