import FiduciaDomain
import Foundation
import SQLKit


/// A published rating as the trust engine consumes it, in publication order.
public struct PublishedRating: Sendable, Equatable {
    public let publication: Int64
    public let rating: Rating
}

/// Stores ratings; publication gives each a number so that every server feeds its trust engine
/// the same ratings in the same order.
public protocol RatingRepository: Sendable {
    func insert(_ rating: Rating) async throws
    /// Saves an unpublished rating's new contents.
    func update(_ rating: Rating) async throws
    func find(_ id: RatingID) async throws -> Rating?
    /// The rating unless a moderator hid it.
    func findShown(_ id: RatingID) async throws -> Rating?
    func find(order: OrderID, rater: UserID) async throws -> Rating?
    func ratings(order: OrderID) async throws -> [Rating]
    /// Publishes every unpublished rating of the order at `now`; returns those it published.
    func publish(order: OrderID, at now: Date) async throws -> [Rating]
    /// Ratings published after publication number `after`, in order.
    func published(after: Int64, limit: Int) async throws -> [PublishedRating]
    /// Published ratings a user received (or gave), newest first, before `cursor`.
    func list(user: UserID, received: Bool, side: RatingSide?, includeUnpublishedBy viewer: UserID?, before cursor: RatingID?, limit: Int) async throws -> [Rating]
    /// All published ratings a user received on one side, oldest first (for the credit score).
    func allReceived(by user: UserID, side: RatingSide) async throws -> [Rating]
    func setReply(_ id: RatingID, text: String, at now: Date) async throws
    /// Counts of published ratings received on one side since `since` (all time when nil).
    func counts(ratee: UserID, side: RatingSide, since: Date?) async throws -> RatingCounts
    /// Averages of the detailed ratings a seller received, and how many there are.
    func detailedAverages(seller: UserID) async throws -> (itemAsDescribed: Double, serviceAttitude: Double, shippingSpeed: Double, count: Int)?
    /// Hides a published rating from profiles, lists and scores (a moderation decision with reasons).
    func hide(_ id: RatingID, reason: String, at now: Date) async throws
}

