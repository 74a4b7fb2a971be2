import FiduciaDomain
import Foundation
import SQLKit

/// Rulebook versions, penalties and appeals.
public protocol PenaltyRepository: Sendable {
    func insertRulebook(_ version: PenaltyRulebookVersion) async throws
    func rulebook(version: Int, lock: Bool) async throws -> PenaltyRulebookVersion?
    /// The newest approved version: the one in force.
    func rulebookInForce() async throws -> PenaltyRulebookVersion?
    /// Every version, newest first.
    func rulebooks() async throws -> [PenaltyRulebookVersion]
    func updateRulebook(_ version: PenaltyRulebookVersion) async throws

    func insert(_ penalty: Penalty) async throws
    func find(_ id: PenaltyID, lock: Bool) async throws -> Penalty?
    func update(_ penalty: Penalty) async throws
    /// A user's penalties, newest first (the violation record).
    func penalties(user: UserID) async throws -> [Penalty]

    /// Stores an appeal; throws `AppealError.alreadyPending` if the penalty has one waiting.
    func insert(_ appeal: Appeal) async throws
    func find(_ id: AppealID, lock: Bool) async throws -> Appeal?
    func update(_ appeal: Appeal) async throws
    /// Appeals waiting for review, oldest first.
    func pendingAppeals(limit: Int) async throws -> [Appeal]
    func appeals(penalty: PenaltyID) async throws -> [Appeal]
    func appeals(appellant: UserID) async throws -> [Appeal]
}

