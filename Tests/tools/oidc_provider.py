"""A real OpenID Connect provider on loopback, for Fiducia's sign-in tests.

Built on idpyoidc (the Identity Python project's maintained OpenID provider library): discovery,
JWKS, the authorization endpoint, the token endpoint with client authentication and PKCE, and
signed ID tokens are all the library's. The only things of ours are the HTTP plumbing and the
"login": whoever reaches the authorization endpoint is the one configured test person (the
library's NoAuthn method), since the tests are about Fiducia as the relying party.

    python oidc_provider.py --port 9400 --client-id fiducia --client-secret s3cret \
        --redirect-uri http://127.0.0.1:8080/auth/test/callback --email alice@op.test
"""
import argparse
import json
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from idpyoidc.message.oauth2 import ResponseMessage
from idpyoidc.server import Server
from idpyoidc.server.configure import OPConfiguration


def configuration(issuer, person, email, name, keys_dir, alg):
    return {
        "issuer": issuer,
        "httpc_params": {"verify": False, "timeout": 4},
        "key_conf": {"key_defs": [{"type": "RSA", "use": ["sig"]}, {"type": "EC", "crv": "P-256", "use": ["sig"]}],
                     "uri_path": "jwks.json", "read_only": False},
        "endpoint": {
            "provider_info": {"path": ".well-known/openid-configuration",
                              "class": "idpyoidc.server.oidc.provider_config.ProviderConfiguration", "kwargs": {}},
            "authorization": {"path": "authorization", "class": "idpyoidc.server.oidc.authorization.Authorization",
                              "kwargs": {"response_types_supported": ["code"], "response_modes_supported": ["query"]}},
            "token": {"path": "token", "class": "idpyoidc.server.oidc.token.Token",
                      "kwargs": {"client_authn_method": ["client_secret_basic", "client_secret_post"]}},
            "userinfo": {"path": "userinfo", "class": "idpyoidc.server.oidc.userinfo.UserInfo", "kwargs": {}},
        },
        "add_on": {"pkce": {"function": "idpyoidc.server.oauth2.add_on.pkce.add_support",
                            "kwargs": {"essential": True, "code_challenge_method": "S256"}}},
        "authentication": {"anon": {"acr": "urn:oasis:names:tc:SAML:2.0:ac:classes:InternetProtocolPassword",
                                    "class": "idpyoidc.server.user_authn.user.NoAuthn", "kwargs": {"user": person}}},
        "userinfo": {"class": "idpyoidc.server.user_info.UserInfo",
                     "kwargs": {"db": {person: {"sub": person, "email": email, "email_verified": True, "name": name}}}},
        "authz": {"class": "idpyoidc.server.authz.AuthzHandling",
                  "kwargs": {"grant_config": {"usage_rules": {"authorization_code": {"supports_minting": ["access_token", "id_token"], "max_usage": 1},
                                                              "access_token": {}},
                                              "expires_in": 43200}}},
        "token_handler_args": {
            "jwks_def": {"key_defs": [{"type": "oct", "bytes": "24", "use": ["enc"], "kid": "code"}], "read_only": False},
            "code": {"kwargs": {"lifetime": 600}},
            "token": {"class": "idpyoidc.server.token.jwt_token.JWTToken", "kwargs": {"lifetime": 3600}},
            "id_token": {"class": "idpyoidc.server.token.id_token.IDToken",
                         "kwargs": {"base_claims": {"email": None, "email_verified": None, "name": None},
                                    "sign_alg": alg}},
        },
        "session_params": {"encrypter": {"kwargs": {"keys": {"key_defs": [{"type": "OCT", "use": ["enc"], "kid": "password"},
                                                                          {"type": "OCT", "use": ["enc"], "kid": "salt"}]}}}},
        "template_dir": keys_dir,
    }


def make_server(args):
    issuer = f"http://127.0.0.1:{args.port}"
    keys_dir = tempfile.mkdtemp(prefix="fiducia-op-")
    conf = OPConfiguration(conf=configuration(issuer, args.person, args.email, args.name, keys_dir, args.alg),
                           base_path=keys_dir, domain="127.0.0.1", port=args.port)
    server = Server(conf, cwd=keys_dir)
    server.context.cdb[args.client_id] = {
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "redirect_uris": [(uri, {}) for uri in args.redirect_uri],
        "response_types_supported": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "allowed_scopes": ["openid", "profile", "email"],
        "client_salt": "salted",
        "id_token_signed_response_alg": args.alg,
    }
    return server


def handler_for(server):
    endpoints = {"/.well-known/openid-configuration": "provider_config", "/authorization": "authorization",
                 "/token": "token", "/userinfo": "userinfo"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body, content_type="application/json", headers=()):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def handle_endpoint(self, query):
            path = urlparse(self.path).path
            if path == "/jwks.json":
                return self.answer(200, json.dumps(server.keyjar.export_jwks()))
            name = endpoints.get(path)
            if name is None:
                return self.answer(404, '{"error":"not_found"}')
            endpoint = server.get_endpoint(name)
            headers = {key.lower(): value for key, value in self.headers.items()}
            http_info = {"headers": headers, "method": self.command, "url": self.path}
            request = endpoint.parse_request(query, http_info=http_info)
            if isinstance(request, ResponseMessage) and "error" in request:
                return self.answer(400, request.to_json())
            result = endpoint.process_request(request, http_info=http_info)
            if "error" in result:
                return self.answer(400, json.dumps({key: str(value) for key, value in result.items()}))
            response = endpoint.do_response(request=request, **result)
            if name == "authorization":
                return self.answer(303, "", headers=[("Location", response["response"])])
            body = response["response"]
            return self.answer(200, body if isinstance(body, str) else json.dumps(body))

        def do_GET(self):
            query = {key: values[0] for key, values in parse_qs(urlparse(self.path).query).items()}
            self.handle_endpoint(query or None)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            self.handle_endpoint(body)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    parser.add_argument("--person", default="alice")
    parser.add_argument("--email", default="alice@op.test")
    parser.add_argument("--name", default="Alice Provider")
    parser.add_argument("--alg", default="RS256", choices=["RS256", "ES256"])
    args = parser.parse_args()
    server = make_server(args)
    http = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(server))
    print(f"listening on http://127.0.0.1:{args.port}", flush=True)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
