import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Sign-in with an external account (E5): OpenID Connect's authorization-code flow with PKCE,
/// `state` and `nonce`. Attempts live in the database, so the server that receives the callback
/// need not be the one that started; each attempt is used once.
public struct ExternalSignInService: Sendable {
    let store: Store
    let clock: any WallClock
    let random: any RandomSource
    let ids: IdentifierGenerator
    let providers: [SignInProvider]
    let publicURL: String
    let accounts: AccountService
    let client: OpenIDClient

    init(store: Store, clock: any WallClock, random: any RandomSource, settings: ServiceSettings, accounts: AccountService, client: OpenIDClient) {
        self.store = store
        self.clock = clock
        self.random = random
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.providers = settings.signInProviders
        self.publicURL = settings.publicURL
        self.accounts = accounts
        self.client = client
    }

    /// The configured providers, for the sign-in buttons.
    public var available: [SignInProvider] { providers }

    func provider(_ id: String) throws(ExternalSignInError) -> SignInProvider {
        guard let found = providers.first(where: { $0.id == id }) else { throw .unknownProvider(id) }
        return found
    }

    public func redirectURI(for provider: SignInProvider) -> String { "\(publicURL)/auth/\(provider.id)/callback" }

    public struct Started: Sendable {
        /// Where to send the browser.
        public let authorizationURL: String
        /// A secret for a short-lived cookie of this browser; the callback must bring it back.
        public let browserSecret: String
    }

    /// Starts a sign-in (anyone) or a link (the signed-in person) at `providerID`.
    public func begin(
        _ providerID: String, purpose: ExternalSignInAttempt.Purpose, invitationCode: String? = nil, by principal: Principal
    ) async throws -> Started {
        let provider = try provider(providerID)
        let userID: UserID? = purpose == .link ? try principal.requireUser().id : nil
        let now = clock.now()
        let metadata = try await client.metadata(provider, now: now)
        let state = SecretToken.base64URL(random.bytes(32))
        let browserSecret = SecretToken.base64URL(random.bytes(32))
        let attempt = ExternalSignInAttempt(
            id: store.sealer.lookupHash("oidc-state:" + state), provider: provider.id, purpose: purpose, userID: userID,
            nonce: SecretToken.base64URL(random.bytes(24)), codeVerifier: SecretToken.base64URL(random.bytes(48)),
            browserHash: store.sealer.lookupHash("oidc-browser:" + browserSecret),
            invitationCode: invitationCode.flatMap { $0.trimmingWhitespace().isEmpty ? nil : $0.trimmingWhitespace() },
            createdAt: now, expiresAt: now.addingTimeInterval(ExternalSignInRules.attemptLifetimeSeconds)
        )
        try await store.write { repositories in
            try await repositories.externalAccounts.deleteAttempts(expiredBefore: now)
            try await repositories.externalAccounts.insertAttempt(attempt)
        }
        var url = URLComponents(string: metadata.authorizationEndpoint)!
        url.queryItems = (url.queryItems ?? []) + [
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "client_id", value: provider.clientID),
            URLQueryItem(name: "redirect_uri", value: redirectURI(for: provider)),
            URLQueryItem(name: "scope", value: "openid email profile"),
            URLQueryItem(name: "state", value: state),
            URLQueryItem(name: "nonce", value: attempt.nonce),
            URLQueryItem(name: "code_challenge", value: PKCE.challenge(for: attempt.codeVerifier)),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        // `+` is legal in a query but some servers read it as a space: encode it.
        url.percentEncodedQuery = url.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return Started(authorizationURL: url.string!, browserSecret: browserSecret)
    }

    public enum Outcome: Sendable {
        case signedIn(user: User, session: Session, token: String, newAccount: Bool)
        case linked(user: User, provider: SignInProvider)
    }

    /// What the provider's redirect carried back.
    public struct Callback: Sendable {
        public var state: String?
        public var code: String?
        public var error: String?
        public var errorDescription: String?
        /// RFC 9207: the issuer that answered, when the provider says.
        public var issuer: String?
        public var browserSecret: String?

        public init(state: String?, code: String?, error: String?, errorDescription: String?, issuer: String?, browserSecret: String?) {
            self.state = state
            self.code = code
            self.error = error
            self.errorDescription = errorDescription
            self.issuer = issuer
            self.browserSecret = browserSecret
        }
    }

