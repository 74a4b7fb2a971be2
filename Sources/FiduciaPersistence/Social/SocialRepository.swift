import FiduciaDomain
import Foundation
import SQLKit

/// A friend as listed: who, and since when.
public struct FriendLink: Sendable, Equatable {
    public let userID: UserID
    public let since: Date
}

/// What a cached network view was computed under (see `SocialRepository.networkStamp`).
public struct NetworkStamp: Sendable, Equatable {
    public let generation: Int64
    public let lastPublication: Int64?
}

/// The social generation counter: raised inside the transaction of each change that can alter a
/// network view, so that every server's cache sees it at its next read.
enum SocialGeneration {
    static func raise(_ sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE social_generation SET generation = generation + 1 WHERE id = 1").run()
    }
}

/// Friends, friend requests, blocks and trust lists (E1, E2), and the network's voices about a
/// merchant (E3).
public protocol SocialRepository: Sendable {
    func insertRequest(_ request: FriendRequest) async throws
    func updateRequest(_ request: FriendRequest) async throws
    func findRequest(_ id: FriendRequestID) async throws -> FriendRequest?
    /// Pending requests sent to `user` (incoming) or by `user` (outgoing), newest first.
    func pendingRequests(to user: UserID, limit: Int) async throws -> [FriendRequest]
    func pendingRequests(from user: UserID, limit: Int) async throws -> [FriendRequest]
    func requestsSent(by user: UserID, since: Date) async throws -> Int
    /// Withdraws every pending request between the two, in either direction.
    func cancelPendingRequests(between first: UserID, and second: UserID, at now: Date) async throws

    /// What stands between `user` and `other`, seen from `user`.
    func relationship(of user: UserID, with other: UserID) async throws -> Relationship
    func addFriendship(_ first: UserID, _ second: UserID, at now: Date) async throws
    /// Ends a friendship; false when there was none.
    func removeFriendship(_ first: UserID, _ second: UserID) async throws -> Bool
    func friends(of user: UserID, limit: Int) async throws -> [FriendLink]
    func areFriends(_ first: UserID, _ second: UserID) async throws -> Bool

    /// Records a block; false when it already existed.
    func block(_ blocked: UserID, by blocker: UserID, at now: Date) async throws -> Bool
    func unblock(_ blocked: UserID, by blocker: UserID) async throws -> Bool
    func blocked(by blocker: UserID, limit: Int) async throws -> [UserID]
    func isBlocked(_ blocked: UserID, by blocker: UserID) async throws -> Bool

    /// Saves an entry, replacing the owner's earlier entry for the same merchant.
    func upsertEntry(_ entry: TrustListEntry) async throws
    func deleteEntry(owner: UserID, merchant: UserID) async throws -> Bool
    func entries(owner: UserID, limit: Int) async throws -> [TrustListEntry]
    func entry(owner: UserID, merchant: UserID) async throws -> TrustListEntry?
    /// Each list's visibility (friends unless the owner chose otherwise).
    func visibility(owner: UserID) async throws -> [TrustListKind: ListVisibility]
    func setVisibility(owner: UserID, kind: TrustListKind, visibility: ListVisibility) async throws

    /// What `viewer`'s friends and friends of friends say about `merchant`: their latest published
    /// ratings of the merchant, and their list entries the viewer may see (friends' lists shown to
    /// friends or everyone; friends of friends' lists shown to everyone). People who blocked the
    /// viewer are left out. At most `limit` rows of each kind; the work is bounded by the
    /// merchant's ratings and list entries, not by the size of the network.
    func networkVoices(viewer: UserID, merchant: UserID, limit: Int) async throws -> [NetworkVoice]
    /// What `networkVoices` about `merchant` depends on, cheaply: the social generation (raised by
    /// every change to friendships, blocks, lists and hidden ratings) and the merchant's latest
    /// publication of a rating. Voices read under an equal stamp are still true.
    func networkStamp(merchant: UserID) async throws -> NetworkStamp
    /// Friends of `viewer` who put `merchant` on a warn list the viewer may see.
    func friendsWarning(viewer: UserID, about merchant: UserID) async throws -> [UserID]
    /// Completed orders between the two, either way round (who may list whom).
    func completedTrades(between person: UserID, and merchant: UserID) async throws -> Int
    /// Sellers with at least `minimum` orders since `weekStart`: those orders, and the orders of
    /// the four weeks before (D4's volume alert).
    func weeklyVolumes(weekStart: Date, minimum: Int) async throws -> [(seller: UserID, thisWeek: Int, previousFourWeeks: Int)]
    /// Merchants with at least `minimum` bad ratings (from buyers) since `recentStart`: bad and
    /// all ratings since then, and in the 180 days before.
    func ratingShares(recentStart: Date, minimum: Int) async throws -> [(merchant: UserID, recentNegative: Int, recentTotal: Int, earlierNegative: Int, earlierTotal: Int)]
    /// The totals of the seller's latest completed sales in `currency`, newest first.
    func recentSaleTotals(seller: UserID, currency: Currency, limit: Int) async throws -> [Int64]
}

