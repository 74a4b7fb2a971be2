import FiduciaDomain
import Foundation
import SQLKit

/// The audit log's table: append-only, each row chained to the one before by its hash.
public protocol AuditRepository: Sendable {
    /// Appends the next event; appends are serialised by the `audit_sequence` counter row.
    func append(actor: String, action: String, subject: String, detail: String, address: String?, at now: Date,
                digest: ([UInt8]) -> [UInt8]) async throws -> AuditEvent
    /// Newest first, before `sequence` when given.
    func list(before sequence: Int?, limit: Int) async throws -> [AuditEvent]
    /// In order, from `sequence` on.
    func events(from sequence: Int, limit: Int) async throws -> [AuditEvent]
    func count() async throws -> Int
}

struct SQLAuditRepository: AuditRepository {
    let sql: any SQLDatabase

    static let columns = "sequence, at, actor, action, subject, detail, address, previous_hash, hash"

    func append(actor: String, action: String, subject: String, detail: String, address: String?, at now: Date,
                digest: ([UInt8]) -> [UInt8]) async throws -> AuditEvent {
        guard let row = try await sql.raw("UPDATE counters SET value = value + 1 WHERE name = 'audit_sequence' RETURNING value").first() else {
            preconditionFailure("the audit counter exists from the migration")
        }
        let sequence = Int(try row.int64("value"))
        let previous = try await sql.raw("SELECT hash FROM audit_events WHERE sequence = \(bind: sequence - 1)").first()
            .map { try $0.string("hash") } ?? AuditChain.genesis
        // Stored to the millisecond, hashed as stored.
        let at = Date(millisecondsSince1970: now.millisecondsSince1970)
        let hash = Hex.encode(digest(AuditEvent.hashedBytes(
            sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detail, address: address, previousHash: previous
        )))
        try await sql.raw("""
            INSERT INTO audit_events (\(unsafeRaw: Self.columns)) VALUES (
                \(bind: sequence), \(bind: at.millisecondsSince1970), \(bind: actor), \(bind: action), \(bind: subject), \(bind: detail),
                \(bind: address), \(bind: previous), \(bind: hash))
            """).run()
        return AuditEvent(sequence: sequence, at: at, actor: actor, action: action, subject: subject, detail: detail, address: address, previousHash: previous, hash: hash)
    }

    func list(before sequence: Int?, limit: Int) async throws -> [AuditEvent] {
        let bound = sequence.map { "WHERE sequence < \($0)" } ?? ""
        return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM audit_events \(unsafeRaw: bound) ORDER BY sequence DESC LIMIT \(bind: limit)")
            .all().map(Self.event)
    }

    func events(from sequence: Int, limit: Int) async throws -> [AuditEvent] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM audit_events WHERE sequence >= \(bind: sequence) ORDER BY sequence LIMIT \(bind: limit)")
            .all().map(Self.event)
    }

    func count() async throws -> Int {
        guard let row = try await sql.raw("SELECT value FROM counters WHERE name = 'audit_sequence'").first() else { return 0 }
        return Int(try row.int64("value"))
    }

    static func event(_ row: any SQLRow) throws -> AuditEvent {
        AuditEvent(
            sequence: Int(try row.int64("sequence")), at: try row.date("at"), actor: try row.string("actor"), action: try row.string("action"),
            subject: try row.string("subject"), detail: try row.string("detail"), address: try row.optionalString("address"),
            previousHash: try row.string("previous_hash"), hash: try row.string("hash")
        )
    }
}
