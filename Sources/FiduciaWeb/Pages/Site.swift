import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// What every page controller needs: the services, the renderer, CSRF protection and cookie settings.
struct Site: Sendable {
    let services: AppServices
    let renderer: PageRenderer
    let csrf: CSRFProtection
    let configuration: WebConfiguration

    var principal: Principal { RequestScope.current.principal }

    /// Decodes a posted form after checking its CSRF token.
    func form<Form: Decodable & CSRFProtectedForm>(_ type: Form.Type, from request: Request) async throws -> Form {
        var request = request
        let body = try await request.collectBody(upTo: configuration.maximumBodyBytes)
        let text = String(buffer: body)
        let form: Form
        do {
            form = try URLEncodedFormDecoder().decode(Form.self, from: text)
        } catch {
            throw WebError.malformedRequest("The form could not be read. Reload the page and try again.")
        }
        try csrf.verify(formToken: form.csrfToken, request: request)
        return form
    }

    /// Reads a posted form that carries files (`multipart/form-data`) after checking its CSRF token.
    func multipartForm(from request: Request) async throws -> MultipartForm {
        var request = request
        let contentType = request.headers[.contentType] ?? ""
        let limit = configuration.bodyLimit(path: request.uri.path, contentType: contentType)
        let body = try await request.collectBody(upTo: limit)
        guard let form = MultipartForm(contentType: contentType, body: Array(body.readableBytesView)) else {
            throw WebError.malformedRequest("The form could not be read. Reload the page and try again.")
        }
        try csrf.verify(formToken: form[CSRFProtection.formField], request: request)
        return form
    }

    /// The signed-in user, or a redirect to the log-in page that comes back here afterwards.
    func requireViewer(_ request: Request) throws(RedirectToLogin) -> User {
        guard let user = principal.actingUser else {
            throw RedirectToLogin(next: request.uri.path)
        }
        return user
    }

    func sessionCookie(token: String, expiresAt: Date) -> Cookie {
        Cookie(
            name: AuthenticationMiddleware<FiduciaRequestContext>.sessionCookieName,
            value: token,
            maxAge: max(0, Int(expiresAt.timeIntervalSince(services.clock.now()))),
            path: "/",
            secure: configuration.secureCookies,
            httpOnly: true,
            sameSite: .lax
        )
    }

    func clearedSessionCookie() -> Cookie {
        Cookie(
            name: AuthenticationMiddleware<FiduciaRequestContext>.sessionCookieName,
            value: "",
            maxAge: 0,
            path: "/",
            secure: configuration.secureCookies,
            httpOnly: true,
            sameSite: .lax
        )
    }
}

extension Request {
    /// The path's segment at `index` ("/disputes/dsp_1/answer": 0 is "disputes", 1 "dsp_1"): the
    /// page routes name their parameters by position. A missing segment is a route not found.
    func pathSegment(_ index: Int) throws(WebError) -> String {
        let parts = uri.path.split(separator: "/")
        guard parts.indices.contains(index) else { throw .routeNotFound }
        return String(parts[index])
    }
}

/// A form that carries the CSRF token.
protocol CSRFProtectedForm {
    var csrfToken: String? { get }
}

/// Thrown by pages that need a signed-in user; answered with a redirect to the log-in page.
struct RedirectToLogin: Error {
    let next: String

    var response: Response {
        PageRenderer.redirect(to: "/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_"))) ?? "/"))
    }
}

extension Router where Context == FiduciaRequestContext {
    /// A page route: a `RedirectToLogin` from the handler becomes the redirect.
    @discardableResult
    func page(_ path: RouterPath, method: HTTPRequest.Method = .get, _ handler: @escaping @Sendable (Request) async throws -> Response) -> Self {
        on(path, method: method) { request, _ in
            do {
                return try await handler(request)
            } catch let redirect as RedirectToLogin {
                return redirect.response
            }
        }
        return self
    }
}
