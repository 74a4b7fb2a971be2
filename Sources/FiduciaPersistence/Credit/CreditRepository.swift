import FiduciaDomain
import Foundation
import SQLKit

/// A stored score with when it was computed.
public struct StoredCreditScore: Sendable, Equatable {
    public let score: Int
    public let tier: Tier
    public let confidence: Double
    public let uncertainty: Int
    public let breakdown: [CreditScore.Factor]
    public let computedAt: Date
}

/// One point of a score's history.
public struct ScorePoint: Sendable, Equatable {
    public let at: Date
    public let score: Int
    public let tier: Tier
}

/// Latest scores, their history, tier changes and commendations.
public protocol CreditRepository: Sendable {
    func latest(user: UserID, role: Role) async throws -> StoredCreditScore?
    /// Stores a new score. Adds a history point when the score or tier changed, and records a
    /// tier change. Returns the previous tier, if there was a score before.
    @discardableResult
    func save(_ score: CreditScore, user: UserID, role: Role, at now: Date) async throws -> Tier?
    func history(user: UserID, role: Role, limit: Int) async throws -> [ScorePoint]
    func tierChanges(user: UserID, role: Role) async throws -> [(at: Date, from: Tier, to: Tier)]
    func commend(seller: UserID, month: String, at now: Date) async throws
    func commendations(seller: UserID) async throws -> [String]
    func commendedSellers(month: String) async throws -> [UserID]
    /// The highest-scored sellers past the New tier (5+ completed trades), best first.
    func topSellers(limit: Int) async throws -> [RankedSeller]
}

/// A seller in a ranking: who, and their latest seller score.
public struct RankedSeller: Sendable, Equatable {
    public let id: UserID
    public let displayName: String
    public let score: Int
    public let tier: Tier
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

    func save(_ score: CreditScore, user: UserID, role: Role, at now: Date) async throws -> Tier? {
        let previous = try await latest(user: user, role: role)
        let breakdown = String(decoding: try JSONEncoder().encode(score.breakdown), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO credit_scores (user_id, role, score, tier, confidence, uncertainty, breakdown, computed_at)
            VALUES (\(bind: user.rawValue), \(bind: role.rawValue), \(bind: score.score), \(bind: score.tier.rawValue), \(bind: score.confidence),
                    \(bind: score.uncertainty), \(bind: breakdown), \(bind: now.millisecondsSince1970))
            ON CONFLICT (user_id, role) DO UPDATE SET score = excluded.score, tier = excluded.tier, confidence = excluded.confidence,
                uncertainty = excluded.uncertainty, breakdown = excluded.breakdown, computed_at = excluded.computed_at
            """).run()
        if previous?.score != score.score || previous?.tier != score.tier {
            try await sql.raw("""
                INSERT INTO credit_score_history (user_id, role, at, score, tier)
                VALUES (\(bind: user.rawValue), \(bind: role.rawValue), \(bind: now.millisecondsSince1970), \(bind: score.score), \(bind: score.tier.rawValue))
                """).run()
        }
        if let previous, previous.tier != score.tier {
            try await sql.raw("""
                INSERT INTO tier_changes (user_id, role, at, from_tier, to_tier)
                VALUES (\(bind: user.rawValue), \(bind: role.rawValue), \(bind: now.millisecondsSince1970), \(bind: previous.tier.rawValue), \(bind: score.tier.rawValue))
                """).run()
        }
        return previous?.tier
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

    func topSellers(limit: Int) async throws -> [RankedSeller] {
        try await sql.raw("""
            SELECT s.user_id, u.display_name, s.score, s.tier FROM credit_scores s JOIN users u ON u.id = s.user_id
            WHERE s.role = 'seller' AND s.tier <> 'new'
            ORDER BY s.score DESC, s.user_id LIMIT \(bind: limit)
            """).all().map { row in
                RankedSeller(id: UserID(try row.string("user_id")), displayName: try row.string("display_name"),
                             score: try row.int("score"), tier: Tier(rawValue: try row.string("tier")) ?? .new)
            }
    }
}
