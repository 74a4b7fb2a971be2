import Foundation

public typealias StaffDecisionID = Identifier<StaffDecision>

/// A moderator's decision to move an order's money (a refund or a cancellation), recorded with
/// who proposed it, why, and who approved it. Small amounts are executed at once; amounts above
/// `EscrowSettings.secondApprovalAboveMajor` wait for a second staff member (maker–checker).
/// Every staff movement of money has one of these behind it; the audit trail is never edited.
public struct StaffDecision: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "dec"

    public enum Action: String, Sendable, CaseIterable { case refund, cancel }

    public enum Status: String, Sendable {
        /// Proposed; waits for a second staff member.
        case awaitingApproval
        /// Carried out on the order.
        case executed
        /// Turned down by the second staff member.
        case rejected
        /// Approved, but the order no longer allowed it (the buyer confirmed meanwhile, say).
        case failed
    }

    public let id: StaffDecisionID
    public let orderID: OrderID
    public let action: Action
    /// What the decision returns to the buyer (for a cancellation, what was held).
    public let amountMinor: Int64
    public let currency: Currency
    public let reason: String
    public let proposedBy: UserID
    public let proposedAt: Date
    public var status: Status
    public var approvedBy: UserID?
    public var decidedAt: Date?
    public var failureReason: String?

    public init(id: StaffDecisionID, orderID: OrderID, action: Action, amountMinor: Int64, currency: Currency, reason: String, proposedBy: UserID,
                proposedAt: Date, status: Status, approvedBy: UserID? = nil, decidedAt: Date? = nil, failureReason: String? = nil) {
        self.id = id
        self.orderID = orderID
        self.action = action
        self.amountMinor = amountMinor
        self.currency = currency
        self.reason = reason
        self.proposedBy = proposedBy
        self.proposedAt = proposedAt
        self.status = status
        self.approvedBy = approvedBy
        self.decidedAt = decidedAt
        self.failureReason = failureReason
    }

    /// The order action this decision carries out.
    public var orderAction: OrderAction {
        switch action {
        case .refund: .refund(amountMinor: amountMinor, reason: reason)
        case .cancel: .cancel(reason: reason)
        }
    }

    /// Checks that `approver` may approve (or reject) this decision now.
    public func checkSecondApproval(by approver: UserID) throws(StaffDecisionError) {
        guard status == .awaitingApproval else { throw .notAwaitingApproval(status) }
        guard approver != proposedBy else { throw .sameStaffMember }
    }
}

/// Failures of staff decisions.
public enum StaffDecisionError: DomainError, Equatable {
    case sameStaffMember
    case notAwaitingApproval(StaffDecision.Status)
    /// The order's money changed between the proposal and the approval.
    case orderChanged

    public var kind: FailureKind {
        switch self {
        case .sameStaffMember: .forbidden
        case .notAwaitingApproval, .orderChanged: .conflict
        }
    }

    public var code: String {
        switch self {
        case .sameStaffMember: "second-approver-required"
        case .notAwaitingApproval: "decision-already-decided"
        case .orderChanged: "order-changed"
        }
    }

    public var title: String {
        switch self {
        case .sameStaffMember: "A second staff member must approve"
        case .notAwaitingApproval: "Decision already decided"
        case .orderChanged: "Order changed since the proposal"
        }
    }

    public var detail: String {
        switch self {
        case .sameStaffMember: "The staff member who proposed a decision cannot approve it; another one must."
        case .notAwaitingApproval(let status): "This decision is \(status.rawValue), not awaiting approval."
        case .orderChanged: "What the order holds changed since the decision was proposed; propose it again."
        }
    }
}
