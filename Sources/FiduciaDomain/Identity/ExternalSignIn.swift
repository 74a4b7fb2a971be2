import Foundation

/// Sign-in with an external account (E5): OpenID Connect's authorization-code flow with PKCE.
///
/// A person starts at Fiducia, which remembers the attempt (its `state`, `nonce` and PKCE
/// verifier) in the database so that any server may finish it; the provider sends the browser back
/// with a code; Fiducia exchanges the code for an ID token and checks it (`ExternalSignInRules`)
/// before it links the account or signs the person in.
public struct ExternalSignInAttempt: Sendable, Equatable {
    public enum Purpose: String, Sendable, Codable {
        /// Sign in, or sign up when the external account is new.
        case signIn
        /// Link the external account to the signed-in person's account.
        case link
    }

    /// A keyed hash of the `state` parameter: the state itself travels only through the browser.
    public let id: String
    public let provider: String
    public let purpose: Purpose
    /// Who is linking (purpose `.link`).
    public let userID: UserID?
    public let nonce: String
    public let codeVerifier: String
    /// A keyed hash of a secret kept in a cookie of the browser that started: a callback carried
    /// to another browser (a login-CSRF or a phished link) does not match it.
    public let browserHash: String
    /// The invitation code given on the sign-up page, when sign-up is by invitation only.
    public let invitationCode: String?
    public let createdAt: Date
    public let expiresAt: Date

