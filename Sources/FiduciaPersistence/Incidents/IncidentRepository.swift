import FiduciaDomain
import Foundation
import SQLKit

/// Incidents: at most one open at a time (a unique index on the `open` marker).
public protocol IncidentRepository: Sendable {
    func active() async throws -> Incident?
    /// Inserts the incident; `IncidentError.alreadyActive` when one is open.
    func start(_ incident: Incident) async throws
    func end(_ id: IncidentID, by user: UserID, at now: Date) async throws
    /// Newest first.
    func recent(limit: Int) async throws -> [Incident]
}

struct SQLIncidentRepository: IncidentRepository {
    let sql: any SQLDatabase

    static let columns = "id, reason, started_at, started_by, ended_at, ended_by"

    func active() async throws -> Incident? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM incidents WHERE open = 1").first().map(Self.incident)
    }

    func start(_ incident: Incident) async throws {
        do {
            try await sql.raw("""
                INSERT INTO incidents (id, reason, started_at, started_by, open)
                VALUES (\(bind: incident.id.rawValue), \(bind: incident.reason), \(bind: incident.startedAt.millisecondsSince1970), \(bind: incident.startedBy.rawValue), 1)
                """).run()
        } catch where DatabaseErrors.isUniqueViolation(error) {
            throw IncidentError.alreadyActive
        }
    }

    func end(_ id: IncidentID, by user: UserID, at now: Date) async throws {
        try await sql.raw("""
            UPDATE incidents SET ended_at = \(bind: now.millisecondsSince1970), ended_by = \(bind: user.rawValue), open = NULL WHERE id = \(bind: id.rawValue)
            """).run()
    }

    func recent(limit: Int) async throws -> [Incident] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM incidents ORDER BY started_at DESC LIMIT \(bind: limit)").all().map(Self.incident)
    }

    static func incident(_ row: any SQLRow) throws -> Incident {
        Incident(
            id: IncidentID(try row.string("id")), reason: try row.string("reason"), startedAt: try row.date("started_at"),
            startedBy: UserID(try row.string("started_by")), endedAt: try row.optionalDate("ended_at"), endedBy: try row.optionalString("ended_by").map(UserID.init)
        )
    }
}
