"""Drives sign-in with an external account through Fiducia's pages, as a browser would (cookies,
forms, redirects followed by hand so that each hop can be checked), against real OpenID providers
(Tests/tools/oidc_provider.py). Run by scripts/oidc-test.sh with:

    FIDUCIA_URL   the Fiducia server
    OP1           provider id "op" (RS256), whose person is a newcomer, alice@op.test
    OP2           provider id "op2" (ES256), whose person is bob@op.test, who also has a password account
"""
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

FIDUCIA = os.environ["FIDUCIA_URL"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and a way to make one request without following redirects."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            response = self.opener.open(urllib.request.Request(url, data=data))
            return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def csrf(self, path):
        status, _, body = self.request(FIDUCIA + path)
        assert status == 200, (path, status)
        return re.search(r'name="csrfToken" value="([^"]+)"', body).group(1)

    def start(self, provider, purpose=None, from_path="/login"):
        """Presses "Sign in with ..." (or "Link ..."): returns the provider's authorization URL."""
        form = {"csrfToken": self.csrf(from_path)}
        if purpose:
            form["purpose"] = purpose
        status, headers, body = self.request(f"{FIDUCIA}/auth/{provider}/start", form)
        assert status == 303, (status, body[:500])
        return headers["Location"]

    def at_provider(self, authorization_url):
        """The provider signs the person in and redirects back: returns the callback URL."""
        status, headers, body = self.request(authorization_url)
        assert status == 303, (status, body[:500])
        return headers["Location"]

    def sign_in(self, provider, purpose=None, from_path="/login"):
        callback = self.at_provider(self.start(provider, purpose, from_path))
        return callback, self.request(callback)


def expect(condition, message):
    if not condition:
        print("FAILED:", message, file=sys.stderr)
        sys.exit(1)
    print("ok -", message)


def account_page(browser):
    status, _, body = browser.request(FIDUCIA + "/account")
    expect(status == 200, "the account page opens for the signed-in person")
    return body


def main():
    # A newcomer signs up with the provider: PKCE, state and nonce go out; an account comes back.
    alice = Browser()
    authorization = alice.start("op")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(authorization).query)
    expect(query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43, "the request carries an S256 PKCE challenge")
    expect(len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 32, "the request carries a random state and nonce")
    expect(query["redirect_uri"] == [f"{FIDUCIA}/auth/op/callback"], "the callback is the registered redirect URI")
    callback = alice.at_provider(authorization)
    status, headers, _ = alice.request(callback)
    expect(status == 303 and headers["Location"] == "/account?notice=welcome", "the callback signs the newcomer up and in")
    body = account_page(alice)
    expect("alice@op.test" in body and "Alice Provider" in body, "the new account has the provider's verified e-mail and name")
    expect("linked since" in body, "the account page shows the linked provider")
    alice_id = re.search(r"<code>(usr_[^<]+)</code>", body).group(1)

    # The same callback again (a replay, or a leaked URL) is refused: each attempt is used once.
    status, _, body = alice.request(callback)
    expect(status == 400 and "was already used" in body, "a replayed callback is refused")

    # A callback carried to another browser (login CSRF, a phished link) is refused.
    stranger = Browser()
    callback = alice.at_provider(alice.start("op"))
    status, _, body = stranger.request(callback)
    expect(status == 400 and "not started in this browser" in body, "a callback in another browser is refused")
    status, headers, _ = alice.request(callback)
    expect(status == 303 and headers["Location"] == "/account?notice=logged-in", "...while the browser that started it still finishes its own sign-in")

    # A tampered state, and a provider that reports an error, are refused.
    callback = alice.at_provider(alice.start("op"))
    tampered = re.sub(r"state=[^&]+", "state=forged", callback)
    status, _, _ = alice.request(tampered)
    expect(status == 400, "a forged state is refused")
    authorization = alice.start("op")
    state = urllib.parse.parse_qs(urllib.parse.urlparse(authorization).query)["state"][0]
    status, _, body = alice.request(f"{FIDUCIA}/auth/op/callback?state={urllib.parse.quote(state)}&error=access_denied&error_description=The+person+declined")
    expect(status == 400 and "The person declined" in body, "a provider's error is shown, and nobody is signed in")

    # Signing in again finds the same account.
    again = Browser()
    _, (status, headers, _) = again.sign_in("op")
    expect(status == 303 and headers["Location"] == "/account?notice=logged-in", "a returning person is signed in")
    expect(f"<code>{alice_id}</code>" in account_page(again), "...to the same account, not a new one")

    # An account made through a provider has no password: its last provider cannot be unlinked.
    csrf = again.csrf("/account")
    status, _, body = again.request(f"{FIDUCIA}/account/external/op/unlink", {"csrfToken": csrf})
    expect(status == 409 and "lock you out" in body, "the only way to sign in cannot be unlinked")

    # Bob has a password account; the provider's e-mail never takes it over...
    bob = Browser()
    csrf = bob.csrf("/signup")
    status, _, _ = bob.request(FIDUCIA + "/signup", {"csrfToken": csrf, "displayName": "Bob", "email": "bob@op.test",
                                                      "password": "correct horse battery", "buyer": "on",
                                                      "privacyNotice": "1"})
    expect(status == 303, "Bob signs up with a password")
    bob.request(FIDUCIA + "/logout", {"csrfToken": bob.csrf("/account")})
    _, (status, _, body) = Browser().sign_in("op2")
    expect(status == 409 and "Log in with its password" in body, "a provider's e-mail that has an account does not sign in to it")

    # ...but Bob, signed in, links it (an ES256-signing provider), then signs in with it.
    csrf = bob.csrf("/login")
    status, _, _ = bob.request(FIDUCIA + "/login", {"csrfToken": csrf, "email": "bob@op.test", "password": "correct horse battery"})
    expect(status == 303, "Bob logs in with his password")
    bob_id = re.search(r"<code>(usr_[^<]+)</code>", account_page(bob)).group(1)
    _, (status, headers, _) = bob.sign_in("op2", purpose="link", from_path="/account")
    expect(status == 303 and headers["Location"] == "/account?notice=external-linked", "Bob links his external account")
    _, (status, headers, _) = bob.sign_in("op2", purpose="link", from_path="/account")
    expect(status == 409, "linking it twice is refused")
    fresh = Browser()
    _, (status, headers, _) = fresh.sign_in("op2")
    expect(status == 303 and f"<code>{bob_id}</code>" in account_page(fresh), "Bob signs in with the linked account")

    # Alice cannot link Bob's external account to hers.
    _, (status, _, body) = alice.sign_in("op2", purpose="link", from_path="/account")
    expect(status == 409 and "linked to another Fiducia account" in body, "an external account linked to someone else cannot be linked again")

    # Bob has a password, so he may unlink.
    status, headers, _ = bob.request(f"{FIDUCIA}/account/external/op2/unlink", {"csrfToken": bob.csrf("/account")})
    expect(status == 303 and headers["Location"] == "/account?notice=external-unlinked", "with a password, unlinking is allowed")

    # An unknown provider is a 404.
    status, _, _ = alice.request(f"{FIDUCIA}/auth/nobody/start", {"csrfToken": alice.csrf("/login")})
    expect(status == 404, "an unknown provider is refused")


if __name__ == "__main__":
    main()
