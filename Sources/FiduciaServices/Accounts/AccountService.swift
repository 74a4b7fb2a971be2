import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Sign-up, log-in, log-out, authentication and API clients (A1).
public struct AccountService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let random: any RandomSource
    let passwords: any PasswordHasher
    let settings: ServiceSettings

    /// Session tokens and API keys have distinct prefixes so that a leaked secret is recognisable
    /// (and so that secret scanners can find them).
    public static let sessionTokenPrefix = "fs_"
    public static let apiKeyPrefix = "fk_"

    public init(store: Store, clock: any WallClock, random: any RandomSource, passwords: any PasswordHasher, settings: ServiceSettings) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.random = random
        self.passwords = passwords
        self.settings = settings
    }

    // MARK: Sign-up and users

    /// Creates a user after checking the request against who is asking. When sign-up is by
    /// invitation only, a person signing themself up needs an unused code (API clients and
    /// administrators creating accounts do not).
    ///
    /// A person signing themself up accepts the privacy notice in force (the sign-up form shows it);
    /// an API client or administrator creating an account says which version the person accepted
    /// with `privacyNoticeVersion`, or the person is asked at their first sign-in.
    public func signUp(
        _ request: AccountRules.NewUser, invitationCode: String? = nil, privacyNoticeVersion: Int? = nil, by principal: Principal
    ) async throws -> User {
        let valid = try AccountRules.validate(request, by: principal)
        if let version = privacyNoticeVersion, version != PrivacyNotice.current.version {
            throw DataRightsError.noticeNotCurrent(current: PrivacyNotice.current.version)
        }
        let acceptsNotice = privacyNoticeVersion != nil || principal == .anonymous
        let code = invitationCode.flatMap { $0.trimmingWhitespace().isEmpty ? nil : $0 }
        if settings.inviteOnly, principal == .anonymous, code == nil { throw InvitationError.invitationRequired }
        // Hash before the transaction: bcrypt is slow and must not hold the database's write lock.
        var passwordHash: String?
        if let password = valid.password { passwordHash = try await passwords.hash(password) }
        let storedHash = passwordHash
        let user = User(
            id: ids.make(),
            email: valid.email,
            displayName: valid.displayName,
            roles: valid.roles,
            createdAt: clock.now(),
            createdByClientID: valid.createdByClientID,
            externalID: valid.externalID
        )
        let now = clock.now()
        try await store.write { repositories in
            try await repositories.users.insert(user, passwordHash: storedHash)
            if acceptsNotice { try await repositories.privacy.accept(user.id, version: PrivacyNotice.current.version, at: now) }
            if let code { try await InvitationService.redeem(code, for: user.id, in: repositories, now: now) }
            // Staff roles are only ever granted by an administrator: each grant is on the record.
            let staff = user.roles.subtracting(Role.selfService)
            if !staff.isEmpty {
                try await AuditService.record(
                    "user.grant-roles", subject: user.id.rawValue, detail: staff.map(\.rawValue).sorted().joined(separator: ", "), by: principal, in: repositories, now: now
                )
            }
        }
        return user
    }

    /// A user by id, or `NotFoundError`.
    public func user(_ id: UserID) async throws -> User {
        guard let user = try await store.read({ try await $0.users.find(id) }) else {
            throw NotFoundError(entity: "user", id: id.rawValue)
        }
        return user
    }

    /// Users by id, for showing names beside records the caller may already see (missing ids are
    /// left out).
    public func users(_ ids: [UserID]) async throws -> [UserID: User] {
        guard !ids.isEmpty else { return [:] }
        return try await store.read { try await $0.users.find(Array(Set(ids))) }
    }

    /// Sellers anyone may order from (the checkout's list), in creation order.
    public func sellers(limit: Int = 100) async throws -> [User] {
        try await store.read { try await $0.users.list(role: .seller, after: nil, limit: min(limit, 500)) }
    }

    /// How many people have an account (the home page).
    public func memberCount() async throws -> Int {
        try await store.read { try await $0.users.count() }
    }

    /// Users in creation order; staff only.
    public func listUsers(role: Role?, page: PageRequest, by principal: Principal) async throws -> Page<User> {
        _ = try principal.requireRole(.admin, .moderator)
        let fetched = try await store.read {
            try await $0.users.list(role: role, after: page.after.map(UserID.init), limit: page.limit + 1)
        }
        return Page(fetched: fetched, limit: page.limit, identifier: \.id.rawValue)
    }

    /// An administrator sets another user's roles (granting or removing staff roles, for instance
    /// before a staff member deletes their account). Nobody changes their own roles, so an
    /// administrator cannot lock the last administrator out by mistake; every change is audited.
    public func setRoles(of userID: UserID, to roles: Set<Role>, by principal: Principal) async throws -> User {
        let admin = try principal.requireRole(.admin)
        guard admin.id != userID else { throw AccessError.forbidden("Another administrator changes your roles.") }
        guard !roles.isEmpty else { throw ValidationError(field: "roles", "Give at least one role.") }
        let now = clock.now()
        return try await store.write { repositories in
            guard var user = try await repositories.users.find(userID), user.deletedAt == nil else { throw NotFoundError(entity: "user", id: userID.rawValue) }
            let before = user.sortedRoles.map(\.rawValue).joined(separator: ", ")
            user.roles = roles
            try await repositories.users.updateRoles(user.id, roles: roles)
            try await AuditService.record(
                "user.set-roles", subject: user.id.rawValue, detail: "\(before) → \(user.sortedRoles.map(\.rawValue).joined(separator: ", "))",
                by: principal, in: repositories, now: now
            )
            return user
        }
    }

    /// Creates the first administrator, or makes an existing user an administrator and sets their
    /// password. Used by `fiducia admin create`.
    public func ensureAdministrator(email: String, password: String, displayName: String) async throws -> (user: User, created: Bool) {
        let normalized = AccountRules.normalizeEmail(email)
        if let existing = try await store.read({ try await $0.users.findCredentials(email: normalized) }) {
            var validator = Validator()
            validator.check(AccountRules.isAcceptablePassword(password), field: "password", AccountRules.passwordRule)
            try validator.throwIfInvalid()
            let hash = try await passwords.hash(password)
            var promoted = existing.user
            promoted.roles.insert(.admin)
            let user = promoted
            let now = clock.now()
            try await store.write { repositories in
                try await repositories.users.updateRoles(user.id, roles: user.roles)
                try await repositories.users.updatePassword(user.id, passwordHash: hash)
                // A new password ends every session the old one opened: whoever knew it is out.
                _ = try await repositories.sessions.revokeAll(of: user.id, at: now)
                try await AuditService.record("user.grant-roles", subject: user.id.rawValue, detail: "admin, new password (fiducia admin create)",
                                              actor: "operator", in: repositories, now: now)
            }
            return (user, false)
        }
        let bootstrap = Principal.user(
            User(id: UserID("usr_bootstrap"), email: "", displayName: "bootstrap", roles: [.admin], createdAt: clock.now()),
            session: SessionID("ses_bootstrap")
        )
        let user = try await signUp(
            .init(email: email, password: password, displayName: displayName, roles: [.admin]),
            by: bootstrap
        )
        return (user, true)
    }

    // MARK: Sessions

    /// Checks the password and opens a session. The same error is thrown for an unknown email and
    /// a wrong password, after the same amount of work, so that log-in does not reveal who has an account.
    /// `client` is the caller's address (nil when unknown: all such callers share one count).
    public func logIn(email: String, password: String, kind: Session.Kind, from client: String? = nil) async throws -> (session: Session, token: String, user: User) {
        let client = client ?? "unknown"
        let normalized = AccountRules.normalizeEmail(email)
        let now = clock.now()
        // Every attempt counts as a failure until it succeeds, and the count and the record are one
        // step per address: a burst of concurrent guesses gets exactly the allowed number checked.
        // Checked before the password, so that guessing stops being possible, not just visible.
        // Committed apart from the request, so that a failed request still counts, and before
        // the password hash is checked, which must never hold the database's write lock.
        try await store.writeApart { repositories in
            try await repositories.sessions.lockLogInAttempts(email: normalized, client: client)
            let since = now.addingTimeInterval(-AccountRules.logInFailureWindowSeconds)
            let failures = try await repositories.sessions.failedLogIns(email: normalized, client: client, since: since)
            guard AccountRules.mayAttemptLogIn(failures) else { throw AccessError.tooManyLogInAttempts }
            try await repositories.sessions.recordFailedLogIn(email: normalized, client: client, at: now)
        }
        let found = try await store.read { try await $0.users.findCredentials(email: normalized) }
        let correct: Bool
        if let hash = found?.passwordHash {
            correct = try await passwords.verify(password, hash: hash)
        } else {
            try await passwords.verifyDecoy(password)
            correct = false
        }
        guard let found, correct else { throw AccessError.invalidCredentials }
        let (session, token) = newSession(for: found.user.id, kind: kind, now: now)
        try await store.write { repositories in
            try await repositories.sessions.insert(session, tokenHash: SecretToken.hash(token))
            try await repositories.sessions.clearFailedLogIns(email: normalized)
        }
        return (session, token, found.user)
    }

    /// A session for someone whose identity was established another way (an OpenID provider),
    /// inserted by the caller in its own transaction.
    func newSession(for user: UserID, kind: Session.Kind, now: Date) -> (session: Session, token: String) {
        let lifetime = kind == .browser ? settings.browserSessionLifetimeSeconds : settings.bearerSessionLifetimeSeconds
        let session = Session(id: ids.make(), userID: user, kind: kind, createdAt: now, expiresAt: now.addingTimeInterval(lifetime))
        return (session, SecretToken.make(prefix: Self.sessionTokenPrefix, random: random))
    }

    public func logOut(_ session: SessionID) async throws {
        let now = clock.now()
        try await store.write { try await $0.sessions.revoke(session, at: now) }
    }

    /// Who a bearer token (a session token or an API key) belongs to. `onBehalfOf` lets an API client
    /// act for one of the users it created.
    public func authenticate(bearer token: String, onBehalfOf: String?) async throws -> Principal {
        let now = clock.now()
        let hash = SecretToken.hash(token)
        if token.hasPrefix(Self.apiKeyPrefix) {
            return try await store.read { repositories in
                guard let client = try await repositories.apiClients.findActive(keyHash: hash) else { throw AccessError.invalidToken }
                guard let onBehalfOf else { return .apiClient(client, actingFor: nil) }
                guard let user = try await repositories.users.find(UserID(onBehalfOf)), user.createdByClientID == client.id else {
                    throw AccessError.onBehalfNotAllowed
                }
                guard user.deletedAt == nil else { throw DataRightsError.accountDeleted }
                return .apiClient(client, actingFor: user)
            }
        }
        guard onBehalfOf == nil else { throw AccessError.onBehalfNotAllowed }
        return try await sessionPrincipal(hash: hash, kind: .bearer, now: now) ?? { throw AccessError.invalidToken }()
    }

    /// Who a browser session cookie belongs to, or nil if it is unknown or expired.
    public func authenticate(cookie token: String) async throws -> Principal? {
        try await sessionPrincipal(hash: SecretToken.hash(token), kind: .browser, now: clock.now())
    }

    private func sessionPrincipal(hash: String, kind: Session.Kind, now: Date) async throws -> Principal? {
        let idleSince = now.addingTimeInterval(-settings.sessionIdleSeconds)
        let found = try await store.read { repositories -> (Session, User)? in
            guard let session = try await repositories.sessions.findActive(tokenHash: hash, at: now, idleSince: idleSince), session.kind == kind,
                let user = try await repositories.users.find(session.userID), user.deletedAt == nil
            else { return nil }
            return (session, user)
        }
        guard let (session, user) = found else { return nil }
        // Use is recorded at most once per touch interval, so that an active session costs a
        // write every few minutes, not one per request.
        if now.timeIntervalSince(session.lastUsedAt) >= Self.sessionTouchIntervalSeconds {
            try await store.writeApart { try await $0.sessions.touch(session.id, at: now) }
        }
        return .user(user, session: session.id)
    }

    /// How stale a session's recorded last use may get before a request records it again.
    static let sessionTouchIntervalSeconds: TimeInterval = 300

    // MARK: API clients

    /// Registers an API client; administrators only. The key is returned once and never stored.
    public func createAPIClient(name: String, by principal: Principal) async throws -> (client: APIClient, key: String) {
        let admin = try principal.requireRole(.admin)
        let name = name.trimmingWhitespace()
        guard (1...80).contains(name.codePointCount) else { throw AccountError.apiClientNameInvalid }
        let client = APIClient(id: ids.make(), name: name, createdAt: clock.now())
        let key = SecretToken.make(prefix: Self.apiKeyPrefix, random: random)
        try await store.write { try await $0.apiClients.insert(client, keyHash: SecretToken.hash(key), createdBy: admin.id) }
        return (client, key)
    }
}
