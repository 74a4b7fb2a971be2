import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Ratings, trust profiles and fraud alerts (C1–C7, A5, F1, D4).
extension FiduciaAPIHandler {
    func rateOrder(_ input: Operations.RateOrder.Input) async throws -> Operations.RateOrder.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let stars = [body.itemAsDescribed, body.serviceAttitude, body.shippingSpeed]
        var detailed: DetailedRatings?
        if stars.contains(where: { $0 != nil }) {
            guard let item = body.itemAsDescribed, let service = body.serviceAttitude, let shipping = body.shippingSpeed else {
                throw ValidationError(field: "itemAsDescribed", "Give all three detailed ratings, or none.")
            }
            detailed = DetailedRatings(itemAsDescribed: Int(clamping: item), serviceAttitude: Int(clamping: service), shippingSpeed: Int(clamping: shipping))
        }
        let submission = RatingSubmission(overall: OverallRating(rawValue: body.overall.rawValue)!, detailed: detailed, comment: body.comment)
        let rating = try await services.ratings.rate(OrderID(input.path.orderId), submission, by: principal)
        return .ok(.init(body: .json(.init(rating, viewer: principal))))
    }

    func listOrderRatings(_ input: Operations.ListOrderRatings.Input) async throws -> Operations.ListOrderRatings.Output {
        _ = try await services.escrow.order(OrderID(input.path.orderId), by: principal)
        let ratings = try await services.ratings.ratings(of: OrderID(input.path.orderId), by: principal)
        let viewer = principal
        return .ok(.init(body: .json(.init(items: ratings.map { .init($0, viewer: viewer) }))))
    }

    func listRatings(_ input: Operations.ListRatings.Input) async throws -> Operations.ListRatings.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let side = input.query.side.flatMap { RatingSide(rawValue: $0.rawValue) }
        let result = try await services.ratings.ratings(
            of: UserID(input.path.userId), received: input.query.direction != .given, side: side, page: page, by: principal
        )
        let viewer = principal
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, viewer: viewer) }, nextCursor: result.nextCursor))))
    }

    func getRating(_ input: Operations.GetRating.Input) async throws -> Operations.GetRating.Output {
        .ok(.init(body: .json(.init(try await services.ratings.rating(RatingID(input.path.ratingId), by: principal), viewer: principal))))
    }

    func replyToRating(_ input: Operations.ReplyToRating.Input) async throws -> Operations.ReplyToRating.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let rating = try await services.ratings.reply(to: RatingID(input.path.ratingId), text: body.text, by: principal)
        return .ok(.init(body: .json(.init(rating, viewer: principal))))
    }

    func getTrustProfile(_ input: Operations.GetTrustProfile.Input) async throws -> Operations.GetTrustProfile.Output {
        let role: Role = input.query.role == .buyer ? .buyer : .seller
        let profile = try await services.credit.profile(of: UserID(input.path.userId), role: role, viewer: principal)
        return .ok(.init(body: .json(.init(profile))))
    }

    func listFraudAlerts(_ input: Operations.ListFraudAlerts.Input) async throws -> Operations.ListFraudAlerts.Output {
        _ = try principal.requireRole(.moderator, .admin)
        // Every limit and cursor goes through PageRequest, which refuses what is out of range.
        let page = try PageRequest(limit: input.query.limit.map { Int(clamping: $0) })
        let minimumRisk = input.query.minimumRisk ?? FraudAssessment.alertThreshold
        guard (0...1).contains(minimumRisk) else { throw ValidationError(field: "minimumRisk", "The minimum risk must be between 0 and 1.") }
        try await services.trust.sync()
        let alerts = try await services.trust.moderationAlerts(minimumRisk: minimumRisk).prefix(page.limit)
        let users = try await services.accounts.users(alerts.map(\.user))
        return .ok(.init(body: .json(.init(items: alerts.map { alert in
            .init(
                userId: alert.user.rawValue, displayName: users[alert.user]?.displayName ?? alert.user.rawValue, risk: alert.assessment.risk,
                reasons: alert.assessment.reasons.map { .init(kind: $0.kind.rawValue, risk: $0.risk, explanation: $0.explanation) }
            )
        }))))
    }
}

