import Hummingbird

/// Refuses (404) a path the router would only match after collapsing it: an empty segment (`//`)
/// or a `.` or `..` segment. Every later decision that looks at the path (the API authenticates by
/// bearer token only and pages by cookie with a CSRF check; body limits; idempotency) then sees
/// the path of the route that will answer: `//v1/users/me` can no longer reach the API with a
/// page's session cookie.
struct CanonicalPathMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isCanonical(request.uri.path) else { throw WebError.routeNotFound }
        return try await next(request, context)
    }

    static func isCanonical(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.contains("//") else { return false }
        return !path.split(separator: "/").contains { $0 == "." || $0 == ".." }
    }
}
