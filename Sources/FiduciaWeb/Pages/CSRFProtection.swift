import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// Protects forms against cross-site request forgery with a signed double-submit token.
///
/// Each browser gets a random `fiducia_csrf` cookie (HttpOnly, SameSite=Lax); forms carry
/// HMAC(server secret, cookie, session): a forged form from another site can neither read the
/// cookie nor compute the signature, and a token is good only for the session it was shown in (a
/// token taken under one's own session, with a cookie planted in a victim's browser, fails under
/// the victim's; logging in or out starts new tokens). The secret lives in the database, so every
/// server checks the same way.
struct CSRFProtection: Sendable {
    static let cookieName = "fiducia_csrf"
    static let formField = "csrfToken"
    let secret: String
    let random: any RandomSource
    let secureCookies: Bool

    /// The form token for this request, and the cookie to set when the browser has none.
    func token(for request: Request) -> (token: String, cookie: Cookie?) {
        if let existing = request.cookies[Self.cookieName]?.value, existing.count >= 16 {
            return (sign(existing, session: Self.session), nil)
        }
        let value = SecretToken.base64URL(random.bytes(24))
        let cookie = Cookie(name: Self.cookieName, value: value, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
        return (sign(value, session: Self.session), cookie)
    }

    /// Throws unless the form's token matches the browser's cookie.
    func verify(formToken: String?, request: Request) throws {
        guard let cookie = request.cookies[Self.cookieName]?.value, let formToken,
            SecretToken.constantTimeEquals(sign(cookie, session: Self.session), formToken)
        else {
            throw WebError.csrfRejected
        }
    }

    /// The session the request belongs to (authentication runs before any page).
    private static var session: String {
        if case .user(_, let session) = RequestScope.current.principal { return session.rawValue }
        return "anonymous"
    }

    private func sign(_ value: String, session: String) -> String {
        SecretToken.sign("csrf:" + value + ":" + session, key: secret)
    }
}
