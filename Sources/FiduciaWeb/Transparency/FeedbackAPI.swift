import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import OpenAPIRuntime

/// Anonymous feedback (F5) and the monthly transparency reports.
extension FiduciaAPIHandler {
    func submitFeedback(_ input: Operations.SubmitFeedback.Input) async throws -> Operations.SubmitFeedback.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let feedback = try await services.feedback.submit(topic: body.topic.domain, text: body.text)
        return .created(.init(body: .json(.init(feedback))))
    }

    func listFeedback(_ input: Operations.ListFeedback.Input) async throws -> Operations.ListFeedback.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let notes = try await services.feedback.queue(unreadOnly: input.query.unread ?? false, page: page, by: principal)
        return .ok(.init(body: .json(.init(items: notes.items.map(Components.Schemas.Feedback.init), nextCursor: notes.nextCursor))))
    }

    func markFeedbackRead(_ input: Operations.MarkFeedbackRead.Input) async throws -> Operations.MarkFeedbackRead.Output {
        let feedback = try await services.feedback.markRead(FeedbackID(input.path.feedbackId), by: principal)
        return .ok(.init(body: .json(.init(feedback))))
    }

    func listTransparencyReports(_ input: Operations.ListTransparencyReports.Input) async throws -> Operations.ListTransparencyReports.Output {
        let reports = try await services.transparencyReports.reports()
        // CSV when the client prefers it to JSON (Accept: text/csv); JSON otherwise.
        func quality(_ type: Operations.ListTransparencyReports.AcceptableContentType) -> Double {
            input.headers.accept.filter { $0.contentType == type }.map(\.quality.doubleValue).max() ?? 0
        }
        if quality(.csv) > quality(.json) {
            return .ok(.init(body: .csv(HTTPBody(TransparencyReport.csv(reports)))))
        }
        return .ok(.init(body: .json(.init(items: reports.map(Components.Schemas.TransparencyReport.init)))))
    }
}

extension Components.Schemas.FeedbackTopic {
    var domain: Feedback.Topic { Feedback.Topic(rawValue: rawValue) ?? .general }
}

extension Components.Schemas.Feedback {
    init(_ feedback: Feedback) {
        self.init(
            id: feedback.id.rawValue, topic: .init(rawValue: feedback.topic.rawValue) ?? .general, text: feedback.text, receivedHour: feedback.receivedHour,
            readBy: feedback.readBy?.rawValue, readAt: feedback.readAt
        )
    }
}

extension Components.Schemas.TransparencyReport {
    init(_ report: TransparencyReport) {
        let f = report.figures
        self.init(
            month: report.month, generatedAt: report.generatedAt, ordersPlaced: f.ordersPlaced, ordersPaid: f.ordersPaid, ordersCompleted: f.ordersCompleted,
            ordersRefunded: f.ordersRefunded, refundRateBasisPoints: f.refundRateBasisPoints,
            volumes: f.volumes.map { .init(currency: $0.currency, paidMinor: $0.paidMinor, refundedMinor: $0.refundedMinor) },
            disputesOpened: f.disputesOpened, disputeRateBasisPoints: f.disputeRateBasisPoints, disputesResolved: f.disputesResolved,
            medianDisputeHours: f.medianDisputeHours,
            penalties: f.penalties.map { .init(violationCode: $0.violationCode, violationName: $0.violationName, count: $0.count) },
            appealsDecided: f.appealsDecided, appealsOverturned: f.appealsOverturned, reportsResolved: f.reportsResolved, fraudAlerts: f.fraudAlerts,
            accountsBanned: f.accountsBanned, accountsDeleted: f.accountsDeleted, feedbackReceived: f.feedbackReceived
        )
    }
}
