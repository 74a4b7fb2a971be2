import FiduciaDomain
import Foundation
import SQLKit

/// Anonymous feedback (F5) and the monthly transparency reports, with the counts a report is made of.
public protocol TransparencyRepository: Sendable {
    func insert(_ feedback: Feedback) async throws
    /// How many notes arrived in the hour, counted under a lock held until the transaction ends,
    /// so that two servers cannot both count 199 and both insert (SQLite's single writer already
    /// serialises; PostgreSQL takes an advisory lock on the hour).
    func lockAndCountFeedback(receivedHour: Date) async throws -> Int
    /// Unread notes first, then read ones; newest first within each; after `cursor` (an id).
    func feedback(unreadOnly: Bool, after cursor: FeedbackID?, limit: Int) async throws -> [Feedback]
    func findFeedback(_ id: FeedbackID) async throws -> Feedback?
    func markRead(_ id: FeedbackID, by reader: UserID, at now: Date) async throws

    /// Stores a month's report unless that month has one already; returns whether it stored it.
    func save(_ report: TransparencyReport) async throws -> Bool
    /// Oldest month first.
    func reports() async throws -> [TransparencyReport]
    func report(month: String) async throws -> TransparencyReport?

    /// Everything a report counts from the records of [start, end), except the fraud alerts and
    /// the bans, which need the trust engine and the rulebook.
    func figures(from start: Date, to end: Date) async throws -> TransparencyReport.Figures
    /// Who was penalised in [start, end): the candidates for a ban in the month.
    func penalisedUsers(from start: Date, to end: Date) async throws -> [UserID]
}

