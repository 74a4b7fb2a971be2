import FiduciaDomain
import Foundation
import SQLKit

/// Which orders a list shows.
public enum OrderFilter: Sendable, Equatable {
    case buyer(UserID)
    case seller(UserID)
    /// Orders where the user is buyer or seller.
    case party(UserID)
    /// Every order (staff).
    case all
}

/// Stores orders. The columns the database filters and sums on are real columns; the rest of
/// the order (items, policy, shipment, timeline) is one JSON document.
public protocol OrderRepository: Sendable {
    func insert(_ order: Order, now: Date) async throws
    /// The order; with `lock` it is locked until the transaction ends (PostgreSQL), so that two
    /// requests racing to move the same order's money are serialised and the second sees the first's result.
    func find(_ id: OrderID, lock: Bool) async throws -> Order?
    func update(_ order: Order, now: Date) async throws
    func list(_ filter: OrderFilter, status: OrderStatus?, after cursor: OrderID?, limit: Int) async throws -> [Order]
    /// Sum of order totals whose money is held in escrow (paid or shipped), per currency.
    func heldTotals() async throws -> [Currency: Int64]
    func count(_ filter: OrderFilter, status: OrderStatus?) async throws -> Int
    /// Finished trades (completed or refunded) between two users in either direction, created in [from, to].
    func tradesBetween(_ first: UserID, _ second: UserID, from: Date, to: Date, excluding: OrderID) async throws -> Int
    /// Orders paid since `since` that the seller shipped, and how many of them within
    /// `onTimeSeconds` of payment (the rule is `SellerRecord.onTimeShippingSeconds`).
    func shippingRecord(seller: UserID, since: Date, onTimeSeconds: TimeInterval) async throws -> (shipped: Int, onTime: Int)
    /// A seller's month: sales completed in [from, to), orders shipped in it, and on time.
    func monthRecord(seller: UserID, from: Date, to: Date, onTimeSeconds: TimeInterval) async throws -> (completedSales: Int, shipped: Int, shippedOnTime: Int)
    /// For the payout reserve: what buyers of the seller's completed orders in `currency` whose
    /// return window is still open at `now` could get back, and how many completed sales (any
    /// currency) have a closed return window.
    func exposure(seller: UserID, currency: Currency, now: Date) async throws -> (exposureMinor: Int64, settledSales: Int)
    /// The seller's shipped or completed orders with a refund request nobody settled yet.
    func openRefundRequests(seller: UserID) async throws -> Int
    /// The seller's sales that may still ask something of their security deposit: not finished,
    /// in dispute, or completed since `completedSince` (`DepositWithdrawal` judges them).
    func backedByDeposit(seller: UserID, completedSince: Date) async throws -> [Order]
    /// The seller's after-sales policy (the standard one if never set).
    func policy(seller: UserID) async throws -> AfterSalesPolicy
    func setPolicy(_ policy: AfterSalesPolicy, seller: UserID, now: Date) async throws
}

