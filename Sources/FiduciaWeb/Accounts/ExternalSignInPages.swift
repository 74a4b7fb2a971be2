import FiduciaDomain
import FiduciaServices
import Foundation
import HTTPTypes
import Hummingbird

/// Sign-in with an external account (OpenID Connect): the buttons post here, the browser goes to
/// the provider and comes back to the callback, which signs the person in or links the account.
struct ExternalSignInPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    /// Binds an attempt to the browser that started it; sent back by the browser on the
    /// provider's top-level redirect (SameSite=Lax allows exactly that).
    static let browserCookieName = "fiducia_sign_in"

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/auth/{provider}/start", method: .post) { request in try await start(request) }
        router.page("/auth/{provider}/callback") { request in try await callback(request) }
        router.page("/account/external/{provider}/unlink", method: .post) { request in try await unlink(request) }
    }

    struct StartForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var purpose: String?
        var invitationCode: String?
    }

    private func start(_ request: Request) async throws -> Response {
        let form = try await site.form(StartForm.self, from: request)
        let purpose: ExternalSignInAttempt.Purpose = form.purpose == "link" ? .link : .signIn
        if purpose == .link { _ = try site.requireViewer(request) }
        do {
            let started = try await services.signIn.begin(try request.pathSegment(1), purpose: purpose, invitationCode: form.invitationCode, by: site.principal)
            var response = PageRenderer.redirect(to: started.authorizationURL)
            response.setCookie(browserCookie(started.browserSecret, maxAge: Int(ExternalSignInRules.attemptLifetimeSeconds)))
            return response
        } catch let error as any DomainError where error.kind != .unauthenticated {
            return failure(error, request: request)
        }
    }

    /// The provider's redirect: its query is application/x-www-form-urlencoded (RFC 6749, 4.1.2),
    /// so a `+` is a space.
    struct CallbackQuery: Decodable {
        var state, code, error, iss: String?
        var errorDescription: String?

        enum CodingKeys: String, CodingKey {
            case state, code, error, iss
            case errorDescription = "error_description"
        }
    }

    private func callback(_ request: Request) async throws -> Response {
        let query = (try? URLEncodedFormDecoder().decode(CallbackQuery.self, from: request.uri.query ?? "")) ?? CallbackQuery()
        let callback = ExternalSignInService.Callback(
            state: query.state, code: query.code, error: query.error, errorDescription: query.errorDescription, issuer: query.iss,
            browserSecret: request.cookies[Self.browserCookieName]?.value
        )
        do {
            let outcome = try await services.signIn.complete(try request.pathSegment(1), callback)
            switch outcome {
            case .signedIn(_, let session, let token, let newAccount):
                var response = PageRenderer.redirect(to: newAccount ? "/account?notice=welcome" : "/account?notice=logged-in")
                response.setCookie(site.sessionCookie(token: token, expiresAt: session.expiresAt))
                response.setCookie(browserCookie("", maxAge: 0))
                return response
            case .linked:
                var response = PageRenderer.redirect(to: "/account?notice=external-linked")
                response.setCookie(browserCookie("", maxAge: 0))
                return response
            }
        } catch let error as any DomainError where error.kind != .unauthenticated {
            var response = failure(error, request: request)
            response.setCookie(browserCookie("", maxAge: 0))
            return response
        }
    }

    /// A failed sign-in shows the log-in page with what went wrong, under the error's status.
    private func failure(_ error: any DomainError, request: Request) -> Response {
        let view = AccountPages.LoginView(
            form: .init(email: "", next: ""), errors: [FieldError(field: "provider", message: error.detail)], providers: AccountPages.providerButtons(services)
        )
        return site.renderer.render("login", page: view, request: request, status: error.kind.httpStatus)
    }

    private func browserCookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(name: Self.browserCookieName, value: value, maxAge: maxAge, path: "/auth", secure: site.configuration.secureCookies, httpOnly: true, sameSite: .lax)
    }

    struct UnlinkForm: Decodable, CSRFProtectedForm, Sendable { var csrfToken: String? }

    private func unlink(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        _ = try await site.form(UnlinkForm.self, from: request)
        let provider = try request.pathSegment(2)
        do {
            try await services.signIn.unlink(provider, by: site.principal)
            return PageRenderer.redirect(to: "/account?notice=external-unlinked")
        } catch let error as any DomainError where error.kind != .unauthenticated {
            return try await AccountPages(site: site).account(request, error: error.detail, status: error.kind.httpStatus)
        }
    }
}
