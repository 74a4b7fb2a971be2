import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Mutual ratings after a real trade (C1, C2, C5): double-blind, one per side, editable until
/// published, published together when both have rated or when the window closes; one public
/// reply per rating.
public struct RatingService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    public let windowDays: Int
    static let publishJobKind = "ratings.publish"

    init(store: Store, clock: any WallClock, random: any RandomSource, windowDays: Int) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.windowDays = windowDays
    }

    /// Rates the other party of an order (or changes one's unpublished rating).
    public func rate(_ orderID: OrderID, _ submission: RatingSubmission, by principal: Principal) async throws -> Rating {
        let rater = try principal.requireUser()
        var cleaned = submission
        cleaned.comment = submission.comment?.trimmingWhitespace()
        if cleaned.comment?.isEmpty == true { cleaned.comment = nil }
        let submission = cleaned
        let now = clock.now()
        let windowDays = windowDays
        let newID: RatingID = ids.make()
        let jobID: JobID = ids.make()
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(orderID, lock: true) else { throw NotFoundError(entity: "order", id: orderID.rawValue) }
            let side: RatingSide
            do {
                side = try RatingRules.validate(submission, order: order, rater: rater.id, now: now, windowDays: windowDays)
            } catch RatingError.notAParty {
                throw NotFoundError(entity: "order", id: orderID.rawValue)
            }
            var rating: Rating
            if var existing = try await repositories.ratings.find(order: orderID, rater: rater.id) {
                guard !existing.isPublished else { throw RatingError.alreadyPublished }
                existing.overall = submission.overall
                existing.detailed = submission.detailed
                existing.comment = submission.comment
                existing.updatedAt = now
                try await repositories.ratings.update(existing)
                rating = existing
            } else {
                let shared = try await repositories.orders.tradesBetween(
                    order.buyerID, order.sellerID, from: order.createdAt.addingTimeInterval(-90 * 86_400), to: order.createdAt, excluding: order.id
                )
                rating = Rating(
                    id: newID, orderID: orderID, raterID: rater.id, rateeID: side == .buyerRatesSeller ? order.sellerID : order.buyerID,
                    side: side, overall: submission.overall, detailed: submission.detailed, comment: submission.comment,
                    flags: RatingRules.flags(for: order, previousTradesBetweenParties: shared), orderTotalMinor: order.totalMinor,
                    currency: order.currency, createdAt: now, updatedAt: now
                )
                try await repositories.ratings.insert(rating)
            }
            if try await repositories.ratings.ratings(order: orderID).count == 2 {
                // Both sides have rated: publish both at once, so neither saw the other's first.
                let published = try await Self.publish(orderID, in: repositories, now: now, ids: ids)
                rating = published.first { $0.id == rating.id } ?? rating
            } else if let closes = RatingRules.windowCloses(for: order, windowDays: windowDays) {
                try await repositories.jobs.schedule(
                    Job(id: jobID, kind: Self.publishJobKind, uniqueKey: "\(Self.publishJobKind):\(orderID)", payload: orderID.rawValue, dueAt: closes),
                    now: now
                )
            }
            return rating
        }
    }

    static func publish(_ orderID: OrderID, in repositories: Repositories, now: Date, ids: IdentifierGenerator) async throws -> [Rating] {
        var published = try await repositories.ratings.publish(order: orderID, at: now)
        for (position, rating) in published.enumerated() {
            // In the rating log, in the same transaction: published means logged.
            published[position].logIndex = try await RatingLogService.append(.rating(LoggedRating(rating)), in: repositories, now: now)
            try await CreditService.scheduleRefresh(rating.rateeID, role: rating.side.rateeRole, in: repositories, now: now, ids: ids)
        }
        return published
    }

    /// A user's ratings (received or given), newest first. Everyone sees published ratings; the
    /// author also sees their own unpublished ones.
    public func ratings(of user: UserID, received: Bool, side: RatingSide?, page: PageRequest, by principal: Principal) async throws -> Page<Rating> {
        let viewer = principal.actingUser?.id
        let fetched = try await store.read { repositories in
            guard try await repositories.users.find(user) != nil else { throw NotFoundError(entity: "user", id: user.rawValue) }
            return try await repositories.ratings.list(
                user: user, received: received, side: side, includeUnpublishedBy: viewer, before: page.after.map(RatingID.init), limit: page.limit + 1
            )
        }
        return Page(fetched: fetched, limit: page.limit, identifier: \.id.rawValue)
    }

    /// One rating, if the caller may see it and no moderator hid it.
    public func rating(_ id: RatingID, by principal: Principal) async throws -> Rating {
        guard let rating = try await store.read({ try await $0.ratings.findShown(id) }), RatingRules.maySee(rating, principal) else {
            throw NotFoundError(entity: "rating", id: id.rawValue)
        }
        return rating
    }

    /// The ratings of one order that the caller may see.
    public func ratings(of order: OrderID, by principal: Principal) async throws -> [Rating] {
        try await store.read { try await $0.ratings.ratings(order: order) }.filter { RatingRules.maySee($0, principal) }
    }

    /// The rated party's one public reply to a published rating (C5).
    public func reply(to id: RatingID, text: String, by principal: Principal) async throws -> Rating {
        let user = try principal.requireUser()
        let text = text.trimmingWhitespace()
        guard RatingRules.replyLength.contains(text.codePointCount) else { throw RatingError.invalid([FieldError(field: "text", message: "A reply is 1 to 1000 characters.")]) }
        let now = clock.now()
        return try await store.write { repositories in
            guard var rating = try await repositories.ratings.find(id), RatingRules.maySee(rating, principal) else {
                throw NotFoundError(entity: "rating", id: id.rawValue)
            }
            guard rating.rateeID == user.id else { throw RatingError.notTheRatee }
            guard rating.isPublished else { throw RatingError.notPublished }
            guard rating.reply == nil else { throw RatingError.alreadyReplied }
            try await repositories.ratings.setReply(id, text: text, at: now)
            try await RatingLogService.append(.reply(ratingID: id, text: text, at: now), in: repositories, now: now)
            rating.reply = text
            rating.repliedAt = now
            return rating
        }
    }

    /// Publishes an order's ratings when its window closes, whoever rated.
    var jobHandlers: [JobHandler] {
        [
            JobHandler(kind: Self.publishJobKind) { job, repositories, now in
                _ = try await Self.publish(OrderID(job.payload), in: repositories, now: now, ids: ids)
            },
        ]
    }
}