    public init(
        id: String, provider: String, purpose: Purpose, userID: UserID?, nonce: String, codeVerifier: String, browserHash: String,
        invitationCode: String?, createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.provider = provider
        self.purpose = purpose
        self.userID = userID
        self.nonce = nonce
        self.codeVerifier = codeVerifier
        self.browserHash = browserHash
        self.invitationCode = invitationCode
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// An external account linked to a Fiducia account: the provider and the provider's stable
/// subject identifier (`sub`), never the e-mail address, which can change hands.
public struct ExternalAccount: Sendable, Equatable {
    public let provider: String
    public let subject: String
    public let userID: UserID
    public let linkedAt: Date

    public init(provider: String, subject: String, userID: UserID, linkedAt: Date) {
        self.provider = provider
        self.subject = subject
        self.userID = userID
        self.linkedAt = linkedAt
    }
}

/// The claims of an ID token that Fiducia reads.
public struct IDTokenClaims: Sendable, Equatable {
    public var issuer: String
    public var subject: String
    public var audience: [String]
    public var authorizedParty: String?
    public var expiresAt: Date
    public var issuedAt: Date
    public var nonce: String?
    public var email: String?
    public var emailVerified: Bool
    public var name: String?

    public init(
        issuer: String, subject: String, audience: [String], authorizedParty: String? = nil, expiresAt: Date, issuedAt: Date, nonce: String?,
        email: String? = nil, emailVerified: Bool = false, name: String? = nil
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.authorizedParty = authorizedParty
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.nonce = nonce
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
    }
}

/// What an ID token must satisfy (OpenID Connect Core 1.0, 3.1.3.7) and how long an attempt lives.
public enum ExternalSignInRules {
    /// A person has this long between leaving for the provider and coming back.
    public static let attemptLifetimeSeconds: TimeInterval = 600
    /// Clocks disagree a little: tokens are accepted this long after `exp` and before `iat`.
    public static let clockSkewSeconds: TimeInterval = 120
    /// An ID token older than this is refused even if the provider gave it a long life.
    public static let maximumTokenAgeSeconds: TimeInterval = 3_600
    public static let subjectLength = 1...255

    /// Checks the claims of a token whose signature was already verified.
    public static func validate(
        _ claims: IDTokenClaims, issuer: String, clientID: String, nonce: String, now: Date
    ) throws(ExternalSignInError) -> IDTokenClaims {
        guard claims.issuer == issuer else { throw .invalidToken("it was issued by \(claims.issuer), not \(issuer)") }
        guard subjectLength.contains(claims.subject.utf8.count) else { throw .invalidToken("its subject is missing or too long") }
        guard claims.audience.contains(clientID) else { throw .invalidToken("it was not issued to this Fiducia") }
        if claims.audience.count > 1 || claims.authorizedParty != nil {
            guard claims.authorizedParty == clientID else { throw .invalidToken("it was issued to another party") }
        }
        guard now.timeIntervalSince(claims.expiresAt) < clockSkewSeconds else { throw .invalidToken("it has expired") }
        guard claims.issuedAt.timeIntervalSince(now) < clockSkewSeconds else { throw .invalidToken("it was issued in the future") }
        guard now.timeIntervalSince(claims.issuedAt) < maximumTokenAgeSeconds else { throw .invalidToken("it is too old") }
        guard claims.nonce == nonce else { throw .invalidToken("its nonce does not match this sign-in") }
        return claims
    }

    /// The display name a new account gets: the provider's `name`, else the e-mail's local part.
    public static func displayName(_ claims: IDTokenClaims) -> String {
        let name = (claims.name ?? "").trimmingWhitespace()
        if !name.isEmpty, !TextRules.containsInvisibleControls(name) { return name.prefix(codePoints: AccountRules.displayNameLength.upperBound) }
        let local = claims.email?.split(separator: "@").first.map(String.init) ?? "member"
        return local.prefix(codePoints: AccountRules.displayNameLength.upperBound)
    }
}

/// Named failures of sign-in with an external account.
public enum ExternalSignInError: DomainError, Equatable {
    case unknownProvider(String)
    /// The `state` is unknown, used, expired, or belongs to another browser.
    case attemptNotValid
    /// The provider sent the person back with an error (they declined, say).
    case providerDeclined(String)
    case providerUnavailable(String)
    case invalidToken(String)
    case emailNotVerified
    /// The provider's e-mail address belongs to an existing account: sign in and link instead.
    case emailBelongsToAccount
    case linkedToAnotherAccount
    case alreadyLinked
    case notLinked
    /// Unlinking would leave an account without a password with no way to sign in.
    case lastWayToSignIn

    public var kind: FailureKind {
        switch self {
        case .unknownProvider, .notLinked: .notFound
        case .attemptNotValid, .providerDeclined, .invalidToken, .emailNotVerified: .invalidInput
        case .providerUnavailable: .unavailable
        case .emailBelongsToAccount, .linkedToAnotherAccount, .alreadyLinked, .lastWayToSignIn: .conflict
        }
    }

    public var code: String {
        switch self {
        case .unknownProvider: "unknown-sign-in-provider"
        case .attemptNotValid: "sign-in-attempt-not-valid"
        case .providerDeclined: "sign-in-declined"
        case .providerUnavailable: "sign-in-provider-unavailable"
        case .invalidToken: "sign-in-token-invalid"
        case .emailNotVerified: "sign-in-email-not-verified"
        case .emailBelongsToAccount: "sign-in-email-has-account"
        case .linkedToAnotherAccount: "external-account-linked-elsewhere"
        case .alreadyLinked: "external-account-already-linked"
        case .notLinked: "external-account-not-linked"
        case .lastWayToSignIn: "last-way-to-sign-in"
        }
    }

    public var title: String {
        switch self {
        case .unknownProvider: "Unknown sign-in provider"
        case .attemptNotValid: "Sign-in expired or not started here"
        case .providerDeclined: "The provider did not sign you in"
        case .providerUnavailable: "Sign-in provider unavailable"
        case .invalidToken: "The provider's answer was not valid"
        case .emailNotVerified: "E-mail address not verified by the provider"
        case .emailBelongsToAccount: "E-mail address already has an account"
        case .linkedToAnotherAccount: "Linked to another account"
        case .alreadyLinked: "Already linked"
        case .notLinked: "Not linked"
        case .lastWayToSignIn: "Your only way to sign in"
        }
    }

    public var detail: String {
        switch self {
        case .unknownProvider(let id): "No sign-in provider \"\(id)\" is configured."
        case .attemptNotValid: "This sign-in was not started in this browser, was already used, or took longer than 10 minutes. Start again."
        case .providerDeclined(let reason): "The provider answered: \(reason)."
        case .providerUnavailable(let reason): "The provider could not be reached or answered unexpectedly (\(reason)). Try again later."
        case .invalidToken(let reason): "The provider's ID token was refused: \(reason)."
        case .emailNotVerified: "The provider does not vouch for the e-mail address, so no account is created from it."
        case .emailBelongsToAccount: "An account with this e-mail address exists. Log in with its password, then link the external account from your account page."
        case .linkedToAnotherAccount: "This external account is linked to another Fiducia account."
        case .alreadyLinked: "Your account is already linked to an account at this provider."
        case .notLinked: "Your account is not linked to this provider."
        case .lastWayToSignIn: "Your account has no password and no other linked provider: unlinking this one would lock you out."
        }
    }
}