struct SQLTransparencyRepository: TransparencyRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let feedbackColumns = "id, topic, text, received_hour, read_by, read_at"

    func insert(_ feedback: Feedback) async throws {
        try await sql.raw("""
            INSERT INTO feedback (\(unsafeRaw: Self.feedbackColumns)) VALUES (
                \(bind: feedback.id.rawValue), \(bind: feedback.topic.rawValue), \(bind: feedback.text),
                \(bind: feedback.receivedHour.millisecondsSince1970), NULL, NULL)
            """).run()
    }

    func lockAndCountFeedback(receivedHour: Date) async throws -> Int {
        if kind == .postgres {
            try await sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: "feedback-hour:\(receivedHour.millisecondsSince1970)"), 0))").run()
        }
        return try await count("SELECT COUNT(*) AS n FROM feedback WHERE received_hour = \(bind: receivedHour.millisecondsSince1970)")
    }

    func feedback(unreadOnly: Bool, after cursor: FeedbackID?, limit: Int) async throws -> [Feedback] {
        // Newest first: identifiers sort by hour, then at random within it.
        let read = unreadOnly ? " AND read_at IS NULL" : ""
        return try await sql.raw("""
            SELECT \(unsafeRaw: Self.feedbackColumns) FROM feedback WHERE id < \(bind: cursor?.rawValue ?? "~")\(unsafeRaw: read)
            ORDER BY id DESC LIMIT \(bind: limit)
            """).all().map(Self.feedback)
    }

    func findFeedback(_ id: FeedbackID) async throws -> Feedback? {
        try await sql.raw("SELECT \(unsafeRaw: Self.feedbackColumns) FROM feedback WHERE id = \(bind: id.rawValue)").first().map(Self.feedback)
    }

    func markRead(_ id: FeedbackID, by reader: UserID, at now: Date) async throws {
        try await sql.raw("UPDATE feedback SET read_by = \(bind: reader.rawValue), read_at = \(bind: now.millisecondsSince1970) WHERE id = \(bind: id.rawValue)").run()
    }

    static func feedback(_ row: any SQLRow) throws -> Feedback {
        Feedback(
            id: FeedbackID(try row.string("id")), topic: Feedback.Topic(rawValue: try row.string("topic")) ?? .general, text: try row.string("text"),
            receivedHour: try row.date("received_hour"), readBy: try row.optionalString("read_by").map(UserID.init), readAt: try row.optionalDate("read_at")
        )
    }

    func save(_ report: TransparencyReport) async throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let figures = String(decoding: try encoder.encode(report.figures), as: UTF8.self)
        let rows = try await sql.raw("""
            INSERT INTO transparency_reports (month, generated_at, figures)
            VALUES (\(bind: report.month), \(bind: report.generatedAt.millisecondsSince1970), \(bind: figures))
            ON CONFLICT (month) DO NOTHING RETURNING month
            """).all()
        return !rows.isEmpty
    }

    func reports() async throws -> [TransparencyReport] {
        try await sql.raw("SELECT month, generated_at, figures FROM transparency_reports ORDER BY month").all().map(Self.report)
    }

    func report(month: String) async throws -> TransparencyReport? {
        try await sql.raw("SELECT month, generated_at, figures FROM transparency_reports WHERE month = \(bind: month)").first().map(Self.report)
    }

    static func report(_ row: any SQLRow) throws -> TransparencyReport {
        let figures = try JSONDecoder().decode(TransparencyReport.Figures.self, from: Data(try row.string("figures").utf8))
        return TransparencyReport(month: try row.string("month"), generatedAt: try row.date("generated_at"), figures: figures)
    }

    func figures(from start: Date, to end: Date) async throws -> TransparencyReport.Figures {
        let s = start.millisecondsSince1970, e = end.millisecondsSince1970
        var figures = TransparencyReport.Figures()
        figures.ordersPlaced = try await count("SELECT COUNT(*) AS n FROM orders WHERE created_at >= \(bind: s) AND created_at < \(bind: e)")
        figures.ordersPaid = try await count("SELECT COUNT(*) AS n FROM orders WHERE paid_at >= \(bind: s) AND paid_at < \(bind: e)")
        figures.ordersCompleted = try await count("SELECT COUNT(*) AS n FROM orders WHERE completed_at >= \(bind: s) AND completed_at < \(bind: e)")
        figures.ordersRefunded = try await count(
            "SELECT COUNT(*) AS n FROM orders WHERE paid_at >= \(bind: s) AND paid_at < \(bind: e) AND refunded_minor > 0"
        )
        figures.volumes = try await sql.raw("""
            SELECT currency, CAST(SUM(total_minor) AS BIGINT) AS paid, CAST(SUM(refunded_minor) AS BIGINT) AS refunded
            FROM orders WHERE paid_at >= \(bind: s) AND paid_at < \(bind: e) GROUP BY currency ORDER BY currency
            """).all().map { row in
            TransparencyReport.Volume(currency: try row.string("currency"), paidMinor: try row.int64("paid"), refundedMinor: try row.int64("refunded"))
        }
        figures.disputesOpened = try await count("SELECT COUNT(*) AS n FROM disputes WHERE opened_at >= \(bind: s) AND opened_at < \(bind: e)")
        let durations = try await sql.raw("""
            SELECT opened_at, resolved_at FROM disputes WHERE resolved_at >= \(bind: s) AND resolved_at < \(bind: e)
            """).all().map { row in Double(try row.int64("resolved_at") - row.int64("opened_at")) / 3_600_000 }
        figures.disputesResolved = durations.count
        figures.medianDisputeHours = TransparencyReport.median(durations)
        figures.penalties = try await sql.raw("""
            SELECT violation_code, violation_name, COUNT(*) AS n FROM penalties WHERE applied_at >= \(bind: s) AND applied_at < \(bind: e)
            GROUP BY violation_code, violation_name ORDER BY violation_code
            """).all().map { row in
            TransparencyReport.PenaltyCount(violationCode: try row.string("violation_code"), violationName: try row.string("violation_name"), count: try row.int("n"))
        }
        figures.appealsDecided = try await count(
            "SELECT COUNT(*) AS n FROM appeals WHERE decided_at >= \(bind: s) AND decided_at < \(bind: e) AND status <> 'pending'"
        )
        figures.appealsOverturned = try await count(
            "SELECT COUNT(*) AS n FROM appeals WHERE decided_at >= \(bind: s) AND decided_at < \(bind: e) AND status = 'overturned'"
        )
        figures.reportsResolved = try await count("SELECT COUNT(*) AS n FROM reports WHERE resolved_at >= \(bind: s) AND resolved_at < \(bind: e)")
        figures.accountsDeleted = try await count("SELECT COUNT(*) AS n FROM users WHERE deleted_at >= \(bind: s) AND deleted_at < \(bind: e)")
        figures.feedbackReceived = try await count(
            "SELECT COUNT(*) AS n FROM feedback WHERE received_hour >= \(bind: s) AND received_hour < \(bind: e)"
        )
        return figures
    }

    func penalisedUsers(from start: Date, to end: Date) async throws -> [UserID] {
        try await sql.raw("""
            SELECT DISTINCT user_id FROM penalties WHERE applied_at >= \(bind: start.millisecondsSince1970) AND applied_at < \(bind: end.millisecondsSince1970)
            ORDER BY user_id
            """).all().map { UserID(try $0.string("user_id")) }
    }

    private func count(_ query: SQLQueryString) async throws -> Int {
        guard let row = try await sql.raw(query).first() else { return 0 }
        return try row.int("n")
    }
}
