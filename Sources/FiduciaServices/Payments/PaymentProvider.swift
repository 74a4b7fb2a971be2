import FiduciaDomain
import Foundation

/// A card charge to make.
public struct ChargeRequest: Sendable, Equatable {
    /// The provider charges at most once per key, however often it is asked.
    public let idempotencyKey: String
    public let amountMinor: Int64
    public let currency: Currency
    public let cardToken: String

    public init(idempotencyKey: String, amountMinor: Int64, currency: Currency, cardToken: String) {
        self.idempotencyKey = idempotencyKey
        self.amountMinor = amountMinor
        self.currency = currency
        self.cardToken = cardToken
    }
}

/// A refund of (part of) a charge to its card.
public struct CardRefundRequest: Sendable, Equatable, Codable {
    /// The provider refunds at most once per key.
    public let idempotencyKey: String
    public let chargeID: String
    public let amountMinor: Int64

    public init(idempotencyKey: String, chargeID: String, amountMinor: Int64) {
        self.idempotencyKey = idempotencyKey
        self.chargeID = chargeID
        self.amountMinor = amountMinor
    }
}

public enum RefundOutcome: Sendable, Equatable, Codable {
    case refunded
    /// The card cannot take the money back (closed, or the charge is unknown): it stays with
    /// Fiducia, on the payer's balance.
    case refused(reason: String)
}

/// A payout to a user's bank account.
public struct PayoutRequest: Sendable, Equatable {
    /// The provider pays out at most once per payout id.
    public let payoutID: PayoutID
    public let amountMinor: Int64
    public let currency: Currency
    public let destination: String

    public init(payoutID: PayoutID, amountMinor: Int64, currency: Currency, destination: String) {
        self.payoutID = payoutID
        self.amountMinor = amountMinor
        self.currency = currency
        self.destination = destination
    }
}

public enum PayoutOutcome: Sendable, Equatable, Codable {
    /// The provider took the payout; it reports the result later by webhook.
    case accepted
    case rejected(reason: String)
}

/// What a provider says about a card before it is saved.
public enum CardCheck: Sendable, Equatable {
    /// The provider accepted a verification (a zero-amount authorisation); the label names the card.
    case accepted(label: String)
    case declined(reason: String)
    /// The provider does not know this token.
    case unknown
}

/// How money enters and leaves Fiducia. Real providers (card acquirers, banks) implement this;
/// Fiducia ships the `SandboxPaymentProvider` for development and tests. Every call that moves
/// money is idempotent by a key, so that a call retried after a crash never moves it twice.
///
/// Calls happen outside database transactions; a provider that throws (a timeout) leaves the
/// outcome unknown, and reconciliation asks again later.
public protocol PaymentProvider: Sendable {
    var name: String { get }
    /// Charges a card, at most once per idempotency key.
    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome
    /// What became of the charge made under this key, if any (`.notFound` when none was made).
    func findCharge(idempotencyKey: String) async throws -> ChargeOutcome
    /// Returns (part of) a charge to its card, at most once per key.
    func refund(_ request: CardRefundRequest) async throws -> RefundOutcome
    /// Starts a payout, at most once per payout id; its result arrives later as a webhook event.
    func payout(_ request: PayoutRequest) async throws -> PayoutOutcome
    /// Verifies a card before it is saved.
    func verifyCard(_ token: String) async throws -> CardCheck
    /// Checks a webhook's signature and age and decodes its event.
    func verifyWebhook(body: [UInt8], signature: String?, now: Date) async throws -> PaymentEvent
}
