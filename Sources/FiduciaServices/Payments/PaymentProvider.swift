import FiduciaDomain
import FiduciaPersistence
import Foundation

/// A card charge to make.
public struct ChargeRequest: Sendable, Equatable {
    /// The provider charges at most once per key, however often it is asked.
    public let idempotencyKey: String
    public let amountMinor: Int64
    public let currency: Currency
    public let cardToken: String
}

public enum ChargeOutcome: Sendable, Equatable {
    case succeeded(chargeID: String)
    case declined(reason: String)
}

/// A payout to a user's bank account.
public struct PayoutRequest: Sendable, Equatable {
    public let payoutID: PayoutID
    public let amountMinor: Int64
    public let currency: Currency
    public let destination: String
}

public enum PayoutOutcome: Sendable, Equatable {
    /// The provider took the payout; it reports the result later by webhook.
    case accepted
    case rejected(reason: String)
}

/// A verified event from a provider's webhook.
public struct PaymentEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case payoutPaid = "payout.paid"
        case payoutFailed = "payout.failed"
    }

    public let id: String
    public let type: Kind
    public let payoutId: String
    public let reason: String?
    public let created: Int64

    public init(id: String, type: Kind, payoutId: String, reason: String?, created: Int64) {
        self.id = id
        self.type = type
        self.payoutId = payoutId
        self.reason = reason
        self.created = created
    }
}

/// Why a webhook was refused.
public enum WebhookError: DomainError, Equatable {
    case unknownProvider(String)
    case missingSignature
    case badSignature
    case stale(ageSeconds: Int64)
    case malformed(String)

    public var kind: FailureKind {
        switch self {
        case .unknownProvider: .notFound
        case .missingSignature, .badSignature: .unauthenticated
        case .stale, .malformed: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .unknownProvider: "not-found"
        case .missingSignature, .badSignature: "webhook-signature-invalid"
        case .stale: "webhook-stale"
        case .malformed: "malformed-request"
        }
    }

    public var title: String {
        switch self {
        case .unknownProvider: "Not found"
        case .missingSignature, .badSignature: "Webhook signature invalid"
        case .stale: "Webhook too old"
        case .malformed: "Malformed request"
        }
    }

    public var detail: String {
        switch self {
        case .unknownProvider(let name): "There is no payment provider named \(name)."
        case .missingSignature: "The webhook has no signature header."
        case .badSignature: "The webhook's signature does not match its body."
        case .stale(let age): "The webhook was signed \(age) seconds ago, outside the 5-minute tolerance; it may be a replay."
        case .malformed(let reason): "The webhook could not be read: \(reason)."
        }
    }
}

/// How money enters and leaves Fiducia. Real providers (card acquirers, banks) implement this;
/// Fiducia ships the `SandboxPaymentProvider` for development and tests.
public protocol PaymentProvider: Sendable {
    var name: String { get }
    /// Charges a card, at most once per idempotency key.
    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome
    /// Returns a charge's money to the card (used when a charge could not be recorded).
    func refund(chargeID: String, amountMinor: Int64) async throws
    /// Starts a payout; its result arrives later as a webhook event.
    func payout(_ request: PayoutRequest) async throws -> PayoutOutcome
    /// A label for a card token ("Visa ending 4242"), or nil when the provider does not know it.
    func describeCard(_ token: String) async throws -> String?
    /// Checks a webhook's signature and age and decodes its event.
    func verifyWebhook(body: [UInt8], signature: String?, now: Date) async throws -> PaymentEvent
}