struct SQLRatingRepository: RatingRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let columns = """
        id, order_id, rater_id, ratee_id, side, overall, item_as_described, service_attitude, shipping_speed, comment, flags,
        order_total_minor, currency, created_at, updated_at, published_at, publication, reply, replied_at
        """
    /// What is read: the written columns and the rating's leaf in the rating log.
    static let selected = columns + ", log_index"

    func insert(_ rating: Rating) async throws {
        try await sql.raw("""
            INSERT INTO ratings (\(unsafeRaw: Self.columns)) VALUES (
                \(bind: rating.id.rawValue), \(bind: rating.orderID.rawValue), \(bind: rating.raterID.rawValue), \(bind: rating.rateeID.rawValue),
                \(bind: rating.side.rawValue), \(bind: rating.overall.rawValue), \(bind: rating.detailed?.itemAsDescribed),
                \(bind: rating.detailed?.serviceAttitude), \(bind: rating.detailed?.shippingSpeed), \(bind: rating.comment),
                \(bind: Self.encode(rating.flags)), \(bind: rating.orderTotalMinor), \(bind: rating.currency.code),
                \(bind: rating.createdAt.millisecondsSince1970), \(bind: rating.updatedAt.millisecondsSince1970), NULL, NULL, NULL, NULL)
            """).run()
    }

    func update(_ rating: Rating) async throws {
        try await sql.raw("""
            UPDATE ratings SET overall = \(bind: rating.overall.rawValue), item_as_described = \(bind: rating.detailed?.itemAsDescribed),
                service_attitude = \(bind: rating.detailed?.serviceAttitude), shipping_speed = \(bind: rating.detailed?.shippingSpeed),
                comment = \(bind: rating.comment), updated_at = \(bind: rating.updatedAt.millisecondsSince1970)
            WHERE id = \(bind: rating.id.rawValue) AND published_at IS NULL
            """).run()
    }

    func find(_ id: RatingID) async throws -> Rating? {
        try await sql.raw("SELECT \(unsafeRaw: Self.selected) FROM ratings WHERE id = \(bind: id.rawValue)").first().map(Self.rating)
    }

    func findShown(_ id: RatingID) async throws -> Rating? {
        try await sql.raw("SELECT \(unsafeRaw: Self.selected) FROM ratings WHERE id = \(bind: id.rawValue) AND hidden_at IS NULL").first().map(Self.rating)
    }

    func find(order: OrderID, rater: UserID) async throws -> Rating? {
        try await sql.raw("SELECT \(unsafeRaw: Self.selected) FROM ratings WHERE order_id = \(bind: order.rawValue) AND rater_id = \(bind: rater.rawValue)")
            .first().map(Self.rating)
    }

    func ratings(order: OrderID) async throws -> [Rating] {
        try await sql.raw("SELECT \(unsafeRaw: Self.selected) FROM ratings WHERE order_id = \(bind: order.rawValue) ORDER BY id").all().map(Self.rating)
    }

    func publish(order: OrderID, at now: Date) async throws -> [Rating] {
        let pending = try await sql.raw("""
            SELECT id FROM ratings WHERE order_id = \(bind: order.rawValue) AND published_at IS NULL ORDER BY id\(unsafeRaw: kind.forUpdate)
            """).all().map { try $0.string("id") }
        var published: [Rating] = []
        for id in pending {
            // The counter row is locked until this transaction commits, so publication numbers
            // become visible in order: a server following them never skips one that commits late.
            guard let row = try await sql.raw("""
                UPDATE counters SET value = value + 1 WHERE name = 'rating_publication' RETURNING value
                """).first()
            else { preconditionFailure("the publication counter exists from the migration") }
            let number = try row.int64("value")
            try await sql.raw("""
                UPDATE ratings SET published_at = \(bind: now.millisecondsSince1970), publication = \(bind: number) WHERE id = \(bind: id)
                """).run()
            if let rating = try await find(RatingID(id)) { published.append(rating) }
        }
        return published
    }

    func published(after: Int64, limit: Int) async throws -> [PublishedRating] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.selected) FROM ratings WHERE publication > \(bind: after) AND hidden_at IS NULL ORDER BY publication LIMIT \(bind: limit)
            """).all().map { PublishedRating(publication: try $0.int64("publication"), rating: try Self.rating($0)) }
    }

    func list(user: UserID, received: Bool, side: RatingSide?, includeUnpublishedBy viewer: UserID?, before cursor: RatingID?, limit: Int) async throws -> [Rating] {
        var query = sql.select().column(SQLRaw(Self.selected)).from("ratings")
            .where(received ? "ratee_id" : "rater_id", .equal, user.rawValue)
            .where("hidden_at", .is, SQLLiteral.null)
        if let side { query = query.where("side", .equal, side.rawValue) }
        if let viewer {
            query = query.where { $0.where("published_at", .isNot, SQLLiteral.null).orWhere("rater_id", .equal, viewer.rawValue) }
        } else {
            query = query.where("published_at", .isNot, SQLLiteral.null)
        }
        if let cursor { query = query.where("id", .lessThan, cursor.rawValue) }
        return try await query.orderBy("id", .descending).limit(limit).all().map(Self.rating)
    }

    func allReceived(by user: UserID, side: RatingSide) async throws -> [Rating] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.selected) FROM ratings WHERE ratee_id = \(bind: user.rawValue) AND side = \(bind: side.rawValue) AND published_at IS NOT NULL AND hidden_at IS NULL ORDER BY publication
            """).all().map(Self.rating)
    }

    func setReply(_ id: RatingID, text: String, at now: Date) async throws {
        try await sql.raw("UPDATE ratings SET reply = \(bind: text), replied_at = \(bind: now.millisecondsSince1970) WHERE id = \(bind: id.rawValue)").run()
    }

    func counts(ratee: UserID, side: RatingSide, since: Date?) async throws -> RatingCounts {
        let rows = try await sql.raw("""
            SELECT overall, COUNT(*) AS n FROM ratings
            WHERE ratee_id = \(bind: ratee.rawValue) AND side = \(bind: side.rawValue) AND published_at IS NOT NULL AND hidden_at IS NULL
              AND published_at >= \(bind: since?.millisecondsSince1970 ?? 0)
            GROUP BY overall
            """).all()
        var counts = RatingCounts()
        for row in rows {
            let number = try row.int("n")
            switch OverallRating(rawValue: try row.string("overall")) {
            case .positive: counts.positive = number
            case .neutral: counts.neutral = number
            case .negative: counts.negative = number
            case nil: break
            }
        }
        return counts
    }

    func detailedAverages(seller: UserID) async throws -> (itemAsDescribed: Double, serviceAttitude: Double, shippingSpeed: Double, count: Int)? {
        guard let row = try await sql.raw("""
            SELECT COUNT(*) AS n, AVG(item_as_described * 1.0) AS item, AVG(service_attitude * 1.0) AS service, AVG(shipping_speed * 1.0) AS shipping
            FROM ratings WHERE ratee_id = \(bind: seller.rawValue) AND side = 'buyer' AND published_at IS NOT NULL AND hidden_at IS NULL AND item_as_described IS NOT NULL
            """).first(), try row.int("n") > 0
        else { return nil }
        return (try row.double("item"), try row.double("service"), try row.double("shipping"), try row.int("n"))
    }

    func hide(_ id: RatingID, reason: String, at now: Date) async throws {
        try await sql.raw("UPDATE ratings SET hidden_at = \(bind: now.millisecondsSince1970), hidden_reason = \(bind: reason) WHERE id = \(bind: id.rawValue)").run()
        // A hidden rating no longer speaks in anyone's network view.
        try await SocialGeneration.raise(sql)
    }

    static func encode(_ flags: Set<RatingFlag>) -> String {
        flags.map(\.rawValue).sorted().joined(separator: ",")
    }

    static func rating(_ row: any SQLRow) throws -> Rating {
        let item = try row.decode(column: "item_as_described", as: Int?.self)
        let service = try row.decode(column: "service_attitude", as: Int?.self)
        let shipping = try row.decode(column: "shipping_speed", as: Int?.self)
        var detailed: DetailedRatings?
        if let item, let service, let shipping { detailed = DetailedRatings(itemAsDescribed: item, serviceAttitude: service, shippingSpeed: shipping) }
        return Rating(
            id: RatingID(try row.string("id")),
            orderID: OrderID(try row.string("order_id")),
            raterID: UserID(try row.string("rater_id")),
            rateeID: UserID(try row.string("ratee_id")),
            side: RatingSide(rawValue: try row.string("side"))!,
            overall: OverallRating(rawValue: try row.string("overall"))!,
            detailed: detailed,
            comment: try row.optionalString("comment"),
            flags: Set(try row.string("flags").split(separator: ",").compactMap { RatingFlag(rawValue: String($0)) }),
            orderTotalMinor: try row.int64("order_total_minor"),
            currency: Currency(try row.string("currency"))!,
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"),
            publishedAt: try row.optionalDate("published_at"),
            reply: try row.optionalString("reply"),
            repliedAt: try row.optionalDate("replied_at"),
            logIndex: try row.optionalInt64("log_index").map(Int.init)
        )
    }
}
