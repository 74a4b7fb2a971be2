import FiduciaDomain
import Foundation
import HTTPTypes
import Hummingbird

/// Catches every error once and answers with a problem: `application/problem+json` for the API,
/// an HTML page for people.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let scope = RequestScope.current
            let problem = Problem.from(error, logger: scope.logger)
            if Self.wantsProblemJSON(request) {
                return problem.response(requestID: scope.requestID)
            }
            return pages.errorPage(problem, request: request)
        }
    }

    /// API paths, and anyone who asks for JSON, get problem+json; browsers get a page.
    static func wantsProblemJSON(_ request: Request) -> Bool {
        if request.uri.path.hasPrefix("/v1/") || request.uri.path == "/v1" { return true }
        let accept = request.headers[.accept] ?? ""
        return accept.contains("json") && !accept.contains("text/html")
    }
}
