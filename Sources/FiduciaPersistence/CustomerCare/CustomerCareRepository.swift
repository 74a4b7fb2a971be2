import FiduciaDomain
import Foundation
import SQLKit

/// Merchants' service commitments and loyalty programmes, the facts the commitments are measured
/// on, and the points ledger (double-entry, apart from money).
public protocol CustomerCareRepository: Sendable {
    func commitments(of seller: UserID) async throws -> ServiceCommitments?
    func saveCommitments(_ commitments: ServiceCommitments, of seller: UserID) async throws
    /// The seller's orders paid since `since`.
    func shippingFacts(of seller: UserID, since: Date) async throws -> [(paidAt: Date, shippedAt: Date?, closedAt: Date?)]
    /// The messages on the seller's orders since `since`, by who wrote them.
    func messageFacts(of seller: UserID, since: Date) async throws -> [(order: String, speaker: ServiceCommitments.Speaker, at: Date)]

    func programme(of seller: UserID) async throws -> LoyaltyProgramme?
    func saveProgramme(_ programme: LoyaltyProgramme, of seller: UserID, at now: Date) async throws

    /// Net points the order has earned its buyer so far, and the rate its first entry used.
    func earned(order: OrderID) async throws -> (points: Int64, rate: Int?)
    func post(id: String, seller: UserID, debit: LoyaltyAccount, credit: LoyaltyAccount, points: Int64, rate: Int, order: OrderID, reason: String, at now: Date) async throws
    func balance(_ account: LoyaltyAccount) async throws -> Int64
    /// A buyer's member accounts: seller and balance, largest first.
    func memberships(of buyer: UserID) async throws -> [(seller: UserID, points: Int64)]
    /// The points ledger's invariants, as problems: every entry moves a positive number of points
    /// between two accounts of its merchant (so each merchant's accounts sum to zero), and no
    /// member's balance is below zero.
    func verify() async throws -> [String]
}

struct SQLCustomerCareRepository: CustomerCareRepository {
    let sql: any SQLDatabase

    func commitments(of seller: UserID) async throws -> ServiceCommitments? {
        try await sql.raw("SELECT answer_within_hours, ship_within_hours, since FROM service_commitments WHERE seller_id = \(bind: seller.rawValue)").first().map { row in
            ServiceCommitments(
                answerWithinHours: try row.optionalInt64("answer_within_hours").map(Int.init), shipWithinHours: try row.optionalInt64("ship_within_hours").map(Int.init),
                since: try row.date("since")
            )
        }
    }

    func saveCommitments(_ commitments: ServiceCommitments, of seller: UserID) async throws {
        try await sql.raw("""
            INSERT INTO service_commitments (seller_id, answer_within_hours, ship_within_hours, since)
            VALUES (\(bind: seller.rawValue), \(bind: commitments.answerWithinHours), \(bind: commitments.shipWithinHours), \(bind: commitments.since.millisecondsSince1970))
            ON CONFLICT (seller_id) DO UPDATE SET answer_within_hours = excluded.answer_within_hours, ship_within_hours = excluded.ship_within_hours,
                since = excluded.since
            """).run()
    }

    func shippingFacts(of seller: UserID, since: Date) async throws -> [(paidAt: Date, shippedAt: Date?, closedAt: Date?)] {
        try await sql.raw("""
            SELECT paid_at, shipped_at, closed_at FROM orders WHERE seller_id = \(bind: seller.rawValue) AND paid_at >= \(bind: since.millisecondsSince1970)
            """).all().map { (try $0.date("paid_at"), try $0.optionalDate("shipped_at"), try $0.optionalDate("closed_at")) }
    }

    func messageFacts(of seller: UserID, since: Date) async throws -> [(order: String, speaker: ServiceCommitments.Speaker, at: Date)] {
        try await sql.raw("""
            SELECT m.order_id, m.author_id, o.buyer_id, m.created_at FROM order_messages m JOIN orders o ON o.id = m.order_id
            WHERE o.seller_id = \(bind: seller.rawValue) AND m.created_at >= \(bind: since.millisecondsSince1970)
            """).all().map { row in
            let author = try row.string("author_id")
            let speaker: ServiceCommitments.Speaker = author == seller.rawValue ? .merchant : author == (try row.string("buyer_id")) ? .buyer : .other
            return (try row.string("order_id"), speaker, try row.date("created_at"))
        }
    }

