import FiduciaDomain
import Foundation
import SQLKit

/// The fraud feed (D6): what this instance publishes, what partners' feeds said, this instance's
/// users' keyed hashes to compare with, and the matches moderators are alerted to.
public protocol FraudFeedRepository: Sendable {
    func published() async throws -> [FraudFeed.Entry]
    func isPublished(_ user: UserID) async throws -> Bool
    func publish(_ entry: FraudFeed.Entry, user: UserID, at now: Date) async throws
    /// Takes the user's entry out of the feed for good (kept, with when and why, so that it is
    /// never listed again); returns its id, or nil when the user had no entry listed.
    func withdraw(user: UserID, reason: String, at now: Date) async throws -> String?
    /// Everyone with a penalty applied: the candidates to look at.
    func penalisedUsers() async throws -> [UserID]

    /// Users with no hash of `kind` under the key `keyID` yet, at most `limit`.
    func unhashedUsers(keyID: String, limit: Int) async throws -> [UserID]
    /// Drops the user's hashes, so that the next pull hashes what is verified now.
    func forgetHashes(of user: UserID) async throws
    /// Replaces the user's hashes (under `keyID`).
    func saveHashes(_ user: UserID, _ hashes: [FraudFeed.Kind: String], keyID: String) async throws

    /// Keeps what a partner's feed said (entries already kept are left as they are).
    func receive(_ entries: [FraudFeed.Entry], from partner: String, at now: Date) async throws
    /// Forgets what `partner` listed before and no longer lists (`listed`: the entry ids of its
    /// verified feed now), and marks the matches found on those entries withdrawn; returns how many.
    func withdrawMatches(partner: String, keeping listed: [String], at now: Date) async throws -> Int
    /// Records every new match between received entries and local hashes; returns the new ones.
    func recordMatches(keyID: String, at now: Date) async throws -> [FraudFeedMatch]
    /// Newest first.
    func matches(limit: Int) async throws -> [FraudFeedMatch]
}

struct SQLFraudFeedRepository: FraudFeedRepository {
    let sql: any SQLDatabase

    func published() async throws -> [FraudFeed.Entry] {
        try await sql.raw("""
            SELECT id, email_hash, phone_hash, document_hash, reason, listed_on FROM fraud_feed_entries WHERE withdrawn_at IS NULL ORDER BY id
            """).all().map(Self.entry)
    }

    func withdraw(user: UserID, reason: String, at now: Date) async throws -> String? {
        try await sql.raw("""
            UPDATE fraud_feed_entries SET withdrawn_at = \(bind: now.millisecondsSince1970), withdrawal_reason = \(bind: reason)
            WHERE user_id = \(bind: user.rawValue) AND withdrawn_at IS NULL RETURNING id
            """).first().map { try $0.string("id") }
    }

    func withdrawMatches(partner: String, keeping listed: [String], at now: Date) async throws -> Int {
        let listed = Set(listed)
        let gone = try await sql.raw("""
            SELECT entry_id FROM fraud_feed_received WHERE partner = \(bind: partner)
            """).all().map { try $0.string("entry_id") }.filter { !listed.contains($0) }
        var withdrawn = 0
        for entry in gone {
            withdrawn += try await sql.raw("""
                UPDATE fraud_feed_matches SET withdrawn_at = \(bind: now.millisecondsSince1970)
                WHERE partner = \(bind: partner) AND entry_id = \(bind: entry) AND withdrawn_at IS NULL RETURNING entry_id
                """).all().count
            try await sql.raw("DELETE FROM fraud_feed_received WHERE partner = \(bind: partner) AND entry_id = \(bind: entry)").run()
        }
        return withdrawn
    }

    static func entry(_ row: any SQLRow) throws -> FraudFeed.Entry {
        FraudFeed.Entry(
            id: try row.string("id"), emailHash: try row.optionalString("email_hash"), phoneHash: try row.optionalString("phone_hash"),
            documentHash: try row.optionalString("document_hash"), reason: try row.string("reason"), date: try row.string("listed_on")
        )
    }

    func isPublished(_ user: UserID) async throws -> Bool {
        try await sql.raw("SELECT id FROM fraud_feed_entries WHERE user_id = \(bind: user.rawValue)").first() != nil
    }

