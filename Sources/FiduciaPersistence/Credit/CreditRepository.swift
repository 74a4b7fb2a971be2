import FiduciaDomain
import Foundation
import SQLKit

/// Latest scores, their history, tier changes and commendations.
public protocol CreditRepository: Sendable {
    func latest(user: UserID, role: Role) async throws -> StoredCreditScore?
    /// Stores a new score; with `historyPoint` it also adds a point to the score's history, and
    /// records `tierChange` when there is one (the rules are `ScoreHistory`'s).
    func save(_ score: CreditScore, user: UserID, role: Role, historyPoint: Bool, tierChange: (from: Tier, to: Tier)?, at now: Date) async throws
    func history(user: UserID, role: Role, limit: Int) async throws -> [ScorePoint]
    func tierChanges(user: UserID, role: Role) async throws -> [(at: Date, from: Tier, to: Tier)]
    func commend(seller: UserID, month: String, at now: Date) async throws
    func commendations(seller: UserID) async throws -> [String]
    func commendedSellers(month: String) async throws -> [UserID]
    /// The highest-scored sellers among `tiers` (see `SellerRanking`), best first, ties by id.
    func topSellers(tiers: [Tier], limit: Int) async throws -> [RankedSeller]
}

struct SQLCreditRepository: CreditRepository {
    let sql: any SQLDatabase

    func latest(user: UserID, role: Role) async throws -> StoredCreditScore? {
        guard let row = try await sql.raw("""
            SELECT score, tier, confidence, uncertainty, breakdown, computed_at FROM credit_scores WHERE user_id = \(bind: user.rawValue) AND role = \(bind: role.rawValue)
            """).first()
        else { return nil }
        return StoredCreditScore(
            score: try row.int("score"),
            tier: Tier(rawValue: try row.string("tier")) ?? .new,
            confidence: try row.double("confidence"),
            uncertainty: try row.int("uncertainty"),
            breakdown: try JSONDecoder().decode([CreditScore.Factor].self, from: Data(try row.string("breakdown").utf8)),
            computedAt: try row.date("computed_at")
        )
    }

    func save(_ score: CreditScore, user: UserID, role: Role, historyPoint: Bool, tierChange: (from: Tier, to: Tier)?, at now: Date) async throws {
        let breakdown = String(decoding: try JSONEncoder().encode(score.breakdown), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO credit_scores (user_id, role, score, tier, confidence, uncertainty, breakdown, computed_at)
            VALUES (\(bind: user.rawValue), \(bind: role.rawValue), \(bind: score.score), \(bind: score.tier.rawValue), \(bind: score.confidence),
                    \(bind: score.uncertainty), \(bind: breakdown), \(bind: now.millisecondsSince1970))
            ON CONFLICT (user_id, role) DO UPDATE SET score = excluded.score, tier = excluded.tier, confidence = excluded.confidence,
                uncertainty = excluded.uncertainty, breakdown = excluded.breakdown, computed_at = excluded.computed_at
            """).run()
        if historyPoint {
            try await sql.raw("""
                INSERT INTO credit_score_history (user_id, role, at, score, tier)
                VALUES (\(bind: user.rawValue), \(bind: role.rawValue), \(bind: now.millisecondsSince1970), \(bind: score.score), \(bind: score.tier.rawValue))
                """).run()
        }
        if let tierChange {
            try await sql.raw("""
                INSERT INTO tier_changes (user_id, role, at, from_tier, to_tier)
                VALUES (\(bind: user.rawValue), \(bind: role.rawValue), \(bind: now.millisecondsSince1970), \(bind: tierChange.from.rawValue), \(bind: tierChange.to.rawValue))
                """).run()
        }
    }

    func history(user: UserID, role: Role, limit: Int) async throws -> [ScorePoint] {
        try await sql.raw("""
            SELECT at, score, tier FROM credit_score_history WHERE user_id = \(bind: user.rawValue) AND role = \(bind: role.rawValue)
            ORDER BY at DESC LIMIT \(bind: limit)
            """).all().map { ScorePoint(at: try $0.date("at"), score: try $0.int("score"), tier: Tier(rawValue: try $0.string("tier")) ?? .new) }.reversed()
    }

    func tierChanges(user: UserID, role: Role) async throws -> [(at: Date, from: Tier, to: Tier)] {
        try await sql.raw("""
            SELECT at, from_tier, to_tier FROM tier_changes WHERE user_id = \(bind: user.rawValue) AND role = \(bind: role.rawValue) ORDER BY at
            """).all().map { (try $0.date("at"), Tier(rawValue: try $0.string("from_tier")) ?? .new, Tier(rawValue: try $0.string("to_tier")) ?? .new) }
    }

    func commend(seller: UserID, month: String, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO commendations (seller_id, month, awarded_at) VALUES (\(bind: seller.rawValue), \(bind: month), \(bind: now.millisecondsSince1970))
            ON CONFLICT (seller_id, month) DO NOTHING
            """).run()
    }

    func commendations(seller: UserID) async throws -> [String] {
        try await sql.raw("SELECT month FROM commendations WHERE seller_id = \(bind: seller.rawValue) ORDER BY month DESC").all().map { try $0.string("month") }
    }

    func commendedSellers(month: String) async throws -> [UserID] {
        try await sql.raw("SELECT seller_id FROM commendations WHERE month = \(bind: month) ORDER BY seller_id").all().map { UserID(try $0.string("seller_id")) }
    }

    func topSellers(tiers: [Tier], limit: Int) async throws -> [RankedSeller] {
        guard !tiers.isEmpty else { return [] }
        return try await sql.raw("""
            SELECT s.user_id, u.display_name, s.score, s.tier FROM credit_scores s JOIN users u ON u.id = s.user_id
            WHERE s.role = \(bind: Role.seller.rawValue) AND s.tier IN (\(binds: tiers.map(\.rawValue)))
            ORDER BY s.score DESC, s.user_id LIMIT \(bind: limit)
            """).all().map { row in
                RankedSeller(id: UserID(try row.string("user_id")), displayName: try row.string("display_name"),
                             score: try row.int("score"), tier: Tier(rawValue: try row.string("tier")) ?? .new)
            }
    }
}