struct SQLPenaltyRepository: PenaltyRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    // MARK: Rulebooks

    static let rulebookColumns = "version, document, status, proposed_by, proposed_at, decided_by, decided_at"

    func insertRulebook(_ version: PenaltyRulebookVersion) async throws {
        try await sql.raw("""
            INSERT INTO penalty_rulebooks (\(unsafeRaw: Self.rulebookColumns)) VALUES (\(bind: version.version), \(bind: version.document),
                \(bind: version.status.rawValue), \(bind: version.proposedBy?.rawValue), \(bind: version.proposedAt.millisecondsSince1970),
                \(bind: version.decidedBy?.rawValue), \(bind: version.decidedAt?.millisecondsSince1970))
            """).run()
    }

    func rulebook(version: Int, lock: Bool) async throws -> PenaltyRulebookVersion? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.rulebookColumns) FROM penalty_rulebooks WHERE version = \(bind: version)\(unsafeRaw: lock ? kind.forUpdate : "")
            """).first().map(Self.rulebook)
    }

    func rulebookInForce() async throws -> PenaltyRulebookVersion? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.rulebookColumns) FROM penalty_rulebooks WHERE status = 'approved' ORDER BY version DESC LIMIT 1
            """).first().map(Self.rulebook)
    }

    func rulebooks() async throws -> [PenaltyRulebookVersion] {
        try await sql.raw("SELECT \(unsafeRaw: Self.rulebookColumns) FROM penalty_rulebooks ORDER BY version DESC").all().map(Self.rulebook)
    }

    func updateRulebook(_ version: PenaltyRulebookVersion) async throws {
        try await sql.raw("""
            UPDATE penalty_rulebooks SET status = \(bind: version.status.rawValue), decided_by = \(bind: version.decidedBy?.rawValue),
                decided_at = \(bind: version.decidedAt?.millisecondsSince1970)
            WHERE version = \(bind: version.version)
            """).run()
    }

    static func rulebook(_ row: any SQLRow) throws -> PenaltyRulebookVersion {
        let document = try row.string("document")
        return PenaltyRulebookVersion(
            rulebook: try PenaltyRulebook.parse(document), document: document,
            status: PenaltyRulebookVersion.Status(rawValue: try row.string("status")) ?? .rejected,
            proposedBy: try row.optionalString("proposed_by").map(UserID.init), proposedAt: try row.date("proposed_at"),
            decidedBy: try row.optionalString("decided_by").map(UserID.init), decidedAt: try row.optionalDate("decided_at")
        )
    }

    // MARK: Penalties

    static let penaltyColumns = """
        id, user_id, violation_code, violation_name, points, fine_minor, fine_currency, rulebook_version, reasons, decided_by, dispute_id, order_id,
        applied_at, expires_at, status, fine_returned_minor
        """

    func insert(_ penalty: Penalty) async throws {
        try await sql.raw("""
            INSERT INTO penalties (\(unsafeRaw: Self.penaltyColumns)) VALUES (\(bind: penalty.id.rawValue), \(bind: penalty.userID.rawValue),
                \(bind: penalty.violationCode), \(bind: penalty.violationName), \(bind: penalty.points), \(bind: penalty.fineMinor),
                \(bind: penalty.fineCurrency?.code), \(bind: penalty.rulebookVersion), \(bind: try JSONCoding.string(penalty.reasons)),
                \(bind: penalty.decidedBy?.rawValue), \(bind: penalty.disputeID?.rawValue), \(bind: penalty.orderID?.rawValue),
                \(bind: penalty.appliedAt.millisecondsSince1970), \(bind: penalty.expiresAt.millisecondsSince1970), \(bind: penalty.status.rawValue),
                \(bind: penalty.fineReturnedMinor))
            """).run()
    }

    func find(_ id: PenaltyID, lock: Bool) async throws -> Penalty? {
        try await sql.raw("SELECT \(unsafeRaw: Self.penaltyColumns) FROM penalties WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.penalty)
    }

    func update(_ penalty: Penalty) async throws {
        try await sql.raw("""
            UPDATE penalties SET points = \(bind: penalty.points), status = \(bind: penalty.status.rawValue),
                fine_returned_minor = \(bind: penalty.fineReturnedMinor)
            WHERE id = \(bind: penalty.id.rawValue)
            """).run()
    }

    func penalties(user: UserID) async throws -> [Penalty] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.penaltyColumns) FROM penalties WHERE user_id = \(bind: user.rawValue) ORDER BY applied_at DESC, id DESC
            """).all().map(Self.penalty)
    }

    static func penalty(_ row: any SQLRow) throws -> Penalty {
        Penalty(
            id: PenaltyID(try row.string("id")), userID: UserID(try row.string("user_id")), violationCode: try row.string("violation_code"),
            violationName: try row.string("violation_name"), points: try row.int("points"), fineMinor: try row.int64("fine_minor"),
            fineCurrency: try row.optionalString("fine_currency").flatMap(Currency.init), rulebookVersion: try row.int("rulebook_version"),
            reasons: try JSONCoding.decode(StatementOfReasons.self, try row.string("reasons")),
            decidedBy: try row.optionalString("decided_by").map(UserID.init), disputeID: try row.optionalString("dispute_id").map(DisputeID.init),
            orderID: try row.optionalString("order_id").map(OrderID.init), appliedAt: try row.date("applied_at"), expiresAt: try row.date("expires_at"),
            status: Penalty.Status(rawValue: try row.string("status")) ?? .active, fineReturnedMinor: try row.int64("fine_returned_minor")
        )
    }

    // MARK: Appeals

    static let appealColumns = "id, penalty_id, appellant_id, statement, attachments, created_at, status, decided_by, decided_at, reasons, reduced_points"

    func insert(_ appeal: Appeal) async throws {
        do {
            try await sql.raw("""
                INSERT INTO appeals (\(unsafeRaw: Self.appealColumns)) VALUES (\(bind: appeal.id.rawValue), \(bind: appeal.penaltyID.rawValue),
                    \(bind: appeal.appellantID.rawValue), \(bind: appeal.statement), \(bind: try AttachmentsJSON.encode(appeal.attachments)),
                    \(bind: appeal.createdAt.millisecondsSince1970), \(bind: appeal.status.rawValue), \(bind: appeal.decidedBy?.rawValue),
                    \(bind: appeal.decidedAt?.millisecondsSince1970), \(bind: appeal.reasons), \(bind: appeal.reducedPoints))
                """).run()
        } catch where DatabaseErrors.isUniqueViolation(error) {
            throw AppealError.alreadyPending
        }
    }

    func find(_ id: AppealID, lock: Bool) async throws -> Appeal? {
        try await sql.raw("SELECT \(unsafeRaw: Self.appealColumns) FROM appeals WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.appeal)
    }

    func update(_ appeal: Appeal) async throws {
        try await sql.raw("""
            UPDATE appeals SET status = \(bind: appeal.status.rawValue), decided_by = \(bind: appeal.decidedBy?.rawValue),
                decided_at = \(bind: appeal.decidedAt?.millisecondsSince1970), reasons = \(bind: appeal.reasons), reduced_points = \(bind: appeal.reducedPoints)
            WHERE id = \(bind: appeal.id.rawValue)
            """).run()
    }

    func pendingAppeals(limit: Int) async throws -> [Appeal] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.appealColumns) FROM appeals WHERE status = 'pending' ORDER BY created_at, id LIMIT \(bind: limit)
            """).all().map(Self.appeal)
    }

    func appeals(penalty: PenaltyID) async throws -> [Appeal] {
        try await sql.raw("SELECT \(unsafeRaw: Self.appealColumns) FROM appeals WHERE penalty_id = \(bind: penalty.rawValue) ORDER BY created_at, id")
            .all().map(Self.appeal)
    }

    func appeals(appellant: UserID) async throws -> [Appeal] {
        try await sql.raw("SELECT \(unsafeRaw: Self.appealColumns) FROM appeals WHERE appellant_id = \(bind: appellant.rawValue) ORDER BY created_at DESC, id DESC")
            .all().map(Self.appeal)
    }

    static func appeal(_ row: any SQLRow) throws -> Appeal {
        Appeal(
            id: AppealID(try row.string("id")), penaltyID: PenaltyID(try row.string("penalty_id")), appellantID: UserID(try row.string("appellant_id")),
            statement: try row.string("statement"), attachments: try AttachmentsJSON.decode(try row.string("attachments")),
            createdAt: try row.date("created_at"), status: Appeal.Status(rawValue: try row.string("status")) ?? .pending,
            decidedBy: try row.optionalString("decided_by").map(UserID.init), decidedAt: try row.optionalDate("decided_at"),
            reasons: try row.optionalString("reasons"), reducedPoints: try row.optionalInt64("reduced_points").map(Int.init)
        )
    }
}

/// JSON columns: compact, with sorted keys and dates as milliseconds.
enum JSONCoding {
    static func string<Value: Encodable>(_ value: Value) throws -> String {
        String(decoding: try SQLOrderRepository.encoder.encode(value), as: UTF8.self)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try SQLOrderRepository.decoder.decode(type, from: Data(text.utf8))
    }
}