    func programme(of seller: UserID) async throws -> LoyaltyProgramme? {
        guard let row = try await sql.raw("SELECT points_per_unit, levels FROM loyalty_programmes WHERE seller_id = \(bind: seller.rawValue)").first() else {
            return nil
        }
        let levels = try JSONDecoder().decode([LoyaltyProgramme.Level].self, from: Data(try row.string("levels").utf8))
        return LoyaltyProgramme(pointsPerUnit: try row.int("points_per_unit"), levels: levels)
    }

    func saveProgramme(_ programme: LoyaltyProgramme, of seller: UserID, at now: Date) async throws {
        let levels = String(decoding: try JSONEncoder().encode(programme.levels), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO loyalty_programmes (seller_id, points_per_unit, levels, updated_at)
            VALUES (\(bind: seller.rawValue), \(bind: programme.pointsPerUnit), \(bind: levels), \(bind: now.millisecondsSince1970))
            ON CONFLICT (seller_id) DO UPDATE SET points_per_unit = excluded.points_per_unit, levels = excluded.levels, updated_at = excluded.updated_at
            """).run()
    }

    func earned(order: OrderID) async throws -> (points: Int64, rate: Int?) {
        let rows = try await sql.raw("SELECT reason, points, rate FROM loyalty_entries WHERE order_id = \(bind: order.rawValue) ORDER BY created_at, id").all()
        var points: Int64 = 0
        for row in rows {
            let amount = try row.int64("points")
            points += try row.string("reason") == "earn" ? amount : -amount
        }
        return (points, try rows.first.map { try $0.int("rate") })
    }

    func post(id: String, seller: UserID, debit: LoyaltyAccount, credit: LoyaltyAccount, points: Int64, rate: Int, order: OrderID, reason: String, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO loyalty_entries (id, seller_id, debit_account, credit_account, points, rate, order_id, reason, created_at)
            VALUES (\(bind: id), \(bind: seller.rawValue), \(bind: debit.key), \(bind: credit.key), \(bind: points), \(bind: rate), \(bind: order.rawValue),
                \(bind: reason), \(bind: now.millisecondsSince1970))
            """).run()
    }

    func balance(_ account: LoyaltyAccount) async throws -> Int64 {
        let row = try await sql.raw("""
            SELECT CAST(COALESCE(SUM(CASE WHEN credit_account = \(bind: account.key) THEN points ELSE -points END), 0) AS BIGINT) AS balance
            FROM loyalty_entries WHERE credit_account = \(bind: account.key) OR debit_account = \(bind: account.key)
            """).first()
        return try row?.int64("balance") ?? 0
    }

    func memberships(of buyer: UserID) async throws -> [(seller: UserID, points: Int64)] {
        let suffix = ":" + buyer.rawValue
        return try await sql.raw("""
            SELECT seller_id, CAST(SUM(CASE WHEN credit_account LIKE 'member:%' THEN points ELSE -points END) AS BIGINT) AS balance
            FROM loyalty_entries WHERE credit_account = 'member:' || seller_id || \(bind: suffix) OR debit_account = 'member:' || seller_id || \(bind: suffix)
            GROUP BY seller_id ORDER BY balance DESC, seller_id
            """).all().map { (UserID(try $0.string("seller_id")), try $0.int64("balance")) }
    }

    func verify() async throws -> [String] {
        var problems: [String] = []
        // Every entry moves points from one account to another of the same merchant.
        let foreign = try await sql.raw("""
            SELECT id FROM loyalty_entries WHERE points <= 0 OR debit_account = credit_account
               OR NOT (debit_account IN ('issued:' || seller_id) OR debit_account LIKE 'member:' || seller_id || ':%')
               OR NOT (credit_account IN ('issued:' || seller_id) OR credit_account LIKE 'member:' || seller_id || ':%')
            """).all()
        for row in foreign { problems.append("entry \(try row.string("id")) does not move a positive number of points between two accounts of its merchant") }
        // No member's balance below zero (the issued account is the only one that goes negative).
        let negative = try await sql.raw("""
            SELECT account, CAST(SUM(amount) AS BIGINT) AS balance FROM (
                SELECT credit_account AS account, points AS amount FROM loyalty_entries
                UNION ALL SELECT debit_account AS account, -points AS amount FROM loyalty_entries
            ) moves WHERE account LIKE 'member:%' GROUP BY account HAVING SUM(amount) < 0
            """).all()
        for row in negative { problems.append("member account \(try row.string("account")) is at \(try row.int64("balance")) points") }
        return problems
    }
}