struct SQLOrderRepository: OrderRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    private struct Details: Codable {
        var items: [LineItem]
        var policy: AfterSalesPolicy
        var shipment: Shipment?
        var refundRequest: RefundRequest?
        var timeline: [OrderEvent]
        var paymentReference: String?
        var refundCount: Int?
        var rulesVersions: RulesVersions?
    }

    static let columns = """
        id, buyer_id, seller_id, currency, total_minor, status, payment_method, pay_by, paid_at, shipped_at, confirm_by,
        completed_at, closed_at, refunded_minor, confirmation_extended, escrow_frozen, fee_basis_points, fund_share_basis_points,
        details, created_at, return_deadline
        """

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    private func details(_ order: Order) throws -> String {
        let details = Details(
            items: order.items, policy: order.policy, shipment: order.shipment, refundRequest: order.refundRequest,
            timeline: order.timeline, paymentReference: order.paymentReference, refundCount: order.refundCount, rulesVersions: order.rulesVersions
        )
        return String(decoding: try Self.encoder.encode(details), as: UTF8.self)
    }

    func insert(_ order: Order, now: Date) async throws {
        try await sql.raw("""
            INSERT INTO orders (\(unsafeRaw: Self.columns), updated_at) VALUES (
                \(bind: order.id.rawValue), \(bind: order.buyerID.rawValue), \(bind: order.sellerID.rawValue), \(bind: order.currency.code),
                \(bind: order.totalMinor), \(bind: order.status.rawValue), \(bind: order.paymentMethod), \(bind: order.payBy.millisecondsSince1970),
                \(bind: order.paidAt?.millisecondsSince1970), \(bind: order.shippedAt?.millisecondsSince1970), \(bind: order.confirmBy?.millisecondsSince1970),
                \(bind: order.completedAt?.millisecondsSince1970), \(bind: order.closedAt?.millisecondsSince1970), \(bind: order.refundedMinor),
                \(bind: order.confirmationExtended ? 1 : 0), \(bind: order.escrowFrozen ? 1 : 0), \(bind: order.feeBasisPoints),
                \(bind: order.fundShareBasisPoints), \(bind: try details(order)), \(bind: order.createdAt.millisecondsSince1970),
                \(bind: order.returnDeadline?.millisecondsSince1970), \(bind: now.millisecondsSince1970))
            """).run()
    }

    func find(_ id: OrderID, lock: Bool) async throws -> Order? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM orders WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.order)
    }

    func update(_ order: Order, now: Date) async throws {
        try await sql.raw("""
            UPDATE orders SET status = \(bind: order.status.rawValue), payment_method = \(bind: order.paymentMethod),
                pay_by = \(bind: order.payBy.millisecondsSince1970), paid_at = \(bind: order.paidAt?.millisecondsSince1970),
                shipped_at = \(bind: order.shippedAt?.millisecondsSince1970), confirm_by = \(bind: order.confirmBy?.millisecondsSince1970),
                completed_at = \(bind: order.completedAt?.millisecondsSince1970), closed_at = \(bind: order.closedAt?.millisecondsSince1970),
                refunded_minor = \(bind: order.refundedMinor), confirmation_extended = \(bind: order.confirmationExtended ? 1 : 0),
                escrow_frozen = \(bind: order.escrowFrozen ? 1 : 0), details = \(bind: try details(order)),
                return_deadline = \(bind: order.returnDeadline?.millisecondsSince1970), updated_at = \(bind: now.millisecondsSince1970)
            WHERE id = \(bind: order.id.rawValue)
            """).run()
    }

    func list(_ filter: OrderFilter, status: OrderStatus?, after cursor: OrderID?, limit: Int) async throws -> [Order] {
        var query = sql.select().column(SQLRaw(Self.columns)).from("orders")
            .where("id", .greaterThan, cursor?.rawValue ?? "")
        query = apply(filter, status: status, to: query)
        return try await query.orderBy("id").limit(limit).all().map(Self.order)
    }

    func count(_ filter: OrderFilter, status: OrderStatus?) async throws -> Int {
        var query = sql.select().column(SQLRaw("COUNT(*) AS n")).from("orders")
        query = apply(filter, status: status, to: query)
        return try await query.first()?.int("n") ?? 0
    }

    private func apply(_ filter: OrderFilter, status: OrderStatus?, to query: SQLSelectBuilder) -> SQLSelectBuilder {
        var query = query
        switch filter {
        case .buyer(let id): query = query.where("buyer_id", .equal, id.rawValue)
        case .seller(let id): query = query.where("seller_id", .equal, id.rawValue)
        case .party(let id): query = query.where { $0.where("buyer_id", .equal, id.rawValue).orWhere("seller_id", .equal, id.rawValue) }
        case .all: break
        }
        if let status { query = query.where("status", .equal, status.rawValue) }
        return query
    }

    func heldTotals() async throws -> [Currency: Int64] {
        let rows = try await sql.raw("""
            SELECT currency, CAST(SUM(total_minor - refunded_minor) AS BIGINT) AS total FROM orders WHERE status IN ('paid', 'shipped') GROUP BY currency
            """).all()
        var totals: [Currency: Int64] = [:]
        for row in rows { totals[Currency(try row.string("currency"))!] = try row.int64("total") }
        return totals
    }

    func tradesBetween(_ first: UserID, _ second: UserID, from: Date, to: Date, excluding: OrderID) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM orders
            WHERE ((buyer_id = \(bind: first.rawValue) AND seller_id = \(bind: second.rawValue)) OR (buyer_id = \(bind: second.rawValue) AND seller_id = \(bind: first.rawValue)))
              AND status IN ('completed', 'refunded') AND created_at >= \(bind: from.millisecondsSince1970) AND created_at <= \(bind: to.millisecondsSince1970)
              AND id <> \(bind: excluding.rawValue)
            """).first()?.int("n") ?? 0
    }

    func shippingRecord(seller: UserID, since: Date, onTimeSeconds: TimeInterval) async throws -> (shipped: Int, onTime: Int) {
        let onTime = Int64(onTimeSeconds * 1_000)
        guard let row = try await sql.raw("""
            SELECT COUNT(*) AS shipped, COALESCE(SUM(CASE WHEN shipped_at - paid_at <= \(bind: onTime) THEN 1 ELSE 0 END), 0) AS on_time
            FROM orders WHERE seller_id = \(bind: seller.rawValue) AND shipped_at IS NOT NULL AND paid_at >= \(bind: since.millisecondsSince1970)
            """).first()
        else { return (0, 0) }
        return (try row.int("shipped"), try row.int("on_time"))
    }

    func monthRecord(seller: UserID, from: Date, to: Date, onTimeSeconds: TimeInterval) async throws -> (completedSales: Int, shipped: Int, shippedOnTime: Int) {
        let onTime = Int64(onTimeSeconds * 1_000)
        let completed = try await sql.raw("""
            SELECT COUNT(*) AS n FROM orders WHERE seller_id = \(bind: seller.rawValue) AND status = 'completed'
              AND completed_at >= \(bind: from.millisecondsSince1970) AND completed_at < \(bind: to.millisecondsSince1970)
            """).first()?.int("n") ?? 0
        guard let row = try await sql.raw("""
            SELECT COUNT(*) AS shipped, COALESCE(SUM(CASE WHEN shipped_at - paid_at <= \(bind: onTime) THEN 1 ELSE 0 END), 0) AS on_time
            FROM orders WHERE seller_id = \(bind: seller.rawValue) AND shipped_at >= \(bind: from.millisecondsSince1970) AND shipped_at < \(bind: to.millisecondsSince1970)
            """).first()
        else { return (completed, 0, 0) }
        return (completed, try row.int("shipped"), try row.int("on_time"))
    }

    func exposure(seller: UserID, currency: Currency, now: Date) async throws -> (exposureMinor: Int64, settledSales: Int) {
        let now = now.millisecondsSince1970
        let exposure = try await sql.raw("""
            SELECT CAST(COALESCE(SUM(total_minor - refunded_minor), 0) AS BIGINT) AS exposure FROM orders
            WHERE seller_id = \(bind: seller.rawValue) AND status = 'completed' AND currency = \(bind: currency.code) AND return_deadline > \(bind: now)
            """).first()?.int64("exposure") ?? 0
        let settled = try await sql.raw("""
            SELECT COUNT(*) AS n FROM orders WHERE seller_id = \(bind: seller.rawValue) AND status = 'completed' AND return_deadline <= \(bind: now)
            """).first()?.int("n") ?? 0
        return (exposure, settled)
    }

    func backedByDeposit(seller: UserID, completedSince: Date) async throws -> [Order] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM orders WHERE seller_id = \(bind: seller.rawValue)
                AND (status IN ('created', 'paid', 'shipped') OR escrow_frozen = 1
                     OR (status = 'completed' AND completed_at >= \(bind: completedSince.millisecondsSince1970)))
            """).all().map(Self.order)
    }

    func openRefundRequests(seller: UserID) async throws -> Int {
        // The request lives in the order's document; only the seller's open orders are read.
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM orders WHERE seller_id = \(bind: seller.rawValue) AND status IN ('shipped', 'completed')
            """).all().map(Self.order).filter { $0.refundRequest != nil }.count
    }

    func policy(seller: UserID) async throws -> AfterSalesPolicy {
        guard let row = try await sql.raw("SELECT return_window_days, genuine_goods_guarantee FROM seller_policies WHERE seller_id = \(bind: seller.rawValue)").first() else {
            return .standard
        }
        return AfterSalesPolicy(returnWindowDays: try row.int("return_window_days"), genuineGoodsGuarantee: try row.int("genuine_goods_guarantee") != 0)
    }

    func setPolicy(_ policy: AfterSalesPolicy, seller: UserID, now: Date) async throws {
        try await sql.raw("""
            INSERT INTO seller_policies (seller_id, return_window_days, genuine_goods_guarantee, updated_at)
            VALUES (\(bind: seller.rawValue), \(bind: policy.returnWindowDays), \(bind: policy.genuineGoodsGuarantee ? 1 : 0), \(bind: now.millisecondsSince1970))
            ON CONFLICT (seller_id) DO UPDATE SET return_window_days = excluded.return_window_days,
                genuine_goods_guarantee = excluded.genuine_goods_guarantee, updated_at = excluded.updated_at
            """).run()
    }

    static func order(_ row: any SQLRow) throws -> Order {
        let details = try decoder.decode(Details.self, from: Data(try row.string("details").utf8))
        var order = Order(
            id: OrderID(try row.string("id")),
            buyerID: UserID(try row.string("buyer_id")),
            sellerID: UserID(try row.string("seller_id")),
            currency: Currency(try row.string("currency"))!,
            items: details.items,
            totalMinor: try row.int64("total_minor"),
            policy: details.policy,
            feeBasisPoints: try row.int("fee_basis_points"),
            fundShareBasisPoints: try row.int("fund_share_basis_points"),
            createdAt: try row.date("created_at"),
            status: OrderStatus(rawValue: try row.string("status"))!,
            paymentMethod: try row.optionalString("payment_method"),
            paymentReference: details.paymentReference,
            payBy: try row.date("pay_by"),
            paidAt: try row.optionalDate("paid_at"),
            shipment: details.shipment,
            shippedAt: try row.optionalDate("shipped_at"),
            confirmBy: try row.optionalDate("confirm_by"),
            confirmationExtended: try row.int("confirmation_extended") != 0,
            refundRequest: details.refundRequest,
            refundedMinor: try row.int64("refunded_minor"),
            refundCount: details.refundCount ?? 0,
            completedAt: try row.optionalDate("completed_at"),
            closedAt: try row.optionalDate("closed_at"),
            escrowFrozen: try row.int("escrow_frozen") != 0,
            timeline: details.timeline
        )
        order.rulesVersions = details.rulesVersions
        return order
    }
}
