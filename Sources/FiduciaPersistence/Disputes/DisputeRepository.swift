import FiduciaDomain
import Foundation
import SQLKit

/// Which disputes a list shows.
public enum DisputeFilter: Sendable, Equatable {
    /// Disputes where the user is buyer or seller.
    case party(UserID)
    /// Disputes a moderator may work on: escalated ones (the queue), or all open ones.
    case queue
    case open
    case all
}

/// Disputes and their evidence.
public protocol DisputeRepository: Sendable {
    /// Stores a new dispute; throws `DisputeError.alreadyOpen` if the order has an open one.
    func insert(_ dispute: Dispute) async throws
    func find(_ id: DisputeID, lock: Bool) async throws -> Dispute?
    func update(_ dispute: Dispute) async throws
    /// The order's open dispute, if any.
    func open(order: OrderID) async throws -> Dispute?
    /// The order's disputes, newest first.
    func disputes(order: OrderID) async throws -> [Dispute]
    /// A page of disputes: the queue by its due time, the others newest first.
    func list(_ filter: DisputeFilter, limit: Int) async throws -> [Dispute]
    func addEvidence(_ evidence: DisputeEvidence) async throws
    func evidence(dispute: DisputeID) async throws -> [DisputeEvidence]
    /// The user's record as a seller (disputes about their sales) or a buyer, since `since`.
    func stats(user: UserID, asSeller: Bool, since: Date) async throws -> DisputeStats
}

