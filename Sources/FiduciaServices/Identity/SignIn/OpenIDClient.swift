import AsyncHTTPClient
import FiduciaDomain
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to OpenID providers: discovery and JWKS (both cached in memory, which every server
/// rebuilds from the provider), and the token endpoint.
actor OpenIDClient {
    struct Metadata: Sendable {
        let authorizationEndpoint: String
        let tokenEndpoint: String
        let jwksURI: String
    }

    static let metadataLifetime: TimeInterval = 3_600
    /// After a token names a key we do not have, the key set is fetched again, at most this often.
    static let keyRefreshInterval: TimeInterval = 60
    static let timeout = TimeAmount.seconds(10)
    static let maximumResponseBytes = 1 << 20

    private var metadata: [String: (value: Metadata, fetchedAt: Date)] = [:]
    private var keys: [String: (value: JSONValue, fetchedAt: Date)] = [:]

    /// The provider's discovery document, checked: it must name the configured issuer, and its
    /// endpoints must use https (plain http only on the loopback interface, for development and tests).
    func metadata(_ provider: SignInProvider, now: Date) async throws(ExternalSignInError) -> Metadata {
        if let cached = metadata[provider.id], now.timeIntervalSince(cached.fetchedAt) < Self.metadataLifetime { return cached.value }
        let base = provider.issuer.hasSuffix("/") ? String(provider.issuer.dropLast()) : provider.issuer
        let document = try await fetchJSON(base + "/.well-known/openid-configuration")
        guard document["issuer"]?.stringValue == provider.issuer else {
            throw .providerUnavailable("its discovery document names another issuer")
        }
        guard let authorization = document["authorization_endpoint"]?.stringValue, let token = document["token_endpoint"]?.stringValue,
            let jwks = document["jwks_uri"]?.stringValue, [authorization, token, jwks].allSatisfy(Self.isAcceptableEndpoint)
        else { throw .providerUnavailable("its discovery document lacks an endpoint or uses plain http") }
        if let methods = document["code_challenge_methods_supported"]?.arrayValue, !methods.contains(.string("S256")) {
            throw .providerUnavailable("it does not support PKCE with S256")
        }
        let value = Metadata(authorizationEndpoint: authorization, tokenEndpoint: token, jwksURI: jwks)
        metadata[provider.id] = (value, now)
        return value
    }

    /// The provider's key set; `refresh` asks for a new copy (a token named an unknown key).
    func keys(_ provider: SignInProvider, refresh: Bool, now: Date) async throws(ExternalSignInError) -> JSONValue {
        if let cached = keys[provider.id], !refresh || now.timeIntervalSince(cached.fetchedAt) < Self.keyRefreshInterval { return cached.value }
        let set = try await fetchJSON(try await metadata(provider, now: now).jwksURI)
        guard set["keys"]?.arrayValue != nil else { throw .providerUnavailable("its key set is not a JWKS") }
        keys[provider.id] = (set, now)
        return set
    }

    /// Exchanges an authorization code for tokens (client_secret_basic, with the PKCE verifier)
    /// and returns the ID token.
    func idToken(
        _ provider: SignInProvider, code: String, redirectURI: String, codeVerifier: String, now: Date
    ) async throws(ExternalSignInError) -> String {
        let endpoint = try await metadata(provider, now: now).tokenEndpoint
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = "\(Self.formEncode(provider.clientID)):\(Self.formEncode(provider.clientSecret))"
        request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", codeVerifier)]
        request.body = .bytes(ByteBuffer(string: form.map { "\($0)=\(Self.formEncode($1))" }.joined(separator: "&")))
        let (status, body) = try await send(request)
        guard let answer = try? SignedJSON.parse(body.readableBytesView) else { throw .providerUnavailable("the token endpoint did not answer JSON") }
        guard status == 200 else {
            throw .providerDeclined(answer["error_description"]?.stringValue ?? answer["error"]?.stringValue ?? "HTTP \(status)")
        }
        guard let idToken = answer["id_token"]?.stringValue else { throw .invalidToken("the provider sent no ID token") }
        return idToken
    }

    private func fetchJSON(_ url: String) async throws(ExternalSignInError) -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let (status, body) = try await send(request)
        guard status == 200, let value = try? SignedJSON.parse(body.readableBytesView) else {
            throw .providerUnavailable("\(url) answered HTTP \(status)")
        }
        return value
    }

    private func send(_ request: HTTPClientRequest) async throws(ExternalSignInError) -> (UInt, ByteBuffer) {
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: Self.timeout)
            return (response.status.code, try await response.body.collect(upTo: Self.maximumResponseBytes))
        } catch {
            throw .providerUnavailable(String(describing: error).prefix(200).description)
        }
    }

    static func isAcceptableEndpoint(_ text: String) -> Bool {
        guard let url = URL(string: text), let host = url.host else { return false }
        return url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host))
    }

    /// `application/x-www-form-urlencoded` for one value (RFC 6749 appendix B).
    static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? ""
    }
}