    func publish(_ entry: FraudFeed.Entry, user: UserID, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO fraud_feed_entries (id, user_id, email_hash, phone_hash, document_hash, reason, listed_on, created_at)
            VALUES (\(bind: entry.id), \(bind: user.rawValue), \(bind: entry.emailHash), \(bind: entry.phoneHash), \(bind: entry.documentHash),
                \(bind: entry.reason), \(bind: entry.date), \(bind: now.millisecondsSince1970))
            ON CONFLICT (user_id) DO NOTHING
            """).run()
    }

    func penalisedUsers() async throws -> [UserID] {
        try await sql.raw("SELECT DISTINCT user_id FROM penalties ORDER BY user_id").all().map { UserID(try $0.string("user_id")) }
    }

    func unhashedUsers(keyID: String, limit: Int) async throws -> [UserID] {
        try await sql.raw("""
            SELECT u.id FROM users u WHERE u.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM fraud_feed_hashes h WHERE h.user_id = u.id AND h.kind = 'email' AND h.key_id = \(bind: keyID))
            ORDER BY u.id LIMIT \(bind: limit)
            """).all().map { UserID(try $0.string("id")) }
    }

    func forgetHashes(of user: UserID) async throws {
        try await sql.raw("DELETE FROM fraud_feed_hashes WHERE user_id = \(bind: user.rawValue)").run()
    }

    func saveHashes(_ user: UserID, _ hashes: [FraudFeed.Kind: String], keyID: String) async throws {
        try await sql.raw("DELETE FROM fraud_feed_hashes WHERE user_id = \(bind: user.rawValue)").run()
        for (kind, hash) in hashes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            try await sql.raw("""
                INSERT INTO fraud_feed_hashes (user_id, kind, hash, key_id) VALUES (\(bind: user.rawValue), \(bind: kind.rawValue), \(bind: hash), \(bind: keyID))
                """).run()
        }
    }

    func receive(_ entries: [FraudFeed.Entry], from partner: String, at now: Date) async throws {
        for entry in entries {
            try await sql.raw("""
                INSERT INTO fraud_feed_received (partner, entry_id, email_hash, phone_hash, document_hash, reason, listed_on, received_at)
                VALUES (\(bind: partner), \(bind: entry.id), \(bind: entry.emailHash), \(bind: entry.phoneHash), \(bind: entry.documentHash),
                    \(bind: entry.reason), \(bind: entry.date), \(bind: now.millisecondsSince1970))
                ON CONFLICT (partner, entry_id) DO NOTHING
                """).run()
        }
    }

    func recordMatches(keyID: String, at now: Date) async throws -> [FraudFeedMatch] {
        let rows = try await sql.raw("""
            SELECT r.partner, r.entry_id, h.user_id, h.kind, r.reason, r.listed_on FROM fraud_feed_received r
            JOIN fraud_feed_hashes h ON h.key_id = \(bind: keyID) AND (
                (h.kind = 'email' AND h.hash = r.email_hash) OR (h.kind = 'phone' AND h.hash = r.phone_hash) OR (h.kind = 'document' AND h.hash = r.document_hash))
            WHERE NOT EXISTS (SELECT 1 FROM fraud_feed_matches m WHERE m.partner = r.partner AND m.entry_id = r.entry_id AND m.user_id = h.user_id)
            ORDER BY r.partner, r.entry_id, h.user_id, h.kind
            """).all()
        var found: [String: (partner: String, entry: String, user: String, kinds: [FraudFeed.Kind], reason: String, date: String)] = [:]
        var order: [String] = []
        for row in rows {
            let partner = try row.string("partner"), entry = try row.string("entry_id"), user = try row.string("user_id")
            let key = "\(partner)\u{1}\(entry)\u{1}\(user)"
            let kind = FraudFeed.Kind(rawValue: try row.string("kind")) ?? .email
            if found[key] == nil {
                found[key] = (partner, entry, user, [], try row.string("reason"), try row.string("listed_on"))
                order.append(key)
            }
            found[key]!.kinds.append(kind)
        }
        var matches: [FraudFeedMatch] = []
        for key in order {
            let match = found[key]!
            let kinds = match.kinds.map(\.rawValue).joined(separator: ",")
            try await sql.raw("""
                INSERT INTO fraud_feed_matches (partner, entry_id, user_id, kinds, reason, listed_on, matched_at)
                VALUES (\(bind: match.partner), \(bind: match.entry), \(bind: match.user), \(bind: kinds), \(bind: match.reason), \(bind: match.date),
                    \(bind: now.millisecondsSince1970))
                ON CONFLICT (partner, entry_id, user_id) DO NOTHING
                """).run()
            matches.append(FraudFeedMatch(
                partner: match.partner, entryID: match.entry, userID: UserID(match.user), kinds: match.kinds, reason: match.reason, date: match.date, matchedAt: now
            ))
        }
        return matches
    }

    func matches(limit: Int) async throws -> [FraudFeedMatch] {
        try await sql.raw("""
            SELECT partner, entry_id, user_id, kinds, reason, listed_on, matched_at, withdrawn_at FROM fraud_feed_matches
            ORDER BY matched_at DESC, partner, entry_id LIMIT \(bind: limit)
            """).all().map { row in
            FraudFeedMatch(
                partner: try row.string("partner"), entryID: try row.string("entry_id"), userID: UserID(try row.string("user_id")),
                kinds: try row.string("kinds").split(separator: ",").compactMap { FraudFeed.Kind(rawValue: String($0)) }, reason: try row.string("reason"),
                date: try row.string("listed_on"), matchedAt: try row.date("matched_at"), withdrawnAt: try row.optionalDate("withdrawn_at")
            )
        }
    }
}