struct SQLSocialRepository: SocialRepository {
    let sql: any SQLDatabase

    func insertRequest(_ request: FriendRequest) async throws {
        try await sql.raw("""
            INSERT INTO friend_requests (id, from_id, to_id, state, message, created_at, answered_at)
            VALUES (\(bind: request.id.rawValue), \(bind: request.fromID.rawValue), \(bind: request.toID.rawValue), \(bind: request.state.rawValue),
                \(bind: request.message), \(bind: request.createdAt.millisecondsSince1970), \(bind: request.answeredAt?.millisecondsSince1970))
            """).run()
    }

    func updateRequest(_ request: FriendRequest) async throws {
        try await sql.raw("""
            UPDATE friend_requests SET state = \(bind: request.state.rawValue), answered_at = \(bind: request.answeredAt?.millisecondsSince1970)
            WHERE id = \(bind: request.id.rawValue)
            """).run()
    }

    func findRequest(_ id: FriendRequestID) async throws -> FriendRequest? {
        try await sql.raw("SELECT * FROM friend_requests WHERE id = \(bind: id.rawValue)").first().map(Self.request)
    }

    func pendingRequests(to user: UserID, limit: Int) async throws -> [FriendRequest] {
        try await sql.raw("""
            SELECT * FROM friend_requests WHERE to_id = \(bind: user.rawValue) AND state = 'pending' ORDER BY id DESC LIMIT \(bind: limit)
            """).all().map(Self.request)
    }

    func pendingRequests(from user: UserID, limit: Int) async throws -> [FriendRequest] {
        try await sql.raw("""
            SELECT * FROM friend_requests WHERE from_id = \(bind: user.rawValue) AND state = 'pending' ORDER BY id DESC LIMIT \(bind: limit)
            """).all().map(Self.request)
    }

