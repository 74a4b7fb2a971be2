import FiduciaDomain
import FiduciaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The pages through the real router, as a browser without JavaScript would use them.
@Suite("Account pages")
struct AccountPagesTests {
    /// A session cookie never authenticates the API, however the path is spelled: `//v1/…`, which
    /// the router would collapse to an API route, is refused before anyone is authenticated, as are
    /// `.` and `..` segments; a path of ours still works.
    @Test
    func aPageSessionNeverReachesTheAPIThroughAnOddPath() async throws {
        try await WebHarness.run(.sqlite) { web in
            _ = try await web.signUp("ann")
            var browser = PageBrowser(web: web)
            try await browser.logIn("ann")
            #expect(try await browser.visit(.get, "/account").status == .ok)
            #expect(try await browser.visit(.get, "/v1/users/me").status == .unauthorized)
            for odd in ["//v1/users/me", "/v1//users/me", "/./v1/users/me", "/account/../v1/users/me", "/x/../account"] {
                let response = try await browser.visit(.get, odd)
                #expect(response.status == .notFound, "\(odd)")
                #expect(!response.text.contains("ann@example.com"), "\(odd)")
            }
            let order = try await browser.visit(.post, "//v1/orders", form: ["sellerId": "usr_x"])
            #expect(order.status == .notFound)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func signUpLogOutAndLogInThroughTheForms(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            var browser = PageBrowser(web: web)
            func visit(_ method: HTTPRequest.Method, _ path: String, form: [String: String]? = nil) async throws -> TestResponseLike {
                try await browser.visit(method, path, form: form)
            }

            let home = try await visit(.get, "/")
            #expect(home.status == .ok)
            #expect(home.text.contains("Trade with strangers"))

            let signupPage = try await visit(.get, "/signup")
            let token = try #require(PageBrowser.csrfToken(in: signupPage.text))
            // The form names the privacy notice in force, which the person accepts by signing up.
            #expect(signupPage.text.contains(#"name="privacyNotice" value="\#(PrivacyNotice.current.version)" required"#))

            // Without the token the form is refused and nothing is written.
            let forged = try await visit(.post, "/signup", form: ["displayName": "Ann", "email": "ann@example.com", "password": "correct horse battery", "buyer": "on"])
            #expect(forged.status == .forbidden)
            #expect(try await web.userCount() == 0)

            let invalid = try await visit(.post, "/signup", form: ["csrfToken": token, "displayName": "Ann", "email": "nope", "password": "short"])
            #expect(invalid.status == .badRequest)
            #expect(invalid.text.contains("There is a problem"))
            #expect(invalid.text.contains(#"value="Ann""#))

            let created = try await visit(.post, "/signup", form: ["csrfToken": token, "displayName": "Ann", "email": "ann@example.com", "password": "correct horse battery", "seller": "on", "privacyNotice": "1"])
            #expect(created.status == .seeOther)
            #expect(created.location == "/account?notice=welcome")
            #expect(browser.cookies["fiducia_session"]?.isEmpty == false)

            let account = try await visit(.get, "/account?notice=welcome")
            #expect(account.status == .ok)
            #expect(account.text.contains("ann@example.com"))
            #expect(account.text.contains("Welcome to Fiducia"))

            // The token shown before signing in is not good for the new session: tokens are bound
            // to the session they were shown in.
            #expect(try await visit(.post, "/logout", form: ["csrfToken": token]).status == .forbidden)
            let sessionToken = try #require(PageBrowser.csrfToken(in: account.text))
            #expect(sessionToken != token)
            func signOut() async throws {
                let page = try await visit(.get, "/account")
                let response = try await visit(.post, "/logout", form: ["csrfToken": try #require(PageBrowser.csrfToken(in: page.text))])
                #expect(response.status == .seeOther)
            }
            let logout = try await visit(.post, "/logout", form: ["csrfToken": sessionToken])
            #expect(logout.status == .seeOther)
            let signedOut = try await visit(.get, "/account")
            #expect(signedOut.status == .seeOther)
            #expect(signedOut.location == "/login?next=/account")

            let wrong = try await visit(.post, "/login", form: ["csrfToken": token, "email": "ann@example.com", "password": "wrong password!"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("The email or the password is wrong."))

            let loggedIn = try await visit(.post, "/login", form: ["csrfToken": token, "email": "ann@example.com", "password": "correct horse battery", "next": "//evil.example"])
            #expect(loggedIn.status == .seeOther)
            #expect(loggedIn.location == "/account?notice=logged-in")
            #expect(try await visit(.get, "/account").status == .ok)
            // Browsers drop tabs and line breaks and read `\` as `/`: each of these would land on
            // another site, so none is followed; a path of ours is.
            for hostile in ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "\\/evil.example", "https://evil.example", "/ /evil.example"] {
                try await signOut()
                let again = try await visit(.post, "/login", form: ["csrfToken": token, "email": "ann@example.com", "password": "correct horse battery", "next": hostile])
                #expect(again.location == "/account?notice=logged-in", "\(hostile)")
            }
            try await signOut()
            let local = try await visit(.post, "/login", form: ["csrfToken": token, "email": "ann@example.com", "password": "correct horse battery", "next": "/orders?role=buyer"])
            #expect(local.location == "/orders?role=buyer")

            try await signOut()
            // Guessing is throttled on the page as in the API.
            for _ in 0..<AccountRules.logInFailureLimit {
                _ = try await visit(.post, "/login", form: ["csrfToken": token, "email": "zed@example.com", "password": "guess guess guess"])
            }
            let throttled = try await visit(.post, "/login", form: ["csrfToken": token, "email": "zed@example.com", "password": "guess guess guess"])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.text.contains("too many wrong passwords"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func pagesAnswerProblemsAsPagesAndNeverLoadOtherSites(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let missing = try await web.request(.get, "/no-such-page", headers: ["Accept": "text/html"])
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(missing.text.contains("No such page"))
            for path in ["/", "/signup", "/login", "/docs", "/problems"] {
                let page = try await web.request(.get, path)
                #expect(page.status == .ok, "\(path)")
                #expect(!page.text.contains("http://") && !page.text.contains("https://cdn"), "\(path) loads nothing from elsewhere")
                #expect(page.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
            }
            let css = try await web.request(.get, "/static/fiducia.css")
            #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
        }
    }
}

/// The parts of a test response the page tests use.
