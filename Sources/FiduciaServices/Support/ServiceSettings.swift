import FiduciaDomain
import Foundation

/// Business settings that every Fiducia server of one deployment must agree on.
public struct ServiceSettings: Sendable, Equatable {
    /// bcrypt work factor for passwords (12 in production; tests use 4 for speed).
    public var bcryptCost: UInt8 = 12
    public var browserSessionLifetimeSeconds: TimeInterval = 30 * 24 * 3600
    public var bearerSessionLifetimeSeconds: TimeInterval = 30 * 24 * 3600
    /// A session not used for this long ends, whatever its lifetime (both kinds).
    public var sessionIdleSeconds: TimeInterval = 7 * 24 * 3600
    /// How long an idempotency key and its stored response are kept.
    public var idempotencyRetentionSeconds: TimeInterval = 24 * 3600
    /// How long a claimed idempotency key stays locked if its server dies mid-request.
    public var idempotencyLockSeconds: TimeInterval = 60
    /// Days after a trade ends in which both parties may rate (then whatever exists is published).
    public var ratingWindowDays = RatingRules.defaultWindowDays
    /// Orders, escrow timeouts, fees and the micro-payment limit.
    public var escrow = EscrowSettings()
    /// Dispute deadlines.
    public var disputes = DisputeSettings()
    /// The currency deposits are valued in for the credit score, and rates into it.
    public var exchangeRates = ExchangeRates(reference: Currency("EUR")!)
    /// Which payment provider moves money in and out.
    public var paymentProvider = PaymentProviderChoice.sandbox
    /// How long after a card charge starts its reconciliation runs, if the charge has not
    /// finished by then (a crash, a silent provider).
    public var chargeReconcileSeconds: TimeInterval = 120
    /// A server checks for newly published ratings at most this often when asked for trust values.
    public var trustFreshnessSeconds: TimeInterval = 0.5
    /// Uploads never attached to anything are forgotten after this long.
    public var staleUploadSeconds: TimeInterval = 24 * 3600
    /// Sign-up needs an invitation code (A3).
    public var inviteOnly = false
    /// Where mail goes (verification codes).
    public var mail = MailSettings()
    /// The address people reach this Fiducia at: seals and credentials name it.
    public var publicURL = "http://127.0.0.1:8080"
    /// OpenID providers people may sign in with (E5).
    public var signInProviders: [SignInProvider] = []
    /// The fraud feed shared with partner platforms (D6).
    public var fraudFeed = FraudFeedSettings()

    public init() {}
}

/// The fraud feed: the key partners share for hashing identifiers (none: nothing is published or
/// matched), and the partners whose feeds are pulled, each with the Ed25519 key it signs with.
public struct FraudFeedSettings: Sendable, Equatable {
    public var key: String?
    public var partners: [FraudFeedPartner] = []
    /// How often partners' feeds are pulled.
    public var pullMinutes = 15

    public init(key: String? = nil, partners: [FraudFeedPartner] = []) {
        self.key = key
        self.partners = partners
    }
}

public struct FraudFeedPartner: Sendable, Equatable {
    /// A short name, shown to moderators with each match.
    public let name: String
    /// The partner's base URL; its feed is at `<url>/v1/fraud-feed`.
    public let url: String
    /// Base64 of the partner's Ed25519 public key, pinned.
    public let publicKey: String

    public init(name: String, url: String, publicKey: String) {
        self.name = name
        self.url = url
        self.publicKey = publicKey
    }
}

/// An OpenID Connect provider registered for this Fiducia: its issuer (discovery starts there) and
/// the client this Fiducia is at that provider. The callback is `<publicURL>/auth/<id>/callback`.
public struct SignInProvider: Sendable, Equatable {
    /// A short name used in addresses: letters, digits and dashes.
    public let id: String
    /// What the sign-in button says: "Sign in with <name>".
    public let name: String
    public let issuer: String
    public let clientID: String
    public let clientSecret: String

    public init(id: String, name: String, issuer: String, clientID: String, clientSecret: String) {
        self.id = id
        self.name = name
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}

/// The payment providers Fiducia can be configured with. Only the sandbox ships today; a real
/// acquirer is one more case and one more `PaymentProvider`.
public enum PaymentProviderChoice: String, Sendable, Equatable, CaseIterable {
    case sandbox
}
