import Foundation

public typealias DisputeID = Identifier<Dispute>

/// Deadlines and windows of disputes, the same for every server of a deployment.
public struct DisputeSettings: Sendable, Equatable {
    /// The seller answers a new dispute within this (3 days, as eBay asks); silent, they lose.
    public var sellerResponseSeconds: TimeInterval = 3 * 86_400
    /// The buyer answers the seller's offer or refusal within this; silent, the dispute closes in
    /// the seller's favour.
    public var buyerResponseSeconds: TimeInterval = 3 * 86_400
    /// A party asked for evidence by a moderator gives it within this (48 hours).
    public var evidenceSeconds: TimeInterval = 48 * 3_600
    /// A moderator should rule within this after an escalation (the queue's order; eBay answers in
    /// about 48 hours).
    public var mediationTargetSeconds: TimeInterval = 48 * 3_600
    /// After a return-then-refund ruling, the buyer ships the goods back within this.
    public var returnShipmentSeconds: TimeInterval = 7 * 86_400
    /// The seller confirms the returned goods arrived within this (10 days, as WeChat asks);
    /// silent, the refund is made.
    public var returnConfirmationSeconds: TimeInterval = 10 * 86_400

    public init() {}
}

/// Why the buyer disputes.
public enum DisputeReason: String, Sendable, Codable, CaseIterable {
    case notReceived, notAsDescribed, counterfeit, damaged, other

    public var words: String {
        switch self {
        case .notReceived: "the goods did not arrive"
        case .notAsDescribed: "the goods are not as described"
        case .counterfeit: "the goods are counterfeit"
        case .damaged: "the goods arrived damaged"
        case .other: "another problem"
        }
    }
}

/// What the buyer asks for.
public enum DisputeRemedy: String, Sendable, Codable, CaseIterable {
    case fullRefund, partialRefund, returnAndRefund
}

/// A party to a dispute.
public enum DisputeParty: String, Sendable, Codable, CaseIterable {
    case buyer, seller

    public var other: DisputeParty { self == .buyer ? .seller : .buyer }
}

/// Where a dispute is.
public enum DisputeStatus: String, Sendable, Codable, CaseIterable {
    /// Negotiation: the seller answers (accept, offer part, refuse) before their deadline.
    case awaitingSeller
    /// Negotiation: the buyer accepts the seller's offer or escalates before their deadline.
    case awaitingBuyer
    /// Mediation and arbitration: a moderator takes it, asks for evidence, proposes, rules.
    case inMediation
    /// Ruled return-then-refund: the buyer ships the goods back, the seller confirms receipt.
    case awaitingReturn
    case resolved

    public var isOpen: Bool { self != .resolved }
}

/// The running deadline of a dispute: who must act, by when, and what happens otherwise.
public struct DisputeDeadline: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case sellerResponse, buyerResponse, evidence, returnShipment, returnConfirmation
    }

    public let kind: Kind
    public let party: DisputeParty
    public let dueAt: Date

    public init(kind: Kind, party: DisputeParty, dueAt: Date) {
        self.kind = kind
        self.party = party
        self.dueAt = dueAt
    }

    /// What happens if the deadline passes, in words.
    public var consequence: String {
        switch kind {
        case .sellerResponse: "If the seller does not answer by then, the buyer is refunded."
        case .buyerResponse: "If the buyer does not answer by then, the dispute closes in the seller's favour."
        case .evidence: party == .seller ? "If the seller gives no evidence by then, the buyer is refunded." : "If the buyer gives no evidence by then, the dispute closes in the seller's favour."
        case .returnShipment: "If the buyer does not ship the goods back by then, the money goes to the seller."
        case .returnConfirmation: "If the seller does not confirm the return by then, the buyer is refunded."
        }
    }
}

/// An offer on the table: the seller's, or a moderator's proposed settlement.
public struct DisputeOffer: Sendable, Equatable, Codable {
    public enum Source: String, Sendable, Codable { case seller, moderator }

    public let source: Source
    public let refundMinor: Int64
    public let note: String
    /// For a moderator's proposal: who has accepted it (both must).
    public var acceptedBy: Set<DisputeParty>

    public init(source: Source, refundMinor: Int64, note: String, acceptedBy: Set<DisputeParty> = []) {
        self.source = source
        self.refundMinor = refundMinor
        self.note = note
        self.acceptedBy = acceptedBy
    }
}

/// How a dispute ended. `refundMinor` goes back to the buyer; the rest of what was held goes to
/// the seller (or, after completion, stays with them).
public struct DisputeResolution: Sendable, Equatable, Codable {
    public enum How: String, Sendable, Codable {
        /// The parties agreed (the seller accepted, or the buyer accepted an offer, or both accepted a moderator's proposal).
        case agreement
        /// A moderator ruled.
        case ruling
        /// The seller let a deadline pass.
        case sellerDefault
        /// The buyer let a deadline pass.
        case buyerDefault
        /// The buyer withdrew the dispute.
        case withdrawn

        public var words: String {
            switch self {
            case .agreement: "by agreement"
            case .ruling: "by a moderator's ruling"
            case .sellerDefault: "the seller did not answer in time"
            case .buyerDefault: "the buyer did not answer in time"
            case .withdrawn: "withdrawn by the buyer"
            }
        }
    }

