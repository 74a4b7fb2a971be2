import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// Sign-up, log-in, log-out and the account page.
struct AccountPages: Sendable {
    let site: Site

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/signup") { request in
            site.renderer.render("signup", page: signupView(.init(), errors: []), request: request)
        }
        router.page("/signup", method: .post) { request in try await signUp(request) }
        router.page("/login") { request in
            let next = request.uri.queryParameters["next"].map(String.init) ?? ""
            return site.renderer.render("login", page: LoginView(form: .init(email: "", next: next), errors: [], providers: Self.providerButtons(site.services)), request: request)
        }
        router.page("/login", method: .post) { request in try await logIn(request) }
        router.page("/logout", method: .post) { request in try await logOut(request) }
        router.page("/account") { request in try await account(request) }
    }

    /// A sign-in button: "Sign in with <name>".
    struct ProviderButton: Sendable { let id, name: String }

    static func providerButtons(_ services: AppServices) -> [ProviderButton] {
        services.signIn.available.map { ProviderButton(id: $0.id, name: $0.name) }
    }

    func signupView(_ fields: SignupView.Fields, errors: [FieldError]) -> SignupView {
        SignupView(form: fields, errors: errors, providers: Self.providerButtons(site.services), inviteOnly: site.services.settings.inviteOnly)
    }

    struct SignupForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var displayName: String?
        var email: String?
        var password: String?
        var buyer: String?
        var seller: String?
        var invitationCode: String?
        var privacyNotice: String?
    }

    struct SignupView: Sendable {
        struct Fields: Sendable {
            var displayName = ""
            var email = ""
            var buyer = true
            var seller = false
            var invitationCode = ""
        }
        let form: Fields
        let errors: [FieldError]
        let providers: [ProviderButton]
        let inviteOnly: Bool
        let privacyNoticeVersion = PrivacyNotice.current.version
    }

    private func signUp(_ request: Request) async throws -> Response {
        let form = try await site.form(SignupForm.self, from: request)
        var roles: Set<Role> = []
        if form.buyer != nil { roles.insert(.buyer) }
        if form.seller != nil { roles.insert(.seller) }
        let fields = SignupView.Fields(
            displayName: form.displayName ?? "", email: form.email ?? "", buyer: form.buyer != nil, seller: form.seller != nil, invitationCode: form.invitationCode ?? ""
        )
        let newUser = AccountRules.NewUser(
            email: form.email ?? "",
            password: form.password ?? "",
            displayName: form.displayName ?? "",
            roles: roles
        )
        do {
            guard let accepted = form.privacyNotice.flatMap(Int.init) else {
                // Every error at once: the other fields' too.
                var errors: [FieldError] = []
                do { _ = try AccountRules.validate(newUser, by: site.principal) } catch let error as ValidationError { errors = error.fieldErrors } catch {}
                throw ValidationError(errors + [FieldError(field: "privacyNotice", message: "Read the privacy notice and tick the box to accept it.")])
            }
            _ = try await site.services.accounts.signUp(newUser, invitationCode: form.invitationCode, privacyNoticeVersion: accepted, by: site.principal)
        } catch let error as ValidationError {
            return site.renderer.render("signup", page: signupView(fields, errors: error.fieldErrors), request: request, status: .badRequest)
        } catch AccountError.emailTaken {
            let errors = [FieldError(field: "email", message: AccountError.emailTaken.detail)]
            return site.renderer.render("signup", page: signupView(fields, errors: errors), request: request, status: .conflict)
        } catch let error as InvitationError {
            let errors = [FieldError(field: "invitationCode", message: error.detail)]
            return site.renderer.render("signup", page: signupView(fields, errors: errors), request: request, status: error.kind.httpStatus)
        } catch let error as DataRightsError {
            // The notice changed while the form was open: show the new one.
            let errors = [FieldError(field: "privacyNotice", message: error.detail)]
            return site.renderer.render("signup", page: signupView(fields, errors: errors), request: request, status: error.kind.httpStatus)
        }
        let (session, token, _) = try await site.services.accounts.logIn(email: newUser.email, password: newUser.password ?? "", kind: .browser, from: RequestScope.current.clientAddress)
        var response = PageRenderer.redirect(to: "/account?notice=welcome")
        response.setCookie(site.sessionCookie(token: token, expiresAt: session.expiresAt))
        return response
    }

    struct LoginForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var email: String?
        var password: String?
        var next: String?
    }

    struct LoginView: Sendable {
        struct Fields: Sendable {
            var email: String
            var next: String
        }
        let form: Fields
        let errors: [FieldError]
        let providers: [ProviderButton]
    }

    private func logIn(_ request: Request) async throws -> Response {
        let form = try await site.form(LoginForm.self, from: request)
        let next = Self.safeRedirect(form.next)
        do {
            let (session, token, user) = try await site.services.accounts.logIn(email: form.email ?? "", password: form.password ?? "", kind: .browser, from: RequestScope.current.clientAddress)
            // A privacy notice newer than the one last accepted is shown before anything else.
            let status = try await site.services.privacy.notice(by: .user(user, session: session.id))
            var response = PageRenderer.redirect(to: status.mustAccept ? "/privacy?notice=privacy-changed" : next)
            response.setCookie(site.sessionCookie(token: token, expiresAt: session.expiresAt))
            return response
        } catch let error as AccessError where error == .invalidCredentials || error == .tooManyLogInAttempts {
            let errors = [FieldError(field: "email", message: error.detail)]
            let view = LoginView(form: .init(email: form.email ?? "", next: form.next ?? ""), errors: errors, providers: Self.providerButtons(site.services))
            return site.renderer.render("login", page: view, request: request, status: error == .invalidCredentials ? .unauthorized : .tooManyRequests)
        }
    }

    private func logOut(_ request: Request) async throws -> Response {
        struct LogoutForm: Decodable, CSRFProtectedForm { var csrfToken: String? }
        _ = try await site.form(LogoutForm.self, from: request)
        if case .user(_, let session) = site.principal {
            try await site.services.accounts.logOut(session)
        }
        var response = PageRenderer.redirect(to: "/?notice=logged-out")
        response.setCookie(site.clearedSessionCookie())
        return response
    }

    /// Only local paths are followed after log-in, so a crafted link cannot send a user elsewhere.
    static func safeRedirect(_ next: String?) -> String {
        PageRenderer.localPath(next) ?? "/account?notice=logged-in"
    }

    struct LinkedProvider: Sendable {
        let id, name: String
        let linked: Bool
        let linkedAt: String?
    }
    struct AccountView: Sendable {
        let user: UserView
        let providers: [LinkedProvider]
        let error: String?
    }

    func account(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try site.requireViewer(request)
        let linked = try await site.services.signIn.linked(by: site.principal)
        let providers = site.services.signIn.available.map { provider in
            let link = linked.first { $0.provider == provider.id }
            return LinkedProvider(id: provider.id, name: provider.name, linked: link != nil, linkedAt: link.map { PageFormat.date($0.linkedAt) })
        }
        return site.renderer.render("account", page: AccountView(user: UserView(user), providers: providers, error: error), request: request, status: status)
    }
}

/// A user as pages show them to themself.
struct UserView: Sendable {
    let id: String
    let displayName: String
    let email: String
    let roles: String
    let createdAtISO: String
    let createdAtText: String

    init(_ user: User) {
        id = user.id.rawValue
        displayName = user.displayName
        email = user.email
        roles = user.sortedRoles.map(\.rawValue).joined(separator: ", ")
        createdAtISO = user.createdAt.formatted(.iso8601)
        createdAtText = user.createdAt.formatted(date: .long, time: .omitted)
    }
}
