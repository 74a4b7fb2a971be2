import Foundation

public typealias OrderID = Identifier<Order>

/// Where an order is in its life. See `EscrowMachine` for the legal moves.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    /// Created; the buyer has not paid yet. Expires after the payment window.
    case created
    /// Paid: the money is held in escrow.
    case paid
    /// Shipped: still held; completes when the buyer confirms receipt or the confirmation period ends.
    case shipped
    /// Completed: the money went to the seller, minus the platform fee.
    case completed
    /// Cancelled before shipment (a paid order is refunded in full), or expired unpaid.
    case cancelled
    /// Everything held was returned to the buyer, or part of the payment after completion.
    case refunded

    /// Whether the buyer's money is held in escrow in this state.
    public var holdsEscrow: Bool { self == .paid || self == .shipped }

    public var isFinal: Bool { self == .completed || self == .cancelled || self == .refunded }
}

/// How the buyer pays.
public enum PaymentMethod: Sendable, Equatable {
    /// A card, through the payment provider (a token such as the sandbox's `tok_visa`). Once
    /// charged, `chargeID` names the provider's charge that paid the order.
    case card(token: String, chargeID: String? = nil)
    /// The buyer's Fiducia balance (refunds and sales land there).
    case balance
    /// The buyer's monthly statement of small purchases (B5), settled by `fiducia billing close`.
    /// The service opens (and locks) the month's statement and names it here.
    case statement(StatementID? = nil)

    public var name: String {
        switch self {
        case .card: "card"
        case .balance: "balance"
        case .statement: "statement"
        }
    }

    /// The kind of method an order was paid with, from its stored name.
    public enum Kind: String, Sendable { case card, balance, statement }
}

/// One line of an order.
public struct LineItem: Sendable, Equatable, Codable {
    public let title: String
    public let quantity: Int
    public let unitPriceMinor: Int64

    public init(title: String, quantity: Int, unitPriceMinor: Int64) {
        self.title = title
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
    }
}

/// A seller's after-sales promises (B7), copied into each order when it is created so that the
/// buyer keeps the terms they were shown even if the seller changes them later.
public struct AfterSalesPolicy: Sendable, Equatable, Codable {
    /// Days after completion in which the buyer may return the goods for a refund (0: no returns).
    public var returnWindowDays: Int
    /// The seller guarantees the goods are genuine.
    public var genuineGoodsGuarantee: Bool

    public init(returnWindowDays: Int, genuineGoodsGuarantee: Bool) {
        self.returnWindowDays = returnWindowDays
        self.genuineGoodsGuarantee = genuineGoodsGuarantee
    }

    /// Seven-day no-reason returns (七天无理由退货), the common default.
    public static let standard = AfterSalesPolicy(returnWindowDays: 7, genuineGoodsGuarantee: false)

    /// Under the genuine-goods guarantee, a counterfeit claim may be made this long after completion.
    public static let genuineGoodsClaimDays = 90

    public static let returnWindowRange = 0...90

    public func validated() throws(ValidationError) -> AfterSalesPolicy {
        var validator = Validator()
        validator.check(Self.returnWindowRange.contains(returnWindowDays), field: "returnWindowDays", "The return window must be 0 to 90 days.")
        try validator.throwIfInvalid()
        return self
    }
}

/// A scan or status update from the carrier (B8).
public struct TrackingEvent: Sendable, Equatable, Codable {
    public let at: Date
    public let location: String
    public let description: String

    public init(at: Date, location: String, description: String) {
        self.at = at
        self.location = location
        self.description = description
    }

    public static let locationLength = 1...120
    public static let descriptionLength = 1...300

    /// The event with its text trimmed, or the fields that are too short or too long.
    public func validated() throws(ValidationError) -> TrackingEvent {
        let location = location.trimmingWhitespace()
        let description = description.trimmingWhitespace()
        var validator = Validator()
        validator.check(Self.locationLength.contains(location.codePointCount), field: "location", "The location must be 1 to 120 characters.")
        validator.check(Self.descriptionLength.contains(description.codePointCount), field: "description", "The description must be 1 to 300 characters.")
        try validator.throwIfInvalid()
        return TrackingEvent(at: at, location: location, description: description)
    }
}

/// How and with which tracking number the goods travel.
public struct Shipment: Sendable, Equatable, Codable {
    public let carrier: String
    public let trackingNumber: String
    public var events: [TrackingEvent]

    public init(carrier: String, trackingNumber: String, events: [TrackingEvent] = []) {
        self.carrier = carrier
        self.trackingNumber = trackingNumber
        self.events = events
    }

