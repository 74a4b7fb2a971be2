import FiduciaDomain
import Foundation
import SQLKit

/// Reports (complaints) and their outcomes.
public protocol ReportRepository: Sendable {
    func insert(_ report: Report) async throws
    func find(_ id: ReportID, lock: Bool) async throws -> Report?
    func update(_ report: Report) async throws
    /// Reports in a status, oldest first.
    func list(status: Report.Status, limit: Int) async throws -> [Report]
    /// A reporter's own reports, newest first.
    func reports(reporter: UserID, limit: Int) async throws -> [Report]
    /// How many reports `reporter` filed since `since` (the rate limit).
    func count(reporter: UserID, since: Date) async throws -> Int
    /// How the reports of each reporter ended: (action taken, dismissed).
    func record(reporters: [UserID]) async throws -> [UserID: (actioned: Int, dismissed: Int)]
}

struct SQLReportRepository: ReportRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let columns = "id, reporter_id, target_kind, target_id, category, body, attachments, created_at, status, resolved_by, resolved_at, reasons, action, penalty_id"

    func insert(_ report: Report) async throws {
        try await sql.raw("""
            INSERT INTO reports (\(unsafeRaw: Self.columns)) VALUES (\(bind: report.id.rawValue), \(bind: report.reporterID.rawValue),
                \(bind: report.target.kind), \(bind: report.target.id), \(bind: report.category.rawValue), \(bind: report.text),
                \(bind: try AttachmentsJSON.encode(report.attachments)), \(bind: report.createdAt.millisecondsSince1970), \(bind: report.status.rawValue),
                NULL, NULL, NULL, NULL, NULL)
            """).run()
    }

    func find(_ id: ReportID, lock: Bool) async throws -> Report? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM reports WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.report)
    }

    func update(_ report: Report) async throws {
        try await sql.raw("""
            UPDATE reports SET status = \(bind: report.status.rawValue), resolved_by = \(bind: report.resolvedBy?.rawValue),
                resolved_at = \(bind: report.resolvedAt?.millisecondsSince1970), reasons = \(bind: try report.reasons.map(JSONCoding.string)),
                action = \(bind: report.action?.rawValue), penalty_id = \(bind: report.penaltyID?.rawValue)
            WHERE id = \(bind: report.id.rawValue)
            """).run()
    }

    func list(status: Report.Status, limit: Int) async throws -> [Report] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM reports WHERE status = \(bind: status.rawValue) ORDER BY created_at, id LIMIT \(bind: limit)
            """).all().map(Self.report)
    }

    func reports(reporter: UserID, limit: Int) async throws -> [Report] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM reports WHERE reporter_id = \(bind: reporter.rawValue) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
            """).all().map(Self.report)
    }

    func count(reporter: UserID, since: Date) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM reports WHERE reporter_id = \(bind: reporter.rawValue) AND created_at >= \(bind: since.millisecondsSince1970)
            """).first()?.int("n") ?? 0
    }

    func record(reporters: [UserID]) async throws -> [UserID: (actioned: Int, dismissed: Int)] {
        guard !reporters.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT reporter_id,
                COALESCE(SUM(CASE WHEN status = 'actionTaken' THEN 1 ELSE 0 END), 0) AS actioned,
                COALESCE(SUM(CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END), 0) AS dismissed
            FROM reports WHERE reporter_id IN (\(binds: Set(reporters.map(\.rawValue)).sorted())) GROUP BY reporter_id
            """).all()
        var record: [UserID: (actioned: Int, dismissed: Int)] = [:]
        for row in rows {
            record[UserID(try row.string("reporter_id"))] = (try row.int("actioned"), try row.int("dismissed"))
        }
        return record
    }

    static func report(_ row: any SQLRow) throws -> Report {
        let targetID = try row.string("target_id")
        let target = Report.Target(kind: try row.string("target_kind"), id: targetID) ?? .user(UserID(targetID))
        return Report(
            id: ReportID(try row.string("id")), reporterID: UserID(try row.string("reporter_id")), target: target,
            category: Report.Category(rawValue: try row.string("category")) ?? .other, text: try row.string("body"),
            attachments: try AttachmentsJSON.decode(try row.string("attachments")), createdAt: try row.date("created_at"),
            status: Report.Status(rawValue: try row.string("status")) ?? .open, resolvedBy: try row.optionalString("resolved_by").map(UserID.init),
            resolvedAt: try row.optionalDate("resolved_at"), reasons: try row.optionalString("reasons").map { try JSONCoding.decode(StatementOfReasons.self, $0) },
            action: try row.optionalString("action").flatMap(Report.Action.init), penaltyID: try row.optionalString("penalty_id").map(PenaltyID.init)
        )
    }
}
