import FiduciaDomain
import FiduciaServices
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The public trust profile (F1), its embeddable badge, rating and replying through forms, and
/// the moderators' fraud alert queue.
struct TrustPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/merchants/{id}") { request in try await profile(request) }
        router.get("/merchants/{id}/badge.svg") { request, context in try await badge(context.parameters.get("id") ?? "") }
        router.page("/orders/{id}/rate", method: .post) { request in try await rate(request) }
        router.page("/ratings/{id}/reply", method: .post) { request in try await reply(request) }
        router.page("/moderation/fraud-alerts") { request in try await fraudAlerts(request) }
    }

    // MARK: Profile

    struct ProfileView: Sendable {
        struct Factor: Sendable { let effectText: String; let sign: String; let explanation: String }
        struct PeriodRow: Sendable { let name: String; let positive: Int; let neutral: Int; let negative: Int; let share: String }
        struct Detailed: Sendable {
            struct Item: Sendable { let label: String; let value: String }
            let count: Int
            let items: [Item]
        }
        struct RecentRating: Sendable {
            let id, overall, overallClass, at: String
            let stars, comment, reply: String?
            let canReply: Bool
        }
        struct Personal: Sendable { let percent: Int; let summary: String; let reasons: [String] }
        struct TierRule: Sendable { let name: String; let rule: String }
        struct SealRow: Sendable { let id, certifier, until, status, statusClass: String }

        let id, name, roleLabel, memberSince, tier, tierName, ratedBy: String
        let score, uncertainty, confidencePercent, completedTrades, refundedTrades: Int
        let oneTrade, isSeller, hasHistory: Bool
        let commendations: [String]
        let personalized: Personal?
        let breakdown: [Factor]
        let chart: String
        let periods: [PeriodRow]
        let detailed: Detailed?
        let recent: [RecentRating]
        let deposit: String
        let trustPercent, trustConfidencePercent: Int
        let tiers: [TierRule]
        let tierChanges: [String]
        let commendationCriteria = Commendations.criteria
        let disputesText: String
        let responseTime: String?
        let standing: String
        let restricted: Bool
        let violations: [PenaltyPages.ViolationRow]
        /// For staff: the rulebook's violations, for the form that applies a penalty.
        let penaltyChoices: [PenaltyPages.Choice]
        let embedCode: String
        var verified: [String] = []
        var seals: [SealRow] = []
        var network: NetworkPanel?
        /// Service commitments with their record, and the loyalty programme (F6).
        var care: CustomerCarePages.Panel?
    }

    /// The viewer's network's view of the merchant, and what the viewer can do about them (E1–E3).
    struct NetworkPanel: Sendable {
        struct Voice: Sendable { let id, name, relation, verdict, verdictClass: String; let note: String? }
        let personalPercent, globalPercent: Int
        let summary, explanation: [String]
        let voices: [Voice]
        let isFriend, requestPending, blocked, canList: Bool
        let listedAs: String?
        let back: String
    }

    private func profile(_ request: Request) async throws -> Response {
        let id = UserID(try request.pathSegment(1))
        let role: Role = request.uri.queryParameters["role"] == "buyer" ? .buyer : .seller
        let profile = try await services.credit.profile(of: id, role: role, viewer: site.principal)
        let side: RatingSide = role == .seller ? .buyerRatesSeller : .sellerRatesBuyer
        // The public profile shows published ratings only, even to the author of one still hidden.
        let recent = try await services.ratings.ratings(of: id, received: true, side: side, page: try PageRequest(limit: 10), by: .anonymous).items
        let viewer = site.principal.actingUser
        let score = profile.score
        let host = request.head.authority ?? "localhost"
        var view = ProfileView(
            id: id.rawValue,
            name: profile.user.displayName,
            roleLabel: role == .seller ? "Seller" : "Buyer",
            memberSince: PageFormat.date(profile.user.createdAt),
            tier: score.tier.rawValue,
            tierName: score.tier.name,
            ratedBy: role == .seller ? "buyers" : "sellers",
            score: score.score,
            uncertainty: score.uncertainty,
            confidencePercent: Int((score.confidence * 100).rounded()),
            completedTrades: profile.completedTrades,
            refundedTrades: profile.refundedTrades,
            oneTrade: profile.completedTrades == 1,
            isSeller: role == .seller,
            hasHistory: !profile.history.isEmpty,
            commendations: profile.commendations.map(Self.monthName),
            personalized: profile.personalized.map { personal in
                .init(
                    percent: Int((personal.probability * 100).rounded()), summary: personal.summary,
                    reasons: personal.prediction.contributions.filter { $0.signal != .baseline }.prefix(4).map(\.explanation)
                )
            },
            breakdown: score.breakdown.map {
                .init(effectText: $0.factor == "newcomer" ? "\($0.effect)" : ($0.effect >= 0 ? "+\($0.effect)" : "−\(-$0.effect)"),
                      sign: $0.effect >= 0 ? "plus" : "minus", explanation: $0.explanation)
            },
            chart: Charts.line(points: profile.history.map { ($0.at, $0.score) }, maximum: 1000, title: "Credit score of \(profile.user.displayName) over time"),
            periods: profile.periods.map { period in
                let counts = period.counts
                return .init(
                    name: period.name.prefix(1).uppercased() + period.name.dropFirst(), positive: counts.positive, neutral: counts.neutral,
                    negative: counts.negative, share: counts.total == 0 ? "–" : String(format: "%.1f%%", 100 * Double(counts.positive) / Double(counts.total))
                )
            },
            detailed: profile.detailedAverages.map { averages in
                .init(count: averages.count, items: [
                    .init(label: "Item as described", value: String(format: "%.1f", averages.itemAsDescribed)),
                    .init(label: "Service attitude", value: String(format: "%.1f", averages.serviceAttitude)),
                    .init(label: "Shipping speed", value: String(format: "%.1f", averages.shippingSpeed)),
                ])
            },
            recent: recent.map { rating in
                .init(
                    id: rating.id.rawValue, overall: rating.overall.rawValue.capitalized,
                    overallClass: rating.overall == .positive ? "good" : rating.overall == .neutral ? "warn" : "bad",
                    at: PageFormat.date(rating.publishedAt ?? rating.createdAt),
                    stars: rating.detailed.map { "described \($0.itemAsDescribed)★ · service \($0.serviceAttitude)★ · shipping \($0.shippingSpeed)★" },
                    comment: rating.comment, reply: rating.reply,
                    canReply: viewer?.id == id && rating.reply == nil && rating.isPublished
                )
            },
            deposit: profile.deposit?.description ?? "none",
            trustPercent: Int((profile.engineTrust.value * 100).rounded()),
            trustConfidencePercent: Int((profile.engineTrust.confidence * 100).rounded()),
            tiers: Tier.allCases.map { .init(name: $0.name, rule: $0.rule) },
            tierChanges: profile.tierChanges.map { "\(PageFormat.date($0.at)): \($0.from.name) → \($0.to.name)" },
            disputesText: Self.disputesText(profile.disputes),
            responseTime: profile.responseTimeSeconds.map(PageFormat.duration),
            standing: profile.standing.words.capitalizedFirst,
            restricted: profile.standing.level >= .restricted,
            violations: try await PenaltyPages.rows(profile.violations, principal: site.principal, services: services),
            penaltyChoices: viewer?.isStaff == true && viewer?.id != id ? try await PenaltyPages.choices(services: services) : [],
            embedCode: #"<a href="http://\#(host)/merchants/\#(id)"><img src="http://\#(host)/merchants/\#(id)/badge.svg" alt="Fiducia trust badge" width="240" height="60"></a>"#
        )
        let now = services.clock.now()
        view.verified = profile.verifiedLevels.sorted().map(\.label)
        for seal in profile.seals {
            let shown = try await services.seals.seal(seal.id)
            let status = seal.status(at: now)
            view.seals.append(.init(id: seal.id.rawValue, certifier: shown.certifierName, until: PageFormat.date(seal.validUntil), status: status.rawValue,
                                    statusClass: status == .valid ? "good" : "bad"))
        }
        if let viewer, viewer.id != id {
            view.network = try await networkPanel(merchant: id, viewer: viewer.id, back: request.uri.path)
        }
        view.care = try await CustomerCarePages(site: site).panel(for: id)
        return site.renderer.render("merchant", page: view, request: request)
    }

    private func networkPanel(merchant: UserID, viewer: UserID, back: String) async throws -> NetworkPanel {
        let network = try await services.social.networkView(of: merchant, by: site.principal)
        let names = try await services.social.names(of: network.voices)
        let state = try await services.social.relationship(with: merchant, by: site.principal)
        return NetworkPanel(
            personalPercent: Int((network.personalizedTrust * 100).rounded()), globalPercent: Int((network.globalTrust * 100).rounded()),
            summary: network.summary, explanation: network.explanation,
            voices: network.voices.map { voice in
                let (verdict, good, note): (String, Bool, String?) =
                    switch voice.verdict {
                    case .traded(let good): (good ? "traded well" : "traded badly", good, nil)
                    case .listed(let kind, let note): (kind == .trusted ? "lists as trusted" : "would not trade again", kind == .trusted, note)
                    }
                return .init(id: voice.person.rawValue, name: names[voice.person] ?? voice.person.rawValue, relation: voice.hops == 1 ? "friend" : "friend of a friend",
                             verdict: verdict, verdictClass: good ? "good" : "bad", note: note)
            },
            isFriend: state.relationship.friends, requestPending: state.relationship.requestSent || state.relationship.requestReceived,
            blocked: state.relationship.blocking, canList: state.tradedWith, listedAs: state.listedAs?.rawValue, back: back
        )
    }

    /// "3 in the last 12 months: 1 lost, 2 settled by agreement (100% of those resolved)".
    static func disputesText(_ stats: DisputeStats) -> String {
        guard stats.opened > 0 else { return "None in the last 12 months." }
        var text = "\(stats.opened) in the last 12 months: \(stats.lost) lost, \(stats.byAgreement) settled by agreement"
        if let share = stats.agreementShare { text += " (\(Int((share * 100).rounded()))% of those resolved)" }
        return text + "."
    }

    static func monthName(_ month: String) -> String {
        guard let (start, _) = MonthName.range(of: month) else { return month }
        var style = Date.FormatStyle().month(.wide).year()
        style.timeZone = PageFormat.utc
        return start.formatted(style)
    }

    // MARK: Badge

    /// An SVG badge with the tier and score that links back to the profile. It is drawn fresh
    /// for each request (cached five minutes), so a copied image goes stale and the link always
    /// leads to the live profile.
    private func badge(_ id: String) async throws -> Response {
        let profile = try await services.credit.profile(of: UserID(id), role: .seller, viewer: .anonymous)
        let name = Charts.escape(String(profile.user.displayName.prefix(24)))
        let color: String =
            switch profile.score.tier {
            case .new: "#57606a"
            case .bronze: "#a0522d"
            case .silver: "#6e7781"
            case .gold: "#9a6700"
            case .diamond: "#0b5cad"
            }
        let svg = #"""
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="240" height="60" viewBox="0 0 240 60" role="img" aria-label="Fiducia: \#(name), \#(profile.score.tier.name), score \#(profile.score.score)">
            <title>Fiducia trust badge: \#(name), \#(profile.score.tier.name), score \#(profile.score.score) of 1000</title>
            <a xlink:href="/merchants/\#(Charts.escape(id))" target="_top">
            <rect width="240" height="60" rx="8" fill="#ffffff" stroke="\#(color)" stroke-width="2"/>
            <rect width="72" height="60" rx="8" fill="\#(color)"/>
            <text x="36" y="26" text-anchor="middle" font-family="sans-serif" font-size="11" font-weight="700" fill="#ffffff">\#(profile.score.tier.name.uppercased())</text>
            <text x="36" y="46" text-anchor="middle" font-family="sans-serif" font-size="18" font-weight="800" fill="#ffffff">\#(profile.score.score)</text>
            <text x="84" y="25" font-family="sans-serif" font-size="13" font-weight="700" fill="#1b1f24">\#(name)</text>
            <text x="84" y="44" font-family="sans-serif" font-size="11" fill="#57606a">Verified by Fiducia · \#(profile.completedTrades) trades</text>
            </a>
            </svg>
            """#
        return Response(
            status: .ok,
            headers: [
                .contentType: "image/svg+xml; charset=utf-8",
                .cacheControl: "public, max-age=300",
                HTTPField.Name("Cross-Origin-Resource-Policy")!: "cross-origin",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: svg))
        )
    }

    // MARK: Forms

    struct RateForm: Decodable, CSRFProtectedForm, Sendable {
        var csrfToken: String?
        var overall: String?
        var itemAsDescribed: String?
        var serviceAttitude: String?
        var shippingSpeed: String?
        var comment: String?
    }

    private func rate(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let id = OrderID(try request.pathSegment(1))
        let form = try await site.form(RateForm.self, from: request)
        do {
            guard let overall = OverallRating(rawValue: form.overall ?? "") else { throw ValidationError(field: "overall", "Choose positive, neutral or negative.") }
            var detailed: DetailedRatings?
            if let item = form.itemAsDescribed.flatMap(Int.init), let service = form.serviceAttitude.flatMap(Int.init), let shipping = form.shippingSpeed.flatMap(Int.init) {
                detailed = DetailedRatings(itemAsDescribed: item, serviceAttitude: service, shippingSpeed: shipping)
            }
            _ = try await services.ratings.rate(id, RatingSubmission(overall: overall, detailed: detailed, comment: form.comment), by: site.principal)
            return PageRenderer.redirect(to: "/orders/\(id)?notice=rated")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await EscrowPages(site: site).showOrder(request, id: id, error: error.detail, status: error.kind.httpStatus)
        }
    }

    private func reply(_ request: Request) async throws -> Response {
        let viewer = try site.requireViewer(request)
        struct ReplyForm: Decodable, CSRFProtectedForm { var csrfToken: String?; var text: String? }
        let form = try await site.form(ReplyForm.self, from: request)
        _ = try await services.ratings.reply(to: RatingID(try request.pathSegment(1)), text: form.text ?? "", by: site.principal)
        return PageRenderer.redirect(to: "/merchants/\(viewer.id)?notice=replied")
    }

    // MARK: Moderation

    struct AlertsView: Sendable {
        struct Alert: Sendable { let id, name: String; let riskPercent: Int; let reasons: [String] }
        struct PartnerMatch: Sendable { let id, name, partner, matched, reason, date, at: String; let withdrawn: String? }
        let alerts: [Alert]
        /// Users that partner platforms' fraud feeds name (D6).
        let partnerMatches: [PartnerMatch]
    }

    private func fraudAlerts(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        _ = try site.principal.requireRole(.moderator, .admin)
        try await services.trust.sync()
        let alerts = try await services.trust.moderationAlerts().prefix(200)
        let matches = try await services.fraudFeed.matches(by: site.principal)
        let users = try await services.accounts.users(alerts.map(\.user) + matches.map(\.userID))
        let view = AlertsView(
            alerts: alerts.map { alert in
                .init(id: alert.user.rawValue, name: users[alert.user]?.displayName ?? alert.user.rawValue,
                      riskPercent: Int((alert.assessment.risk * 100).rounded()), reasons: alert.assessment.reasons.map(\.explanation))
            },
            partnerMatches: matches.map { match in
                .init(id: match.userID.rawValue, name: users[match.userID]?.displayName ?? match.userID.rawValue, partner: match.partner,
                      matched: match.kinds.map(\.rawValue).joined(separator: ", "), reason: match.reason, date: match.date, at: PageFormat.dateTime(match.matchedAt),
                      withdrawn: match.withdrawnAt.map(PageFormat.dateTime))
            }
        )
        return site.renderer.render("fraud-alerts", page: view, request: request)
    }
}

/// The ratings part of an order page.
struct RatingSectionView: Sendable {
    struct Shown: Sendable { let overallLabel: String; let stars: String?; let comment: String?; let published: Bool }
    struct StarField: Sendable { let name: String; let label: String }

    let mine: Shown?
    let theirs: Shown?
    let theirsHidden: Bool
    let canRate: Bool
    let asBuyer: Bool
    let windowClosesText: String?
    let starFields: [StarField]

    static func make(order: Order, viewer: User, ratings: [Rating], windowDays: Int, now: Date) -> RatingSectionView? {
        guard let closes = RatingRules.windowCloses(for: order, windowDays: windowDays), viewer.id == order.buyerID || viewer.id == order.sellerID else { return nil }
        func shown(_ rating: Rating) -> Shown {
            .init(
                overallLabel: rating.overall.rawValue.capitalized,
                stars: rating.detailed.map { "described \($0.itemAsDescribed)★, service \($0.serviceAttitude)★, shipping \($0.shippingSpeed)★" },
                comment: rating.comment, published: rating.isPublished
            )
        }
        let mine = ratings.first { $0.raterID == viewer.id }
        let theirs = ratings.first { $0.raterID != viewer.id && $0.isPublished }
        return RatingSectionView(
            mine: mine.map(shown),
            theirs: theirs.map(shown),
            theirsHidden: false,
            canRate: now < closes && !(mine?.isPublished ?? false),
            asBuyer: viewer.id == order.buyerID,
            windowClosesText: now < closes ? "closes \(PageFormat.dateTime(closes))" : "closed",
            starFields: [
                .init(name: "itemAsDescribed", label: "Item as described"),
                .init(name: "serviceAttitude", label: "Service attitude"),
                .init(name: "shippingSpeed", label: "Shipping speed"),
            ]
        )
    }
}
