/// Every problem `type` Fiducia's API can return, documented at `/problems`.
///
/// The codes are stable: clients may branch on them. A test checks that every code the server
/// emits in the test suite is listed here.
enum ProblemCatalog {
    struct Entry: Sendable {
        let code: String
        let status: Int
        let title: String
        let explanation: String
    }

    static let entries: [Entry] = [
        Entry(code: "validation-failed", status: 400, title: "Some fields are invalid",
              explanation: "One or more fields of the request are missing or invalid. The errors array names each field and what is wrong with it."),
        Entry(code: "malformed-request", status: 400, title: "Malformed request",
              explanation: "The request could not be read: the body is not valid JSON, or a parameter has the wrong type."),
        Entry(code: "unsupported-media-type", status: 415, title: "Unsupported media type",
              explanation: "Send request bodies as application/json."),
        Entry(code: "body-too-large", status: 413, title: "Request body too large",
              explanation: "Request bodies are limited (64 KiB by default)."),
        Entry(code: "route-not-found", status: 404, title: "No such page or endpoint",
              explanation: "Nothing is served at this path. The API reference at /docs lists every endpoint."),
        Entry(code: "method-not-allowed", status: 405, title: "Method not allowed",
              explanation: "The path exists but does not accept this HTTP method."),
        Entry(code: "not-found", status: 404, title: "Not found",
              explanation: "The record does not exist, or you may not see it."),
        Entry(code: "authentication-required", status: 401, title: "Authentication required",
              explanation: "Send Authorization: Bearer with a session token (createSession) or an API key."),
        Entry(code: "invalid-credentials", status: 401, title: "Wrong email or password",
              explanation: "The same answer is given for an unknown email and a wrong password, so that log-in does not reveal who has an account."),
        Entry(code: "invalid-token", status: 401, title: "Invalid or expired token",
              explanation: "The bearer token is unknown, revoked or expired, or the Authorization header is not of the form Bearer <token>."),
        Entry(code: "forbidden", status: 403, title: "Not allowed",
              explanation: "You are signed in but your roles do not allow this."),
        Entry(code: "on-behalf-not-allowed", status: 403, title: "Cannot act for this user",
              explanation: "An API client may act (Fiducia-On-Behalf-Of) only for users it created; a session token cannot act for anyone else."),
        Entry(code: "csrf-rejected", status: 403, title: "Form expired",
              explanation: "A form was posted without a valid anti-forgery token. Reload the page and submit again."),
        Entry(code: "email-taken", status: 409, title: "Email already registered",
              explanation: "An account with this email address exists."),
        Entry(code: "external-id-taken", status: 409, title: "External id already used",
              explanation: "This API client already created a user with the same external id."),
        Entry(code: "idempotency-key-reused", status: 422, title: "Idempotency key reused",
              explanation: "The Idempotency-Key was already used with a different method, path or body. Use a new key for a new request."),
        Entry(code: "idempotency-key-in-use", status: 409, title: "Request already in progress",
              explanation: "A request with the same Idempotency-Key is still running. Retry shortly to get its response."),
        Entry(code: "internal-error", status: 500, title: "Internal error",
              explanation: "An unexpected failure on the server. It is logged with the request id; nothing was half-written."),
    ]

    static func entry(_ code: String) -> Entry? {
        entries.first { $0.code == code }
    }
}