    public static let fieldLength = 1...80
    /// An order keeps at most this many tracking events.
    public static let maximumEvents = 100
}

/// The buyer's request for a refund, which pauses automatic completion until it is settled.
public struct RefundRequest: Sendable, Equatable, Codable {
    public let amountMinor: Int64
    public let reason: String
    public let requestedAt: Date

    public init(amountMinor: Int64, reason: String, requestedAt: Date) {
        self.amountMinor = amountMinor
        self.reason = reason
        self.requestedAt = requestedAt
    }

    public static let reasonLength = 1...500
}

/// Something that happened to an order, for its timeline.
public struct OrderEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case created, paid, shipped, tracking, confirmationExtended, receiptConfirmed, autoCompleted
        case cancelled, expired, refundRequested, refunded, partlyRefunded, disputeOpened, disputeResolved
    }

    public let at: Date
    public let kind: Kind
    /// Who did it (nil for the system: timeouts).
    public let actor: UserID?
    /// A sentence for people.
    public let detail: String

    public init(at: Date, kind: Kind, actor: UserID?, detail: String) {
        self.at = at
        self.kind = kind
        self.actor = actor
        self.detail = detail
    }
}

/// A trade between a buyer and a seller, with its escrow.
public struct Order: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "ord"

    public let id: OrderID
    public let buyerID: UserID
    public let sellerID: UserID
    public let currency: Currency
    public let items: [LineItem]
    public let totalMinor: Int64
    public let policy: AfterSalesPolicy
    /// The platform fee and the guarantee fund's share of it, fixed when the order is created.
    public let feeBasisPoints: Int
    public let fundShareBasisPoints: Int
    public let createdAt: Date

    public var status: OrderStatus
    public var paymentMethod: String?
    /// The provider's charge that paid the order (card payments).
    public var paymentReference: String?
    /// Unpaid orders expire at this time.
    public var payBy: Date
    public var paidAt: Date?
    public var shipment: Shipment?
    public var shippedAt: Date?
    /// A shipped order completes automatically at this time unless the buyer asked for a refund.
    public var confirmBy: Date?
    public var confirmationExtended: Bool
    public var refundRequest: RefundRequest?
    /// Everything returned to the buyer so far, in escrow and after completion.
    public var refundedMinor: Int64
    /// How many refunds were made; while the money is held it is also the generation of the
    /// current escrow holds (each partial refund replaces them with smaller ones).
    public var refundCount: Int
    public var completedAt: Date?
    public var closedAt: Date?
    /// Escrow frozen by a dispute: nothing may release or return the money until it is settled.
    /// (Disputes set it; see the disputes feature.)
    public var escrowFrozen: Bool
    public var timeline: [OrderEvent]
    /// The versions of the published trade rules and after-sales templates in force when the order
    /// was created (F2); nil for orders from before rules were versioned.
    public var rulesVersions: RulesVersions?

    public init(
        id: OrderID, buyerID: UserID, sellerID: UserID, currency: Currency, items: [LineItem], totalMinor: Int64,
        policy: AfterSalesPolicy, feeBasisPoints: Int, fundShareBasisPoints: Int, createdAt: Date, status: OrderStatus = .created,
        paymentMethod: String? = nil, paymentReference: String? = nil, payBy: Date, paidAt: Date? = nil, shipment: Shipment? = nil, shippedAt: Date? = nil,
        confirmBy: Date? = nil, confirmationExtended: Bool = false, refundRequest: RefundRequest? = nil, refundedMinor: Int64 = 0,
        refundCount: Int = 0, completedAt: Date? = nil, closedAt: Date? = nil, escrowFrozen: Bool = false, timeline: [OrderEvent] = []
    ) {
        self.id = id
        self.buyerID = buyerID
        self.sellerID = sellerID
        self.currency = currency
        self.items = items
        self.totalMinor = totalMinor
        self.policy = policy
        self.feeBasisPoints = feeBasisPoints
        self.fundShareBasisPoints = fundShareBasisPoints
        self.createdAt = createdAt
        self.status = status
        self.paymentMethod = paymentMethod
        self.paymentReference = paymentReference
        self.payBy = payBy
        self.paidAt = paidAt
        self.shipment = shipment
        self.shippedAt = shippedAt
        self.confirmBy = confirmBy
        self.confirmationExtended = confirmationExtended
        self.refundRequest = refundRequest
        self.refundedMinor = refundedMinor
        self.refundCount = refundCount
        self.completedAt = completedAt
        self.closedAt = closedAt
        self.escrowFrozen = escrowFrozen
        self.timeline = timeline
    }

    public var money: Money { Money(amountMinor: totalMinor, currency: currency) }

    /// How the order was paid, once it was.
    public var paymentKind: PaymentMethod.Kind? { paymentMethod.flatMap(PaymentMethod.Kind.init(rawValue:)) }

    /// What escrow holds for this order now: the payment minus what was returned, while it is held.
    public var heldMinor: Int64 { status.holdsEscrow ? totalMinor - refundedMinor : 0 }

    /// What may still be returned to the buyer: what they paid minus what they got back.
    public var refundableMinor: Int64 { paidAt == nil ? 0 : totalMinor - refundedMinor }

    /// The last moment the buyer may return goods after completion.
    public var returnDeadline: Date? {
        completedAt.map { $0.addingTimeInterval(Double(policy.returnWindowDays) * 86_400) }
    }

    /// In words, what happens to the buyer's money now (shown on the order page).
    public var escrowSummary: String {
        let returned = Money.format(refundedMinor, currency)
        switch status {
        case .created: return "Not paid yet. When you pay, the money is held in escrow, not sent to the seller."
        case .paid, .shipped:
            if escrowFrozen { return "The payment is frozen in escrow while a dispute is settled." }
            let held = "\(Money.format(heldMinor, currency)) is held in escrow until the buyer confirms receipt."
            return refundedMinor > 0 ? "\(returned) was returned to the buyer; \(held)" : "The payment is held in escrow until the buyer confirms receipt."
        case .completed:
            return refundedMinor > 0 ? "\(returned) was returned to the buyer; the rest was released to the seller." : "The payment was released to the seller."
        case .cancelled: return paidAt == nil ? "The order was cancelled before payment." : "The order was cancelled and the payment returned to the buyer."
        case .refunded:
            return refundedMinor == totalMinor ? "The payment was returned to the buyer." : "\(returned) was returned to the buyer; the rest went to the seller."
        }
    }
}

