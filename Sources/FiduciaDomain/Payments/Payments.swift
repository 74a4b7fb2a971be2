import Foundation

public typealias PayoutID = Identifier<Payout>
public typealias StatementID = Identifier<Statement>

/// Money leaving Fiducia for a user's bank account, through the payment provider. While the
/// provider works on it, the amount is held (a pending transfer); the provider's webhook posts or voids it.
public struct Payout: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "pay"

    public enum Status: String, Sendable { case pending, paid, failed }

    public let id: PayoutID
    public let userID: UserID
    public let currency: Currency
    public let amountMinor: Int64
    public let destination: String
    public var status: Status
    public var failureReason: String?
    public let createdAt: Date
    /// When the provider accepted the payout (the submission job ran).
    public var submittedAt: Date?
    public var settledAt: Date?

    public static let destinationLength = 1...80

    public init(id: PayoutID, userID: UserID, currency: Currency, amountMinor: Int64, destination: String, status: Status = .pending,
                failureReason: String? = nil, createdAt: Date, submittedAt: Date? = nil, settledAt: Date? = nil) {
        self.id = id
        self.userID = userID
        self.currency = currency
        self.amountMinor = amountMinor
        self.destination = destination
        self.status = status
        self.failureReason = failureReason
        self.createdAt = createdAt
        self.submittedAt = submittedAt
        self.settledAt = settledAt
    }

    /// The reference of the hold on the user's balance while the payout is in flight.
    public var holdReference: String { "payout:\(id):hold" }
}

/// A buyer's monthly statement of small purchases (B5), paid with one charge when the month closes.
public struct Statement: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "stm"

    public enum Status: String, Sendable { case open, paid, failed }

    public let id: StatementID
    public let buyerID: UserID
    public let currency: Currency
    /// `YYYY-MM`, in UTC.
    public let month: String
    public var status: Status
    public var totalMinor: Int64
    public var itemCount: Int
    public var failureReason: String?
    public let createdAt: Date
    public var settledAt: Date?

    public init(id: StatementID, buyerID: UserID, currency: Currency, month: String, status: Status = .open, totalMinor: Int64 = 0,
                itemCount: Int = 0, failureReason: String? = nil, createdAt: Date, settledAt: Date? = nil) {
        self.id = id
        self.buyerID = buyerID
        self.currency = currency
        self.month = month
        self.status = status
        self.totalMinor = totalMinor
        self.itemCount = itemCount
        self.failureReason = failureReason
        self.createdAt = createdAt
        self.settledAt = settledAt
    }
}

/// A card the user saved so that statements can be charged without asking again.
public struct SavedCard: Sendable, Equatable {
    public let token: String
    public let label: String

    public init(token: String, label: String) {
        self.token = token
        self.label = label
    }
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


public typealias ChargeAttemptID = Identifier<ChargeAttempt>

/// One attempt to charge a card, recorded before the provider is asked, so that a crash between
/// the charge and its effect (an order paid, a deposit placed, a statement settled) is found and
/// finished by the reconciliation job: the charge is applied, or refunded, never lost.
public struct ChargeAttempt: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "chg"

    /// What the charge pays for.
    public enum Purpose: String, Sendable, CaseIterable { case order, deposit, statement }

    public enum State: String, Sendable {
        /// Recorded; the provider may or may not have charged yet.
        case pending
        /// Charged and applied.
        case succeeded
        /// The provider declined: nothing was charged.
        case declined
        /// Charged, but the effect was no longer possible (the order was cancelled meanwhile):
        /// the charge is being refunded by a job.
        case refunding
        /// The provider never charged (the server died before asking).
        case abandoned

        public var isFinal: Bool { self != .pending }
    }

    public let id: ChargeAttemptID
    public let purpose: Purpose
    /// The order, deposit or statement the charge pays for.
    public let subjectID: String
    public let userID: UserID
    public let amountMinor: Int64
    public let currency: Currency
    public let cardToken: String
    public var state: State
    public var chargeID: String?
    public var failureReason: String?
    public let createdAt: Date
    public var settledAt: Date?

    public init(id: ChargeAttemptID, purpose: Purpose, subjectID: String, userID: UserID, amountMinor: Int64, currency: Currency, cardToken: String,
                state: State = .pending, chargeID: String? = nil, failureReason: String? = nil, createdAt: Date, settledAt: Date? = nil) {
        self.id = id
        self.purpose = purpose
        self.subjectID = subjectID
        self.userID = userID
        self.amountMinor = amountMinor
        self.currency = currency
        self.cardToken = cardToken
        self.state = state
        self.chargeID = chargeID
        self.failureReason = failureReason
        self.createdAt = createdAt
        self.settledAt = settledAt
    }

    /// The key the provider charges at most once for: the attempt itself.
    public var idempotencyKey: String { "charge:\(id)" }
}

/// What a payment provider says about a charge.
public enum ChargeOutcome: Sendable, Equatable, Codable {
    case succeeded(chargeID: String)
    case declined(reason: String)
    /// The provider has no charge under this key (only a reconciliation asks).
    case notFound
}
