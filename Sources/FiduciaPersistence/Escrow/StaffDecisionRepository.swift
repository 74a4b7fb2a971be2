import FiduciaDomain
import Foundation
import SQLKit

/// Staff decisions on orders' money: the audit trail of who moved what, why, and who approved it.
public protocol StaffDecisionRepository: Sendable {
    func insert(_ decision: StaffDecision) async throws
    /// The decision; with `lock` it is locked until the transaction ends (PostgreSQL).
    func find(_ id: StaffDecisionID, lock: Bool) async throws -> StaffDecision?
    func update(_ decision: StaffDecision) async throws
    /// Decisions waiting for a second staff member, oldest first.
    func awaitingApproval(limit: Int) async throws -> [StaffDecision]
    /// Every decision about one order, oldest first.
    func decisions(order: OrderID) async throws -> [StaffDecision]
}

struct SQLStaffDecisionRepository: StaffDecisionRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let columns = "id, order_id, action, amount_minor, currency, reason, proposed_by, proposed_at, status, approved_by, decided_at, failure_reason"

    func insert(_ decision: StaffDecision) async throws {
        try await sql.raw("""
            INSERT INTO staff_decisions (\(unsafeRaw: Self.columns)) VALUES (\(bind: decision.id.rawValue), \(bind: decision.orderID.rawValue),
                \(bind: decision.action.rawValue), \(bind: decision.amountMinor), \(bind: decision.currency.code), \(bind: decision.reason),
                \(bind: decision.proposedBy.rawValue), \(bind: decision.proposedAt.millisecondsSince1970), \(bind: decision.status.rawValue),
                \(bind: decision.approvedBy?.rawValue), \(bind: decision.decidedAt?.millisecondsSince1970), \(bind: decision.failureReason))
            """).run()
    }

    func find(_ id: StaffDecisionID, lock: Bool) async throws -> StaffDecision? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM staff_decisions WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.decision)
    }

    func update(_ decision: StaffDecision) async throws {
        try await sql.raw("""
            UPDATE staff_decisions SET status = \(bind: decision.status.rawValue), approved_by = \(bind: decision.approvedBy?.rawValue),
                decided_at = \(bind: decision.decidedAt?.millisecondsSince1970), failure_reason = \(bind: decision.failureReason)
            WHERE id = \(bind: decision.id.rawValue)
            """).run()
    }

    func awaitingApproval(limit: Int) async throws -> [StaffDecision] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM staff_decisions WHERE status = 'awaitingApproval' ORDER BY proposed_at, id LIMIT \(bind: limit)
            """).all().map(Self.decision)
    }

    func decisions(order: OrderID) async throws -> [StaffDecision] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM staff_decisions WHERE order_id = \(bind: order.rawValue) ORDER BY proposed_at, id")
            .all().map(Self.decision)
    }

    static func decision(_ row: any SQLRow) throws -> StaffDecision {
        StaffDecision(
            id: StaffDecisionID(try row.string("id")),
            orderID: OrderID(try row.string("order_id")),
            action: StaffDecision.Action(rawValue: try row.string("action"))!,
            amountMinor: try row.int64("amount_minor"),
            currency: Currency(try row.string("currency"))!,
            reason: try row.string("reason"),
            proposedBy: UserID(try row.string("proposed_by")),
            proposedAt: try row.date("proposed_at"),
            status: StaffDecision.Status(rawValue: try row.string("status"))!,
            approvedBy: try row.optionalString("approved_by").map(UserID.init),
            decidedAt: try row.optionalDate("decided_at"),
            failureReason: try row.optionalString("failure_reason")
        )
    }
}
