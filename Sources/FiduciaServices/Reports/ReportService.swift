import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Complaints and reports (D2): anyone signed in reports a user, an order, a rating or a
/// community post (E4); moderators triage them, with a statement of reasons the reporter sees. Reports are rate limited, and a
/// reporter whose reports keep being dismissed sinks in the queue.
public struct ReportService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let attachments: AttachmentService
    let penalties: PenaltyService

    init(store: Store, clock: any WallClock, random: any RandomSource, attachments: AttachmentService, penalties: PenaltyService) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.attachments = attachments
        self.penalties = penalties
    }

    /// Files a report.
    public func create(
        about target: Report.Target, category: Report.Category, text: String, attachmentIDs: [AttachmentID] = [], files: [UploadedFile] = [],
        by principal: Principal
    ) async throws -> Report {
        let reporter = try principal.requireUser()
        let text = text.trimmingWhitespace()
        guard ReportRules.textLength.contains(text.codePointCount) else { throw ValidationError(field: "text", "Say what happened (1 to 4000 characters).") }
        let now = clock.now()
        let id: ReportID = ids.make()
        return try await store.write { repositories in
            try ReportRules.checkRate(recentReports: try await repositories.reports.count(reporter: reporter.id, since: now.addingTimeInterval(-ReportRules.daySeconds)))
            var orderID: OrderID?
            switch target {
            case .user(let user):
                guard try await repositories.users.find(user) != nil else { throw ReportError.targetNotFound }
                guard user != reporter.id else { throw ValidationError(field: "targetId", "You cannot report yourself.") }
            case .order(let order):
                // Only those who may see an order can report it.
                guard let found = try await repositories.orders.find(order, lock: false),
                    EscrowService.maySee(found, parties: try await repositories.users.find([found.buyerID, found.sellerID]), principal)
                else { throw ReportError.targetNotFound }
                orderID = order
            case .rating(let rating):
                guard let found = try await repositories.ratings.find(rating), found.publishedAt != nil else { throw ReportError.targetNotFound }
                orderID = found.orderID
            case .community(let content):
                guard try await CommunityService.maySee(content, viewer: reporter, in: repositories) else { throw ReportError.targetNotFound }
            }
            let attached = try await attachments.attach(
                uploaded: attachmentIDs, files: files, to: AttachmentContext(kind: .report, id: id.rawValue, orderID: orderID),
                owner: reporter.id, in: repositories, now: now
            )
            let report = Report(id: id, reporterID: reporter.id, target: target, category: category, text: text, attachments: attached, createdAt: now)
            try await repositories.reports.insert(report)
            return report
        }
    }

    /// A report in the queue, with how much its reporter's reports count.
    public struct Queued: Sendable {
        public let report: Report
        public let reporterWeight: Double
    }

    /// Open reports for moderators: the most credible reporters first, then the oldest.
    public func queue(by principal: Principal) async throws -> [Queued] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { repositories in
            let open = try await repositories.reports.list(status: .open, limit: 500)
            let record = try await repositories.reports.record(reporters: open.map(\.reporterID))
            return open.map { report in
                let past = record[report.reporterID] ?? (0, 0)
                return Queued(report: report, reporterWeight: ReportRules.reporterWeight(actioned: past.actioned, dismissed: past.dismissed))
            }
            .sorted { ($0.reporterWeight, $1.report.createdAt) > ($1.reporterWeight, $0.report.createdAt) }
        }
    }

    /// The caller's own reports and their outcomes.
    public func mine(by principal: Principal) async throws -> [Report] {
        let reporter = try principal.requireUser()
        return try await store.read { try await $0.reports.reports(reporter: reporter.id, limit: 200) }
    }

    /// A report, for its reporter and staff.
    public func report(_ id: ReportID, by principal: Principal) async throws -> Report {
        let viewer = try principal.requireUser()
        guard let report = try await store.read({ try await $0.reports.find(id, lock: false) }), report.reporterID == viewer.id || viewer.isStaff else {
            throw NotFoundError(entity: "report", id: id.rawValue)
        }
        return report
    }

    /// What a moderator does about a report.
    public enum Resolution: Sendable, Equatable {
        case dismiss
        /// Hide the reported rating from profiles and scores.
        case hideRating
        /// Hide the reported experience, question or answer from everyone but its author.
        case hideContent
        /// Penalise a user (by default the reported user, the rating's author, or the order's seller)
        /// for a violation of the rulebook.
        case penalise(violation: String, user: UserID?)
        /// Action was taken elsewhere (a message, an order refunded); nothing more here.
        case actionTaken
    }

    /// Resolves an open report with a statement of reasons, carrying out its action in the same
    /// transaction.
    public func resolve(_ id: ReportID, resolution: Resolution, reasons: String, by principal: Principal) async throws -> Report {
        let moderator = try principal.requireRole(.moderator, .admin)
        let reasons = reasons.trimmingWhitespace()
        guard PenaltyRules.factsLength.contains(reasons.codePointCount) else { throw ValidationError(field: "reasons", "State the reasons (1 to 2000 characters).") }
        let now = clock.now()
        return try await store.write { repositories in
            guard var report = try await repositories.reports.find(id, lock: true) else { throw NotFoundError(entity: "report", id: id.rawValue) }
            guard report.status == .open else { throw ReportError.alreadyResolved }
            let appeal = "If you disagree, file a new report with the facts this one lacked; a penalised user appeals the penalty itself."
            switch resolution {
            case .dismiss:
                report.status = .dismissed
                report.action = Report.Action.none
                report.reasons = StatementOfReasons(facts: reasons, rule: "Reports are acted on when they show a breach of the rulebook or the rating rules.",
                                                    remedy: "No action was taken.", appeal: appeal)
            case .hideRating:
                guard case .rating(let ratingID) = report.target, let rating = try await repositories.ratings.find(ratingID) else { throw ReportError.actionDoesNotFit }
                try await repositories.ratings.hide(ratingID, reason: reasons, at: now)
                // Hiding is logged too: the log says why a rating no longer shows.
                try await RatingLogService.append(.hidden(ratingID: ratingID, reason: reasons, at: now), in: repositories, now: now)
                let role: Role = rating.side == .buyerRatesSeller ? .seller : .buyer
                try await CreditService.scheduleRefresh(rating.rateeID, role: role, in: repositories, now: now, ids: ids)
                report.status = .actionTaken
                report.action = .hideRating
                report.reasons = StatementOfReasons(facts: reasons, rule: "Ratings that are fake, bought, or not about the trade are hidden (rating rules).",
                                                    remedy: "The rating is hidden from profiles, lists and scores.", appeal: appeal)
            case .hideContent:
                guard case .community(let content) = report.target else { throw ReportError.actionDoesNotFit }
                try await CommunityService.hide(content, Hidden(reason: reasons, at: now, by: moderator.id), in: repositories)
                report.status = .actionTaken
                report.action = .hideContent
                report.reasons = StatementOfReasons(facts: reasons, rule: "Community posts that deceive, harass, advertise or expose someone's personal data are hidden.",
                                                    remedy: "The post is hidden from everyone but its author.", appeal: appeal)
            case .penalise(let code, let user):
                let target = try await penalisedUser(report.target, chosen: user, in: repositories)
                guard target != moderator.id else { throw AccessError.forbidden("Staff cannot penalise themselves.") }
                let penalty = try await penalties.apply(code, to: target, facts: reasons, decidedBy: moderator.id, disputeID: nil,
                                                        orderID: report.target.orderID, in: repositories, now: now)
                report.status = .actionTaken
                report.action = .penalty
                report.penaltyID = penalty.id
                report.reasons = penalty.reasons
            case .actionTaken:
                report.status = .actionTaken
                report.action = Report.Action.none
                report.reasons = StatementOfReasons(facts: reasons, rule: "The report showed a problem that was dealt with as described.",
                                                    remedy: "Action was taken as described in the facts.", appeal: appeal)
            }
            report.resolvedBy = moderator.id
            report.resolvedAt = now
            try await repositories.reports.update(report)
            try await AuditService.record(
                "report.resolve", subject: id.rawValue, detail: "\(report.status.rawValue), action \(report.action?.rawValue ?? "none"): \(reasons)",
                by: principal, in: repositories, now: now
            )
            return report
        }
    }

    private func penalisedUser(_ target: Report.Target, chosen: UserID?, in repositories: Repositories) async throws -> UserID {
        if let chosen {
            guard try await repositories.users.find(chosen) != nil else { throw NotFoundError(entity: "user", id: chosen.rawValue) }
            return chosen
        }
        switch target {
        case .user(let user): return user
        case .order(let order):
            guard let found = try await repositories.orders.find(order, lock: false) else { throw ReportError.targetNotFound }
            return found.sellerID
        case .rating(let rating):
            guard let found = try await repositories.ratings.find(rating) else { throw ReportError.targetNotFound }
            return found.raterID
        case .community(let content):
            guard let author = try await CommunityService.author(of: content, in: repositories) else { throw ReportError.targetNotFound }
            return author
        }
    }
}

extension Report.Target {
    /// The order the report is about, when it is one.
    var orderID: OrderID? {
        if case .order(let id) = self { return id }
        return nil
    }
}
