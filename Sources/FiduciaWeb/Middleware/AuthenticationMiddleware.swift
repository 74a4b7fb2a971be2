import FiduciaDomain
import FiduciaServices
import HTTPTypes
import Hummingbird
import Logging

/// Works out who is asking. The API authenticates with `Authorization: Bearer …` only (never with
/// cookies, so a malicious site cannot make a browser call the API); pages use the session cookie.
///
/// Pages also learn here whether incident mode is on, for the banner every page shows.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let accounts: AccountService
    let incidents: IncidentService
    static var sessionCookieName: String { "fiducia_session" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var scope = RequestScope.current
        if request.uri.path.hasPrefix("/v1/") {
            if let authorization = request.headers[.authorization] {
                let parts = authorization.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
                    throw AccessError.invalidToken
                }
                scope.principal = try await accounts.authenticate(
                    bearer: String(parts[1]).trimmingWhitespace(),
                    onBehalfOf: request.headers[.onBehalfOf]
                )
            }
        } else {
            if let token = request.cookies[Self.sessionCookieName]?.value, let principal = try await accounts.authenticate(cookie: token) {
                scope.principal = principal
            }
            scope.incident = try await incidents.current()
        }
        if let user = scope.principal.actingUser {
            scope.logger[metadataKey: "user_id"] = .string(user.id.rawValue)
        }
        return try await RequestScope.$current.withValue(scope) { try await next(request, context) }
    }
}
