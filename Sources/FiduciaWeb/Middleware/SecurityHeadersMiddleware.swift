import HTTPTypes
import Hummingbird

/// Headers that keep browsers safe: no framing, no sniffing, nothing loaded from other sites; and,
/// when the site is served over HTTPS (secure cookies, or an `https://` public URL), HSTS, so that
/// a browser that has seen the site once never talks to it in plain HTTP again.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let strictTransportSecurity: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        }
        if strictTransportSecurity {
            response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000; includeSubDomains"
        }
        return response
    }
}