    /// Finishes an attempt: checks it was started in this browser and not used, exchanges the
    /// code, verifies the ID token, then links the account or signs the person in (creating an
    /// account for a new, verified e-mail address). The attempt is spent first, whatever follows;
    /// nothing else is written unless every check holds.
    public func complete(_ providerID: String, _ callback: Callback) async throws -> Outcome {
        let provider = try provider(providerID)
        let now = clock.now()
        guard let state = callback.state, let secret = callback.browserSecret else { throw ExternalSignInError.attemptNotValid }
        let sealer = store.sealer
        // Taking the attempt deletes it: a replayed callback finds nothing, whatever happens next.
        let attempt = try await store.write { try await $0.externalAccounts.takeAttempt(id: sealer.lookupHash("oidc-state:" + state)) }
        guard let attempt, attempt.provider == provider.id, attempt.expiresAt > now,
            attempt.browserHash == sealer.lookupHash("oidc-browser:" + secret)
        else { throw ExternalSignInError.attemptNotValid }
        if let error = callback.error {
            throw ExternalSignInError.providerDeclined(String((callback.errorDescription ?? error).prefix(200)))
        }
        if let issuer = callback.issuer, issuer != provider.issuer { throw ExternalSignInError.invalidToken("the answer came from another issuer") }
        guard let code = callback.code, !code.isEmpty else { throw ExternalSignInError.providerDeclined("no authorization code") }

        let token = try await client.idToken(provider, code: code, redirectURI: redirectURI(for: provider), codeVerifier: attempt.codeVerifier, now: now)
        let payload = try await verifiedPayload(token, provider: provider, now: now)
        guard let read = JSONWebToken.claims(payload) else { throw ExternalSignInError.invalidToken("a required claim is missing") }
        let claims = try ExternalSignInRules.validate(read, issuer: provider.issuer, clientID: provider.clientID, nonce: attempt.nonce, now: now)
        let subjectHash = sealer.lookupHash("oidc-subject:\(provider.id):\(claims.subject)")

        switch attempt.purpose {
        case .link:
            guard let userID = attempt.userID else { throw ExternalSignInError.attemptNotValid }
            let user = try await store.write { repositories in
                guard let user = try await repositories.users.find(userID) else { throw NotFoundError(entity: "user", id: userID.rawValue) }
                if let existing = try await repositories.externalAccounts.find(provider: provider.id, subjectHash: subjectHash) {
                    throw existing.userID == userID ? ExternalSignInError.alreadyLinked : ExternalSignInError.linkedToAnotherAccount
                }
                let account = ExternalAccount(provider: provider.id, subject: subjectHash, userID: userID, linkedAt: now)
                guard try await repositories.externalAccounts.link(account) else { throw ExternalSignInError.alreadyLinked }
                return user
            }
            return .linked(user: user, provider: provider)
        case .signIn:
            return try await signIn(claims, subjectHash: subjectHash, provider: provider, invitationCode: attempt.invitationCode, now: now)
        }
    }

    /// The ID token's payload once its signature verifies against the provider's keys, fetched
    /// again once if the token names a key we do not have (the provider rotated).
    private func verifiedPayload(_ token: String, provider: SignInProvider, now: Date) async throws -> JSONValue {
        let keys = try await client.keys(provider, refresh: false, now: now)
        do {
            return try JSONWebToken.verify(token, keys: keys)
        } catch .unknownKey {
            let fresh = try await client.keys(provider, refresh: true, now: now)
            do { return try JSONWebToken.verify(token, keys: fresh) } catch { throw ExternalSignInError.invalidToken(error.description) }
        } catch {
            throw ExternalSignInError.invalidToken(error.description)
        }
    }

    private func signIn(
        _ claims: IDTokenClaims, subjectHash: String, provider: SignInProvider, invitationCode: String?, now: Date
    ) async throws -> Outcome {
        if let linked = try await store.read({ try await $0.externalAccounts.find(provider: provider.id, subjectHash: subjectHash) }) {
            let (session, token) = accounts.newSession(for: linked.userID, kind: .browser, now: now)
            let user = try await store.write { repositories in
                guard let user = try await repositories.users.find(linked.userID) else { throw NotFoundError(entity: "user", id: linked.userID.rawValue) }
                try await repositories.sessions.insert(session, tokenHash: SecretToken.hash(token))
                return user
            }
            return .signedIn(user: user, session: session, token: token, newAccount: false)
        }
        // A new person: an account from what the provider vouches for.
        guard let email = claims.email, claims.emailVerified else { throw ExternalSignInError.emailNotVerified }
        if accounts.settings.inviteOnly, invitationCode == nil { throw InvitationError.invitationRequired }
        let valid = try AccountRules.validate(
            .init(email: email, password: nil, displayName: ExternalSignInRules.displayName(claims), roles: [.buyer]), by: .anonymous, signedInElsewhere: true
        )
        let user = User(id: ids.make(), email: valid.email, displayName: valid.displayName, roles: valid.roles, createdAt: now)
        let (session, token) = accounts.newSession(for: user.id, kind: .browser, now: now)
        try await store.write { repositories in
            if try await repositories.users.findCredentials(email: valid.email) != nil { throw ExternalSignInError.emailBelongsToAccount }
            try await repositories.users.insert(user, passwordHash: nil)
            if let invitationCode { try await InvitationService.redeem(invitationCode, for: user.id, in: repositories, now: now) }
            let account = ExternalAccount(provider: provider.id, subject: subjectHash, userID: user.id, linkedAt: now)
            guard try await repositories.externalAccounts.link(account) else { throw ExternalSignInError.linkedToAnotherAccount }
            try await repositories.sessions.insert(session, tokenHash: SecretToken.hash(token))
        }
        return .signedIn(user: user, session: session, token: token, newAccount: true)
    }

    /// The external accounts linked to the caller's account.
    public func linked(by principal: Principal) async throws -> [ExternalAccount] {
        let person = try principal.requireUser()
        return try await store.read { try await $0.externalAccounts.accounts(of: person.id) }
    }

    /// Unlinks the caller's account at `providerID`. The last way to sign in cannot be removed:
    /// without a password, someone who unlinks their only provider would be locked out.
    public func unlink(_ providerID: String, by principal: Principal) async throws {
        let person = try principal.requireUser()
        try await store.write { repositories in
            let linked = try await repositories.externalAccounts.accounts(of: person.id)
            guard linked.contains(where: { $0.provider == providerID }) else { throw ExternalSignInError.notLinked }
            let hasPassword = try await repositories.users.findCredentials(email: person.email)?.passwordHash != nil
            guard hasPassword || linked.count > 1 else { throw ExternalSignInError.lastWayToSignIn }
            _ = try await repositories.externalAccounts.unlink(user: person.id, provider: providerID)
        }
    }
}