extension Components.Schemas.Rating {
    init(_ rating: Rating, viewer: Principal) {
        self.init(
            id: rating.id.rawValue, orderId: rating.orderID.rawValue, raterId: rating.raterID.rawValue, rateeId: rating.rateeID.rawValue,
            side: .init(rawValue: rating.side.rawValue)!, overall: .init(rawValue: rating.overall.rawValue)!,
            itemAsDescribed: rating.detailed.map { Int64($0.itemAsDescribed) }, serviceAttitude: rating.detailed.map { Int64($0.serviceAttitude) },
            shippingSpeed: rating.detailed.map { Int64($0.shippingSpeed) }, comment: rating.comment, published: rating.isPublished,
            publishedAt: rating.publishedAt, createdAt: rating.createdAt, reply: rating.reply, repliedAt: rating.repliedAt,
            logIndex: rating.logIndex.map(Int64.init), flags: viewer.isStaff ? rating.flags.map(\.rawValue).sorted() : []
        )
    }
}

extension Components.Schemas.TrustProfile {
    init(_ profile: TrustProfile) {
        func counts(_ index: Int) -> Components.Schemas.RatingCounts {
            let counts = profile.periods[index].counts
            return .init(positive: Int64(counts.positive), neutral: Int64(counts.neutral), negative: Int64(counts.negative))
        }
        self.init(
            verifiedLevels: profile.verifiedLevels.sorted().map { .init(rawValue: $0.rawValue)! },
            seals: profile.seals.map { .init($0, merchantName: profile.user.displayName, certifierName: nil, origins: $0.origins, now: Date()) },
            userId: profile.user.id.rawValue,
            displayName: profile.user.displayName,
            role: profile.role == .buyer ? .buyer : .seller,
            score: Int64(profile.score.score),
            tier: .init(rawValue: profile.score.tier.rawValue)!,
            confidence: profile.score.confidence,
            uncertainty: Int64(profile.score.uncertainty),
            breakdown: profile.score.breakdown.map { .init(factor: $0.factor, effect: Double($0.effect), explanation: $0.explanation) },
            ratingCounts: .init(last30Days: counts(0), last6Months: counts(1), allTime: counts(2)),
            detailedAverages: profile.detailedAverages.map {
                .init(itemAsDescribed: $0.itemAsDescribed, serviceAttitude: $0.serviceAttitude, shippingSpeed: $0.shippingSpeed, count: Int64($0.count))
            },
            completedTrades: Int64(profile.completedTrades),
            refundedTrades: Int64(profile.refundedTrades),
            memberSince: profile.user.createdAt,
            responseTimeSeconds: profile.responseTimeSeconds.map { Int64($0.rounded()) },
            disputes: .init(
                opened: Int64(profile.disputes.opened), resolved: Int64(profile.disputes.resolved), lost: Int64(profile.disputes.lost),
                byAgreement: Int64(profile.disputes.byAgreement), agreementShare: profile.disputes.agreementShare
            ),
            standing: .init(rawValue: "\(profile.standing.level)")!,
            penaltyPoints: Int64(profile.standing.points),
            deposit: profile.role == .seller ? profile.deposit.map { .init(amountMinor: $0.amountMinor, currency: $0.currency.code) } : nil,
            trust: .init(
                value: profile.engineTrust.value, confidence: profile.engineTrust.confidence,
                factors: profile.engineTrust.factors.map { .init(factor: $0.name, effect: $0.effect, explanation: $0.explanation) }
            ),
            personalized: profile.personalized.map { personalized in
                .init(
                    probability: personalized.probability, summary: personalized.summary,
                    reasons: personalized.prediction.contributions.map { .init(factor: "\($0.signal)", effect: $0.effect, explanation: $0.explanation) }
                )
            },
            commendations: profile.commendations,
            scoreHistory: profile.history.map { .init(at: $0.at, score: Int64($0.score), tier: $0.tier.rawValue) },
            tiers: Tier.allCases.map { .init(tier: $0.rawValue, rule: $0.rule) }
        )
    }
}
