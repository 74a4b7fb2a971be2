import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird

/// The public transparency pages: the monthly reports with charts over the months (F5), and the
/// anonymous feedback form with the moderators' queue.
struct TransparencyPages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/transparency") { request in try await reports(request) }
        router.page("/feedback") { request in try await feedbackForm(request) }
        router.page("/feedback", method: .post) { request in try await submitFeedback(request) }
        router.page("/moderation/feedback") { request in try await queue(request) }
        router.page("/moderation/feedback/{id}/read", method: .post) { request in try await markRead(request) }
    }

    // MARK: Reports

    struct Chart: Sendable { let title, svg: String }
    struct Row: Sendable {
        let month, generated, placed, paid, completed, refundRate, disputes, disputeRate, median, penalties, appeals, reports, alerts, banned, deleted,
            feedback, volumes: String
    }
    struct ReportsView: Sendable {
        let charts: [Chart]
        let rows: [Row]
        let latest: Row?
        let penalties: [String]
    }

    private func reports(_ request: Request) async throws -> Response {
        let reports = try await services.transparencyReports.reports()
        func percent(_ basisPoints: Int?) -> String { basisPoints.map { String(format: "%.1f%%", Double($0) / 100) } ?? "—" }
        let rows = reports.reversed().map { report -> Row in
            let f = report.figures
            return Row(
                month: report.month, generated: PageFormat.date(report.generatedAt), placed: "\(f.ordersPlaced)", paid: "\(f.ordersPaid)",
                completed: "\(f.ordersCompleted)", refundRate: percent(f.refundRateBasisPoints), disputes: "\(f.disputesOpened)",
                disputeRate: percent(f.disputeRateBasisPoints), median: f.medianDisputeHours.map { String(format: "%.0f h", $0) } ?? "—",
                penalties: "\(f.penaltiesTotal)", appeals: "\(f.appealsOverturned) of \(f.appealsDecided)", reports: "\(f.reportsResolved)",
                alerts: "\(f.fraudAlerts)", banned: "\(f.accountsBanned)", deleted: "\(f.accountsDeleted)", feedback: "\(f.feedbackReceived)",
                volumes: f.volumes.map { volume in Currency(volume.currency).map { Money.format(volume.paidMinor, $0) } ?? "\(volume.paidMinor) \(volume.currency)" }
                    .joined(separator: ", ")
            )
        }
        let months = reports.map(\.month)
        func chart(_ title: String, _ values: [Int], unit: String = "") -> Chart {
            Chart(title: title, svg: Charts.bars(labels: months, values: values, title: title, unit: unit))
        }
        let charts = reports.isEmpty ? [] : [
            chart("Orders paid into escrow", reports.map(\.figures.ordersPaid)),
            chart("Disputes per 100 paid orders", reports.map { Int((Double($0.figures.disputeRateBasisPoints ?? 0) / 100).rounded()) }, unit: "%"),
            chart("Median hours to resolve a dispute", reports.map { Int(($0.figures.medianDisputeHours ?? 0).rounded()) }, unit: " h"),
            chart("Penalties given", reports.map(\.figures.penaltiesTotal)),
            chart("Anonymous feedback received", reports.map(\.figures.feedbackReceived)),
        ]
        let latestPenalties = reports.last?.figures.penalties.map { "\($0.violationName): \($0.count)" } ?? []
        let view = ReportsView(charts: charts, rows: Array(rows), latest: rows.first, penalties: latestPenalties)
        return site.renderer.render("transparency", page: view, request: request)
    }

    // MARK: Feedback

    struct Choice: Sendable { let value, label: String; let selected: Bool }
    struct FeedbackView: Sendable {
        let topics: [Choice]
        let text: String
        let error: String?
    }

    static func topicLabel(_ topic: Feedback.Topic) -> String {
        switch topic {
        case .general: "The marketplace in general"
        case .safety: "Safety of buying and selling"
        case .fraud: "Fraud or a scam"
        case .moderation: "A moderator's decision or the rules"
        case .privacy: "Privacy and personal data"
        case .accessibility: "Accessibility of the site"
        }
    }

    private func feedbackForm(_ request: Request, text: String = "", topic: Feedback.Topic = .general, error: String? = nil,
                              status: HTTPResponse.Status = .ok) async throws -> Response {
        let view = FeedbackView(
            topics: Feedback.Topic.allCases.map { .init(value: $0.rawValue, label: Self.topicLabel($0), selected: $0 == topic) }, text: text, error: error
        )
        return site.renderer.render("feedback", page: view, request: request, status: status)
    }

    struct FeedbackForm: Decodable, CSRFProtectedForm {
        var csrfToken: String?
        var topic: String?
        var text: String?
    }

    private func submitFeedback(_ request: Request) async throws -> Response {
        let form = try await site.form(FeedbackForm.self, from: request)
        let topic = form.topic.flatMap(Feedback.Topic.init(rawValue:)) ?? .general
        do {
            _ = try await services.feedback.submit(topic: topic, text: form.text ?? "")
            return PageRenderer.redirect(to: "/feedback?notice=feedback-received")
        } catch let error as any DomainError {
            return try await feedbackForm(request, text: form.text ?? "", topic: topic, error: error.detail, status: error.kind.httpStatus)
        }
    }

    struct QueuedNote: Sendable { let id, topic, text, received: String; let read: String? }
    struct QueueView: Sendable {
        let notes: [QueuedNote]
        let unreadOnly: Bool
        let nextCursor: String?
    }

    private func queue(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let unreadOnly = request.uri.queryParameters["all"] == nil
        let page = try PageRequest(limit: 50, cursor: request.uri.queryParameters["cursor"].map(String.init))
        let notes = try await services.feedback.queue(unreadOnly: unreadOnly, page: page, by: site.principal)
        let view = QueueView(
            notes: notes.items.map {
                QueuedNote(
                    id: $0.id.rawValue, topic: Self.topicLabel($0.topic), text: $0.text, received: PageFormat.dateTime($0.receivedHour),
                    read: $0.readAt.map(PageFormat.dateTime)
                )
            },
            unreadOnly: unreadOnly, nextCursor: notes.nextCursor
        )
        return site.renderer.render("feedback-queue", page: view, request: request)
    }

    private func markRead(_ request: Request) async throws -> Response {
        struct ReadForm: Decodable, CSRFProtectedForm { var csrfToken: String? }
        _ = try site.requireViewer(request)
        _ = try await site.form(ReadForm.self, from: request)
        _ = try await services.feedback.markRead(FeedbackID(try request.pathSegment(2)), by: site.principal)
        return PageRenderer.redirect(to: "/moderation/feedback?notice=feedback-read")
    }
}