    func requestsSent(by user: UserID, since: Date) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM friend_requests WHERE from_id = \(bind: user.rawValue) AND created_at >= \(bind: since.millisecondsSince1970)
            """).first()?.int("n") ?? 0
    }

    func cancelPendingRequests(between first: UserID, and second: UserID, at now: Date) async throws {
        try await sql.raw("""
            UPDATE friend_requests SET state = 'cancelled', answered_at = \(bind: now.millisecondsSince1970)
            WHERE state = 'pending' AND ((from_id = \(bind: first.rawValue) AND to_id = \(bind: second.rawValue))
                OR (from_id = \(bind: second.rawValue) AND to_id = \(bind: first.rawValue)))
            """).run()
    }

    func relationship(of user: UserID, with other: UserID) async throws -> Relationship {
        let (me, them) = (user.rawValue, other.rawValue)
        let row = try await sql.raw("""
            SELECT
                (SELECT COUNT(*) FROM friendships WHERE user_id = \(bind: me) AND friend_id = \(bind: them)) AS friends,
                (SELECT COUNT(*) FROM friend_requests WHERE from_id = \(bind: me) AND to_id = \(bind: them) AND state = 'pending') AS sent,
                (SELECT COUNT(*) FROM friend_requests WHERE from_id = \(bind: them) AND to_id = \(bind: me) AND state = 'pending') AS received,
                (SELECT COUNT(*) FROM blocks WHERE blocker_id = \(bind: me) AND blocked_id = \(bind: them)) AS blocking,
                (SELECT COUNT(*) FROM blocks WHERE blocker_id = \(bind: them) AND blocked_id = \(bind: me)) AS blocked_by
            """).first()
        guard let row else { return Relationship() }
        return Relationship(
            friends: try row.int("friends") > 0, requestSent: try row.int("sent") > 0, requestReceived: try row.int("received") > 0,
            blocking: try row.int("blocking") > 0, blockedBy: try row.int("blocked_by") > 0
        )
    }

    func addFriendship(_ first: UserID, _ second: UserID, at now: Date) async throws {
        for (user, friend) in [(first, second), (second, first)] {
            try await sql.raw("""
                INSERT INTO friendships (user_id, friend_id, since) VALUES (\(bind: user.rawValue), \(bind: friend.rawValue), \(bind: now.millisecondsSince1970))
                ON CONFLICT (user_id, friend_id) DO NOTHING
                """).run()
        }
        try await SocialGeneration.raise(sql)
    }

    func removeFriendship(_ first: UserID, _ second: UserID) async throws -> Bool {
        let changed = try await !sql.raw("""
            DELETE FROM friendships WHERE (user_id = \(bind: first.rawValue) AND friend_id = \(bind: second.rawValue))
                OR (user_id = \(bind: second.rawValue) AND friend_id = \(bind: first.rawValue))
            RETURNING user_id
            """).all().isEmpty
        if changed { try await SocialGeneration.raise(sql) }
        return changed
    }

    func friends(of user: UserID, limit: Int) async throws -> [FriendLink] {
        try await sql.raw("""
            SELECT friend_id, since FROM friendships WHERE user_id = \(bind: user.rawValue) ORDER BY since, friend_id LIMIT \(bind: limit)
            """).all().map { FriendLink(userID: UserID(try $0.string("friend_id")), since: try $0.date("since")) }
    }

    func areFriends(_ first: UserID, _ second: UserID) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS one FROM friendships WHERE user_id = \(bind: first.rawValue) AND friend_id = \(bind: second.rawValue)
            """).first() != nil
    }

    func block(_ blocked: UserID, by blocker: UserID, at now: Date) async throws -> Bool {
        let changed = try await !sql.raw("""
            INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (\(bind: blocker.rawValue), \(bind: blocked.rawValue), \(bind: now.millisecondsSince1970))
            ON CONFLICT (blocker_id, blocked_id) DO NOTHING RETURNING blocker_id
            """).all().isEmpty
        if changed { try await SocialGeneration.raise(sql) }
        return changed
    }

    func unblock(_ blocked: UserID, by blocker: UserID) async throws -> Bool {
        let changed = try await !sql.raw("""
            DELETE FROM blocks WHERE blocker_id = \(bind: blocker.rawValue) AND blocked_id = \(bind: blocked.rawValue) RETURNING blocker_id
            """).all().isEmpty
        if changed { try await SocialGeneration.raise(sql) }
        return changed
    }

    func blocked(by blocker: UserID, limit: Int) async throws -> [UserID] {
        try await sql.raw("""
            SELECT blocked_id FROM blocks WHERE blocker_id = \(bind: blocker.rawValue) ORDER BY created_at, blocked_id LIMIT \(bind: limit)
            """).all().map { UserID(try $0.string("blocked_id")) }
    }

    func isBlocked(_ blocked: UserID, by blocker: UserID) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS one FROM blocks WHERE blocker_id = \(bind: blocker.rawValue) AND blocked_id = \(bind: blocked.rawValue)
            """).first() != nil
    }

    func upsertEntry(_ entry: TrustListEntry) async throws {
        try await sql.raw("""
            INSERT INTO trust_list_entries (owner_id, merchant_id, kind, note, created_at, updated_at)
            VALUES (\(bind: entry.ownerID.rawValue), \(bind: entry.merchantID.rawValue), \(bind: entry.kind.rawValue), \(bind: entry.note),
                \(bind: entry.createdAt.millisecondsSince1970), \(bind: entry.updatedAt.millisecondsSince1970))
            ON CONFLICT (owner_id, merchant_id) DO UPDATE SET kind = excluded.kind, note = excluded.note, updated_at = excluded.updated_at
            """).run()
        try await SocialGeneration.raise(sql)
    }

    func deleteEntry(owner: UserID, merchant: UserID) async throws -> Bool {
        let changed = try await !sql.raw("""
            DELETE FROM trust_list_entries WHERE owner_id = \(bind: owner.rawValue) AND merchant_id = \(bind: merchant.rawValue) RETURNING owner_id
            """).all().isEmpty
        if changed { try await SocialGeneration.raise(sql) }
        return changed
    }

    func entries(owner: UserID, limit: Int) async throws -> [TrustListEntry] {
        try await sql.raw("""
            SELECT * FROM trust_list_entries WHERE owner_id = \(bind: owner.rawValue) ORDER BY updated_at DESC, merchant_id LIMIT \(bind: limit)
            """).all().map(Self.entry)
    }

    func entry(owner: UserID, merchant: UserID) async throws -> TrustListEntry? {
        try await sql.raw("""
            SELECT * FROM trust_list_entries WHERE owner_id = \(bind: owner.rawValue) AND merchant_id = \(bind: merchant.rawValue)
            """).first().map(Self.entry)
    }

    func visibility(owner: UserID) async throws -> [TrustListKind: ListVisibility] {
        var result: [TrustListKind: ListVisibility] = [.trusted: .friends, .warned: .friends]
        for row in try await sql.raw("SELECT kind, visibility FROM trust_list_visibility WHERE owner_id = \(bind: owner.rawValue)").all() {
            if let kind = TrustListKind(rawValue: try row.string("kind")), let visibility = ListVisibility(rawValue: try row.string("visibility")) {
                result[kind] = visibility
            }
        }
        return result
    }

    func setVisibility(owner: UserID, kind: TrustListKind, visibility: ListVisibility) async throws {
        try await sql.raw("""
            INSERT INTO trust_list_visibility (owner_id, kind, visibility) VALUES (\(bind: owner.rawValue), \(bind: kind.rawValue), \(bind: visibility.rawValue))
            ON CONFLICT (owner_id, kind) DO UPDATE SET visibility = excluded.visibility
            """).run()
        try await SocialGeneration.raise(sql)
    }

    /// The visibility of an owner's list of an entry's kind, with the default when never chosen.
    static let entryVisibility = """
        COALESCE((SELECT v.visibility FROM trust_list_visibility v WHERE v.owner_id = e.owner_id AND v.kind = e.kind), 'friends')
        """

    func networkVoices(viewer: UserID, merchant: UserID, limit: Int) async throws -> [NetworkVoice] {
        let (me, them) = (viewer.rawValue, merchant.rawValue)
        let friends: SQLQueryString = "SELECT friend_id FROM friendships WHERE user_id = \(bind: me)"
        let friendsOfFriends: SQLQueryString = """
            SELECT f2.friend_id FROM friendships f1 JOIN friendships f2 ON f2.user_id = f1.friend_id
            WHERE f1.user_id = \(bind: me) AND f2.friend_id <> \(bind: me)
            """
        func notBlockingViewer(_ column: String) -> SQLQueryString {
            "NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = \(unsafeRaw: column) AND b.blocked_id = \(bind: me))"
        }
        var voices: [NetworkVoice] = []
        for (hops, people) in [(1, friends), (2, friendsOfFriends)] {
            // The merchant's ratings are few next to a network; filter them by it.
            let ratings = try await sql.raw("""
                SELECT r.rater_id, r.overall FROM ratings r
                WHERE r.ratee_id = \(bind: them) AND r.published_at IS NOT NULL AND r.hidden_at IS NULL AND r.rater_id <> \(bind: me)
                    AND r.rater_id IN (\(people)) AND \(notBlockingViewer("r.rater_id"))
                ORDER BY r.published_at DESC, r.id DESC LIMIT \(bind: limit)
                """).all()
            var seen = Set<String>()
            for row in ratings {
                let rater = try row.string("rater_id")
                guard seen.insert(rater).inserted, let overall = OverallRating(rawValue: try row.string("overall")), overall != .neutral else { continue }
                voices.append(NetworkVoice(person: UserID(rater), hops: hops, verdict: .traded(good: overall == .positive)))
            }
            // Friends see lists shown to friends; friends of friends' lists only when public.
            let shownTo = hops == 1 ? "('friends', 'public')" : "('public')"
            let entries = try await sql.raw("""
                SELECT e.owner_id, e.kind, e.note FROM trust_list_entries e
                WHERE e.merchant_id = \(bind: them) AND e.owner_id <> \(bind: me) AND e.owner_id IN (\(people))
                    AND \(unsafeRaw: Self.entryVisibility) IN \(unsafeRaw: shownTo) AND \(notBlockingViewer("e.owner_id"))
                ORDER BY e.updated_at DESC LIMIT \(bind: limit)
                """).all()
            for row in entries {
                guard let kind = TrustListKind(rawValue: try row.string("kind")) else { continue }
                voices.append(NetworkVoice(person: UserID(try row.string("owner_id")), hops: hops, verdict: .listed(kind, note: try row.optionalString("note"))))
            }
        }
        return voices
    }

    func networkStamp(merchant: UserID) async throws -> NetworkStamp {
        // Each MAX is one seek down ratings_ratee (ratee, side, published_at).
        let row = try await sql.raw("""
            SELECT (SELECT generation FROM social_generation WHERE id = 1) AS generation,
                (SELECT MAX(published_at) FROM ratings WHERE ratee_id = \(bind: merchant.rawValue) AND side = 'buyer') AS as_seller,
                (SELECT MAX(published_at) FROM ratings WHERE ratee_id = \(bind: merchant.rawValue) AND side = 'seller') AS as_buyer
            """).first()
        let latest = [try row?.optionalInt64("as_seller"), try row?.optionalInt64("as_buyer")].compactMap { $0 ?? nil }.max()
        return NetworkStamp(generation: try row?.int64("generation") ?? 0, lastPublication: latest)
    }

    func friendsWarning(viewer: UserID, about merchant: UserID) async throws -> [UserID] {
        try await sql.raw("""
            SELECT e.owner_id FROM trust_list_entries e JOIN friendships f ON f.friend_id = e.owner_id AND f.user_id = \(bind: viewer.rawValue)
            WHERE e.merchant_id = \(bind: merchant.rawValue) AND e.kind = 'warned' AND \(unsafeRaw: Self.entryVisibility) IN ('friends', 'public')
            ORDER BY e.owner_id LIMIT 20
            """).all().map { UserID(try $0.string("owner_id")) }
    }

    func completedTrades(between person: UserID, and merchant: UserID) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM orders WHERE status = 'completed'
                AND ((buyer_id = \(bind: person.rawValue) AND seller_id = \(bind: merchant.rawValue))
                    OR (buyer_id = \(bind: merchant.rawValue) AND seller_id = \(bind: person.rawValue)))
            """).first()?.int("n") ?? 0
    }

    func weeklyVolumes(weekStart: Date, minimum: Int) async throws -> [(seller: UserID, thisWeek: Int, previousFourWeeks: Int)] {
        let week = weekStart.millisecondsSince1970
        let before = weekStart.addingTimeInterval(-28 * 86_400).millisecondsSince1970
        return try await sql.raw("""
            SELECT seller_id, SUM(CASE WHEN created_at >= \(bind: week) THEN 1 ELSE 0 END) AS this_week,
                SUM(CASE WHEN created_at < \(bind: week) THEN 1 ELSE 0 END) AS before
            FROM orders WHERE created_at >= \(bind: before)
            GROUP BY seller_id HAVING SUM(CASE WHEN created_at >= \(bind: week) THEN 1 ELSE 0 END) >= \(bind: minimum)
            ORDER BY seller_id
            """).all().map { (UserID(try $0.string("seller_id")), try $0.int("this_week"), try $0.int("before")) }
    }

    func ratingShares(recentStart: Date, minimum: Int) async throws -> [(merchant: UserID, recentNegative: Int, recentTotal: Int, earlierNegative: Int, earlierTotal: Int)] {
        let recent = recentStart.millisecondsSince1970
        let earlier = recentStart.addingTimeInterval(-180 * 86_400).millisecondsSince1970
        return try await sql.raw("""
            SELECT ratee_id,
                SUM(CASE WHEN published_at >= \(bind: recent) AND overall = 'negative' THEN 1 ELSE 0 END) AS recent_negative,
                SUM(CASE WHEN published_at >= \(bind: recent) THEN 1 ELSE 0 END) AS recent_total,
                SUM(CASE WHEN published_at < \(bind: recent) AND overall = 'negative' THEN 1 ELSE 0 END) AS earlier_negative,
                SUM(CASE WHEN published_at < \(bind: recent) THEN 1 ELSE 0 END) AS earlier_total
            FROM ratings WHERE side = 'buyer' AND published_at >= \(bind: earlier)
            GROUP BY ratee_id
            HAVING SUM(CASE WHEN published_at >= \(bind: recent) AND overall = 'negative' THEN 1 ELSE 0 END) >= \(bind: minimum)
            ORDER BY ratee_id
            """).all().map {
                (UserID(try $0.string("ratee_id")), try $0.int("recent_negative"), try $0.int("recent_total"), try $0.int("earlier_negative"), try $0.int("earlier_total"))
            }
    }

    func recentSaleTotals(seller: UserID, currency: Currency, limit: Int) async throws -> [Int64] {
        try await sql.raw("""
            SELECT total_minor FROM orders WHERE seller_id = \(bind: seller.rawValue) AND status = 'completed' AND currency = \(bind: currency.code)
            ORDER BY completed_at DESC LIMIT \(bind: limit)
            """).all().map { try $0.int64("total_minor") }
    }

    static func request(_ row: any SQLRow) throws -> FriendRequest {
        FriendRequest(
            id: FriendRequestID(try row.string("id")), fromID: UserID(try row.string("from_id")), toID: UserID(try row.string("to_id")),
            state: FriendRequest.State(rawValue: try row.string("state")) ?? .cancelled, message: try row.optionalString("message"),
            createdAt: try row.date("created_at"), answeredAt: try row.optionalDate("answered_at")
        )
    }

    static func entry(_ row: any SQLRow) throws -> TrustListEntry {
        TrustListEntry(
            ownerID: UserID(try row.string("owner_id")), merchantID: UserID(try row.string("merchant_id")),
            kind: TrustListKind(rawValue: try row.string("kind")) ?? .trusted, note: try row.optionalString("note"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }
}
