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
    /// Refunded, in full or in part, after shipment.
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
    case statement

    public var name: String {
        switch self {
        case .card: "card"
        case .balance: "balance"
        case .statement: "statement"
        }
    }
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
}

/// The buyer's request for a refund, which stops automatic completion until it is settled.
public struct RefundRequest: Sendable, Equatable, Codable {
    public let amountMinor: Int64
    public let reason: String
    public let requestedAt: Date

    public init(amountMinor: Int64, reason: String, requestedAt: Date) {
        self.amountMinor = amountMinor
        self.reason = reason
        self.requestedAt = requestedAt
    }
}

/// Something that happened to an order, for its timeline.
public struct OrderEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case created, paid, shipped, tracking, confirmationExtended, receiptConfirmed, autoCompleted
        case cancelled, expired, refundRequested, refunded
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
    public var refundedMinor: Int64
    public var completedAt: Date?
    public var closedAt: Date?
    /// Escrow frozen by a dispute: nothing may release or return the money until it is settled.
    /// (Disputes set it; see the disputes feature.)
    public var escrowFrozen: Bool
    public var timeline: [OrderEvent]

    public init(
        id: OrderID, buyerID: UserID, sellerID: UserID, currency: Currency, items: [LineItem], totalMinor: Int64,
        policy: AfterSalesPolicy, feeBasisPoints: Int, fundShareBasisPoints: Int, createdAt: Date, status: OrderStatus = .created,
        paymentMethod: String? = nil, paymentReference: String? = nil, payBy: Date, paidAt: Date? = nil, shipment: Shipment? = nil, shippedAt: Date? = nil,
        confirmBy: Date? = nil, confirmationExtended: Bool = false, refundRequest: RefundRequest? = nil, refundedMinor: Int64 = 0,
        completedAt: Date? = nil, closedAt: Date? = nil, escrowFrozen: Bool = false, timeline: [OrderEvent] = []
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
        self.completedAt = completedAt
        self.closedAt = closedAt
        self.escrowFrozen = escrowFrozen
        self.timeline = timeline
    }

    public var money: Money { Money(amountMinor: totalMinor, currency: currency) }

    /// The last moment the buyer may return goods after completion.
    public var returnDeadline: Date? {
        completedAt.map { $0.addingTimeInterval(Double(policy.returnWindowDays) * 86_400) }
    }

    /// In words, what happens to the buyer's money now (shown on the order page).
    public var escrowSummary: String {
        switch status {
        case .created: "Not paid yet. When you pay, the money is held in escrow, not sent to the seller."
        case .paid, .shipped:
            escrowFrozen
                ? "The payment is frozen in escrow while a dispute is settled."
                : "The payment is held in escrow until the buyer confirms receipt."
        case .completed: "The payment was released to the seller."
        case .cancelled: paidAt == nil ? "The order was cancelled before payment." : "The order was cancelled and the payment returned to the buyer."
        case .refunded:
            refundedMinor == totalMinor
                ? "The payment was returned to the buyer."
                : "\(Money.format(refundedMinor, currency)) was returned to the buyer; the rest went to the seller."
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

    public static let maximumItems = 50
    public static let maximumQuantity = 10_000
    /// 10^12 minor units (ten billion in a two-decimal currency) per unit: a limit on everything.
    public static let maximumUnitPriceMinor: Int64 = 1_000_000_000_000

    /// Checks the request and computes the total without overflow.
    public func validated() throws(ValidationError) -> (currency: Currency, totalMinor: Int64) {
        var validator = Validator()
        let currency = Currency(currency)
        validator.check(currency != nil, field: "currency", "The currency must be an ISO 4217 code such as EUR.")
        validator.check((1...Self.maximumItems).contains(items.count), field: "items", "An order has 1 to \(Self.maximumItems) items.")
        var total: Int64 = 0
        var overflow = false
        for (index, item) in items.enumerated() {
            let title = item.title.trimmingWhitespace()
            validator.check((1...200).contains(title.count), field: "items[\(index)].title", "Each item needs a title of 1 to 200 characters.")
            validator.check((1...Self.maximumQuantity).contains(item.quantity), field: "items[\(index)].quantity", "The quantity must be 1 to \(Self.maximumQuantity).")
            validator.check(
                (1...Self.maximumUnitPriceMinor).contains(item.unitPriceMinor),
                field: "items[\(index)].unitPriceMinor",
                "The unit price must be a positive number of minor units, at most \(Self.maximumUnitPriceMinor)."
            )
            let (line, lineOverflow) = item.unitPriceMinor.multipliedReportingOverflow(by: Int64(max(0, item.quantity)))
            let (sum, sumOverflow) = total.addingReportingOverflow(line)
            overflow = overflow || lineOverflow || sumOverflow
            total = sum
        }
        validator.check(!overflow, field: "items", "The order total is too large.")
        try validator.throwIfInvalid()
        return (currency!, total)
    }
}