/// A request to create an order, as received.
public struct NewOrder: Sendable, Equatable {
    public var sellerID: UserID
    public var currency: String
    public var items: [LineItem]

    public init(sellerID: UserID, currency: String, items: [LineItem]) {
        self.sellerID = sellerID
        self.currency = currency
        self.items = items
    }

    /// Checks the request against the currency's limits (`MoneyLimits`) and computes the total
    /// with checked arithmetic.
    public func validated() throws -> (currency: Currency, totalMinor: Int64) {
        var validator = Validator()
        let currency = Currency(currency)
        validator.check(currency != nil, field: "currency", "The currency must be an ISO 4217 code such as EUR.")
        let limits = currency?.limits
        validator.check((1...MoneyLimits.maximumItems).contains(items.count), field: "items", "An order has 1 to \(MoneyLimits.maximumItems) items.")
        var total: Int64? = 0
        for (index, item) in items.enumerated() {
            let title = item.title.trimmingWhitespace()
            validator.check((1...200).contains(title.codePointCount), field: "items[\(index)].title", "Each item needs a title of 1 to 200 characters.")
            validator.check((1...MoneyLimits.maximumQuantity).contains(item.quantity), field: "items[\(index)].quantity", "The quantity must be 1 to \(MoneyLimits.maximumQuantity).")
            validator.check(item.unitPriceMinor >= 1, field: "items[\(index)].unitPriceMinor", "The unit price must be a positive number of minor units.")
            total = total.flatMap { item.unitPriceMinor.multipliedChecked(by: Int64(max(0, item.quantity))).flatMap($0.addingChecked) }
        }
        try validator.throwIfInvalid()
        // The ceilings of the currency: the document states the highest of all currencies.
        var rules = Validator()
        if let limits {
            for (index, item) in items.enumerated() {
                rules.check(
                    item.unitPriceMinor <= limits.maximumUnitPriceMinor, field: "items[\(index)].unitPriceMinor",
                    "The unit price may be at most \(limits.maximumUnitPriceMinor) minor units of \(currency!.code)."
                )
            }
            if rules.errors.isEmpty {
                rules.check(
                    total.map { $0 <= limits.maximumOrderTotalMinor } ?? false, field: "items",
                    "The order total may be at most \(Money.format(limits.maximumOrderTotalMinor, currency!))."
                )
            }
        }
        try rules.throwIfRuleNotMet()
        return (currency!, total!)
    }
}
