import FiduciaDomain
import HTTPTypes

/// Failures that belong to the HTTP layer rather than to a feature.
enum WebError: DomainError {
    case routeNotFound
    case methodNotAllowed
    case bodyTooLarge(limitBytes: Int)
    case malformedRequest(String)
    case unsupportedMediaType(String)
    case csrfRejected
    case idempotencyKeyReused
    case idempotencyKeyInUse
    case idempotencyKeyInvalid
    case internalError
    case http(HTTPResponse.Status, String?)

    var kind: FailureKind {
        switch self {
        case .routeNotFound: .notFound
        case .methodNotAllowed, .malformedRequest, .unsupportedMediaType, .idempotencyKeyInvalid: .invalidInput
        case .bodyTooLarge: .tooLarge
        case .csrfRejected: .forbidden
        case .idempotencyKeyReused: .unprocessable
        case .idempotencyKeyInUse: .conflict
        case .internalError, .http: .invalidInput
        }
    }

    var code: String {
        switch self {
        case .routeNotFound: "route-not-found"
        case .methodNotAllowed: "method-not-allowed"
        case .bodyTooLarge: "body-too-large"
        case .malformedRequest: "malformed-request"
        case .unsupportedMediaType: "unsupported-media-type"
        case .csrfRejected: "csrf-rejected"
        case .idempotencyKeyReused: "idempotency-key-reused"
        case .idempotencyKeyInUse: "idempotency-key-in-use"
        case .idempotencyKeyInvalid: "validation-failed"
        case .internalError: "internal-error"
        case .http(let status, _):
            switch status.code {
            case 404: "route-not-found"
            case 405: "method-not-allowed"
            case 413: "body-too-large"
            case 415: "unsupported-media-type"
            default: "malformed-request"
            }
        }
    }

    var title: String {
        switch self {
        case .routeNotFound: "No such page or endpoint"
        case .methodNotAllowed: "Method not allowed"
        case .bodyTooLarge: "Request body too large"
        case .malformedRequest: "Malformed request"
        case .unsupportedMediaType: "Unsupported media type"
        case .csrfRejected: "Form expired"
        case .idempotencyKeyReused: "Idempotency key reused"
        case .idempotencyKeyInUse: "Request already in progress"
        case .idempotencyKeyInvalid: "Some fields are invalid"
        case .internalError: "Internal error"
        case .http(let status, _): status.reasonPhrase
        }
    }

    var detail: String {
        switch self {
        case .routeNotFound: "Nothing is served at this address. Check the path, or see /docs for the API."
        case .methodNotAllowed: "This address does not accept this HTTP method."
        case .bodyTooLarge(let limit):
            limit > 0 ? "The request body is larger than the limit of \(limit / 1024) KiB." : "The request body is too large."
        case .malformedRequest(let reason): reason
        case .unsupportedMediaType(let reason): reason
        case .csrfRejected: "The form was too old or did not come from this site. Reload the page and try again."
        case .idempotencyKeyReused: "This Idempotency-Key was already used with a different request. Use a new key for a new request."
        case .idempotencyKeyInUse: "A request with this Idempotency-Key is still being processed. Retry in a moment."
        case .idempotencyKeyInvalid: "The Idempotency-Key header must be 1 to 255 printable ASCII characters."
        case .internalError: "Something went wrong on our side. It has been logged; please try again later."
        case .http(let status, let message):
            switch status.code {
            case 404: WebError.routeNotFound.detail
            case 405: WebError.methodNotAllowed.detail
            case 413: "The request body is too large."
            default: message ?? status.reasonPhrase
            }
        }
    }

    var fieldErrors: [FieldError] {
        if case .idempotencyKeyInvalid = self { return [FieldError(field: "Idempotency-Key", message: detail)] }
        return []
    }

    var status: Int {
        switch self {
        case .internalError: 500
        case .methodNotAllowed: 405
        case .unsupportedMediaType: 415
        case .http(let status, _): status.code
        default: kind.httpStatus.code
        }
    }

    var problem: Problem {
        Problem(code: code, title: title, status: status, detail: detail, errors: fieldErrors)
    }
}