    public let how: How
    public let refundMinor: Int64
    /// The statement of reasons both sides see.
    public let reasons: String
    /// The moderator who ruled (nil for agreements and defaults).
    public let decidedBy: UserID?
    public let decidedAt: Date

    public init(how: How, refundMinor: Int64, reasons: String, decidedBy: UserID?, decidedAt: Date) {
        self.how = how
        self.refundMinor = refundMinor
        self.reasons = reasons
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
    }

    /// Whether the seller lost: the buyer got money back without the seller's agreement.
    public var sellerLost: Bool { refundMinor > 0 && (how == .ruling || how == .sellerDefault) }
}

/// Something that happened in a dispute, for its timeline.
public struct DisputeEvent: Sendable, Equatable, Codable {
    public let at: Date
    public let actor: UserID?
    public let detail: String

    public init(at: Date, actor: UserID?, detail: String) {
        self.at = at
        self.actor = actor
        self.detail = detail
    }
}

/// A dispute about an order (D3): negotiation, then mediation, then arbitration, with deadlines.
public struct Dispute: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "dsp"

    public let id: DisputeID
    public let orderID: OrderID
    public let buyerID: UserID
    public let sellerID: UserID
    public let currency: Currency
    public let reason: DisputeReason
    public let remedy: DisputeRemedy
    /// What the buyer asks back.
    public let requestedMinor: Int64
    /// What could be refunded when the dispute was opened (the order's refundable amount).
    public let refundableMinor: Int64
    public let description: String
    /// Whether the order's money was still held when the dispute opened.
    public let openedInEscrow: Bool
    public let openedAt: Date

    public var status: DisputeStatus
    public var offer: DisputeOffer?
    public var moderatorID: UserID?
    public var deadline: DisputeDeadline?
    /// A moderator should rule by this (the queue is sorted on it).
    public var mediationDueAt: Date?
    /// The refund a return-then-refund ruling makes once the goods are back.
    public var returnRefundMinor: Int64?
    public var returnShipment: Shipment?
    public var resolution: DisputeResolution?
    public var timeline: [DisputeEvent]

    public init(
        id: DisputeID, orderID: OrderID, buyerID: UserID, sellerID: UserID, currency: Currency, reason: DisputeReason, remedy: DisputeRemedy,
        requestedMinor: Int64, refundableMinor: Int64, description: String, openedInEscrow: Bool, openedAt: Date, status: DisputeStatus = .awaitingSeller,
        offer: DisputeOffer? = nil, moderatorID: UserID? = nil, deadline: DisputeDeadline? = nil, mediationDueAt: Date? = nil,
        returnRefundMinor: Int64? = nil, returnShipment: Shipment? = nil, resolution: DisputeResolution? = nil, timeline: [DisputeEvent] = []
    ) {
        self.id = id
        self.orderID = orderID
        self.buyerID = buyerID
        self.sellerID = sellerID
        self.currency = currency
        self.reason = reason
        self.remedy = remedy
        self.requestedMinor = requestedMinor
        self.refundableMinor = refundableMinor
        self.description = description
        self.openedInEscrow = openedInEscrow
        self.openedAt = openedAt
        self.status = status
        self.offer = offer
        self.moderatorID = moderatorID
        self.deadline = deadline
        self.mediationDueAt = mediationDueAt
        self.returnRefundMinor = returnRefundMinor
        self.returnShipment = returnShipment
        self.resolution = resolution
        self.timeline = timeline
    }

    public func party(_ user: UserID) -> DisputeParty? {
        user == buyerID ? .buyer : user == sellerID ? .seller : nil
    }

    public static let descriptionLength = 1...2_000
    public static let noteLength = 0...2_000
}

public typealias DisputeEvidenceID = Identifier<DisputeEvidence>

/// A statement or files a party (or the moderator) adds to a dispute. Evidence is never changed.
public struct DisputeEvidence: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "evd"

    public let id: DisputeEvidenceID
    public let disputeID: DisputeID
    public let authorID: UserID
    public let role: OrderMessage.Role
    public let body: String
    public let attachments: [Attachment]
    public let createdAt: Date

    public init(id: DisputeEvidenceID, disputeID: DisputeID, authorID: UserID, role: OrderMessage.Role, body: String, attachments: [Attachment], createdAt: Date) {
        self.id = id
        self.disputeID = disputeID
        self.authorID = authorID
        self.role = role
        self.body = body
        self.attachments = attachments
        self.createdAt = createdAt
    }
}

/// A user's dispute record, for the profile and the credit score.
public struct DisputeStats: Sendable, Equatable {
    public var opened = 0
    public var resolved = 0
    public var lost = 0
    public var byAgreement = 0

    public init(opened: Int = 0, resolved: Int = 0, lost: Int = 0, byAgreement: Int = 0) {
        self.opened = opened
        self.resolved = resolved
        self.lost = lost
        self.byAgreement = byAgreement
    }

    /// The share of resolved disputes that ended by agreement, or nil without any.
    public var agreementShare: Double? { resolved == 0 ? nil : Double(byAgreement) / Double(resolved) }
}