struct SQLDisputeRepository: DisputeRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    private struct Details: Codable {
        var remedy: DisputeRemedy
        var requestedMinor: Int64
        var refundableMinor: Int64
        var description: String
        var openedInEscrow: Bool
        var offer: DisputeOffer?
        var deadline: DisputeDeadline?
        var returnRefundMinor: Int64?
        var returnShipment: Shipment?
        var resolution: DisputeResolution?
        var timeline: [DisputeEvent]
    }

    static let columns = "id, order_id, buyer_id, seller_id, currency, reason, status, moderator_id, deadline_at, mediation_due_at, details, opened_at"

    private func details(_ dispute: Dispute) throws -> String {
        let details = Details(
            remedy: dispute.remedy, requestedMinor: dispute.requestedMinor, refundableMinor: dispute.refundableMinor, description: dispute.description,
            openedInEscrow: dispute.openedInEscrow, offer: dispute.offer, deadline: dispute.deadline, returnRefundMinor: dispute.returnRefundMinor,
            returnShipment: dispute.returnShipment, resolution: dispute.resolution, timeline: dispute.timeline
        )
        return String(decoding: try SQLOrderRepository.encoder.encode(details), as: UTF8.self)
    }

    func insert(_ dispute: Dispute) async throws {
        do {
            try await sql.raw("""
                INSERT INTO disputes (\(unsafeRaw: Self.columns), resolution_how, refund_minor, seller_lost, resolved_at) VALUES (
                    \(bind: dispute.id.rawValue), \(bind: dispute.orderID.rawValue), \(bind: dispute.buyerID.rawValue), \(bind: dispute.sellerID.rawValue),
                    \(bind: dispute.currency.code), \(bind: dispute.reason.rawValue), \(bind: dispute.status.rawValue), \(bind: dispute.moderatorID?.rawValue),
                    \(bind: dispute.deadline?.dueAt.millisecondsSince1970), \(bind: dispute.mediationDueAt?.millisecondsSince1970), \(bind: try details(dispute)),
                    \(bind: dispute.openedAt.millisecondsSince1970), NULL, NULL, 0, NULL)
                """).run()
        } catch where DatabaseErrors.isUniqueViolation(error) {
            throw DisputeError.alreadyOpen(try await open(order: dispute.orderID)?.id ?? dispute.id)
        }
    }

    func find(_ id: DisputeID, lock: Bool) async throws -> Dispute? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM disputes WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.dispute)
    }

    func update(_ dispute: Dispute) async throws {
        try await sql.raw("""
            UPDATE disputes SET status = \(bind: dispute.status.rawValue), moderator_id = \(bind: dispute.moderatorID?.rawValue),
                deadline_at = \(bind: dispute.deadline?.dueAt.millisecondsSince1970), mediation_due_at = \(bind: dispute.mediationDueAt?.millisecondsSince1970),
                details = \(bind: try details(dispute)), resolution_how = \(bind: dispute.resolution?.how.rawValue),
                refund_minor = \(bind: dispute.resolution?.refundMinor), seller_lost = \(bind: dispute.resolution?.sellerLost == true ? 1 : 0),
                resolved_at = \(bind: dispute.resolution?.decidedAt.millisecondsSince1970)
            WHERE id = \(bind: dispute.id.rawValue)
            """).run()
    }

    func open(order: OrderID) async throws -> Dispute? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM disputes WHERE order_id = \(bind: order.rawValue) AND status <> 'resolved'")
            .first().map(Self.dispute)
    }

    func disputes(order: OrderID) async throws -> [Dispute] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM disputes WHERE order_id = \(bind: order.rawValue) ORDER BY id DESC")
            .all().map(Self.dispute)
    }

    func list(_ filter: DisputeFilter, limit: Int) async throws -> [Dispute] {
        let query: SQLQueryString =
            switch filter {
            case .party(let user):
                "SELECT \(unsafeRaw: Self.columns) FROM disputes WHERE buyer_id = \(bind: user.rawValue) OR seller_id = \(bind: user.rawValue) ORDER BY id DESC LIMIT \(bind: limit)"
            case .queue:
                "SELECT \(unsafeRaw: Self.columns) FROM disputes WHERE status = 'inMediation' ORDER BY mediation_due_at, id LIMIT \(bind: limit)"
            case .open:
                "SELECT \(unsafeRaw: Self.columns) FROM disputes WHERE status <> 'resolved' ORDER BY COALESCE(deadline_at, mediation_due_at), id LIMIT \(bind: limit)"
            case .all:
                "SELECT \(unsafeRaw: Self.columns) FROM disputes ORDER BY id DESC LIMIT \(bind: limit)"
            }
        return try await sql.raw(query).all().map(Self.dispute)
    }

    func addEvidence(_ evidence: DisputeEvidence) async throws {
        try await sql.raw("""
            INSERT INTO dispute_evidence (id, dispute_id, author_id, role, body, attachments, created_at) VALUES (\(bind: evidence.id.rawValue),
                \(bind: evidence.disputeID.rawValue), \(bind: evidence.authorID.rawValue), \(bind: evidence.role.rawValue), \(bind: evidence.body),
                \(bind: try AttachmentsJSON.encode(evidence.attachments)), \(bind: evidence.createdAt.millisecondsSince1970))
            """).run()
    }

    func evidence(dispute: DisputeID) async throws -> [DisputeEvidence] {
        try await sql.raw("""
            SELECT id, dispute_id, author_id, role, body, attachments, created_at FROM dispute_evidence WHERE dispute_id = \(bind: dispute.rawValue) ORDER BY id
            """).all().map { row in
                DisputeEvidence(
                    id: DisputeEvidenceID(try row.string("id")), disputeID: DisputeID(try row.string("dispute_id")), authorID: UserID(try row.string("author_id")),
                    role: OrderMessage.Role(rawValue: try row.string("role")) ?? .buyer, body: try row.string("body"),
                    attachments: try AttachmentsJSON.decode(try row.string("attachments")), createdAt: try row.date("created_at")
                )
            }
    }

    func stats(user: UserID, asSeller: Bool, since: Date) async throws -> DisputeStats {
        guard let row = try await sql.raw("""
            SELECT COUNT(*) AS opened,
                COALESCE(SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END), 0) AS resolved,
                COALESCE(SUM(seller_lost), 0) AS lost,
                COALESCE(SUM(CASE WHEN resolution_how = 'agreement' THEN 1 ELSE 0 END), 0) AS agreed
            FROM disputes WHERE \(unsafeRaw: asSeller ? "seller_id" : "buyer_id") = \(bind: user.rawValue) AND opened_at >= \(bind: since.millisecondsSince1970)
            """).first()
        else { return DisputeStats() }
        return DisputeStats(opened: try row.int("opened"), resolved: try row.int("resolved"), lost: asSeller ? try row.int("lost") : 0, byAgreement: try row.int("agreed"))
    }

    static func dispute(_ row: any SQLRow) throws -> Dispute {
        let details = try SQLOrderRepository.decoder.decode(Details.self, from: Data(try row.string("details").utf8))
        return Dispute(
            id: DisputeID(try row.string("id")), orderID: OrderID(try row.string("order_id")), buyerID: UserID(try row.string("buyer_id")),
            sellerID: UserID(try row.string("seller_id")), currency: Currency(try row.string("currency"))!,
            reason: DisputeReason(rawValue: try row.string("reason")) ?? .other, remedy: details.remedy, requestedMinor: details.requestedMinor,
            refundableMinor: details.refundableMinor, description: details.description, openedInEscrow: details.openedInEscrow,
            openedAt: try row.date("opened_at"), status: DisputeStatus(rawValue: try row.string("status")) ?? .resolved, offer: details.offer,
            moderatorID: try row.optionalString("moderator_id").map(UserID.init), deadline: details.deadline,
            mediationDueAt: try row.optionalDate("mediation_due_at"), returnRefundMinor: details.returnRefundMinor,
            returnShipment: details.returnShipment, resolution: details.resolution, timeline: details.timeline
        )
    }
}
