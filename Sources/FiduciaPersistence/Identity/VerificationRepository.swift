import FiduciaDomain
import Foundation
import SQLKit

/// A document as stored: who it belongs to and what it is; its bytes are sealed with the owner's key.
public struct StoredDocument: Sendable, Equatable {
    public let id: String
    public let ownerID: UserID
    public let contentType: String
    public let bytes: [UInt8]
}

/// Verifications, their sealed details and documents, and who looked at the documents.
public protocol VerificationRepository: Sendable {
    /// `targetHash` is the keyed hash of what is verified (a phone number), for uniqueness checks.
    func insert(_ verification: Verification, targetHash: String?, codeHash: String?) async throws
    func update(_ verification: Verification) async throws
    func find(_ id: VerificationID, lock: Bool) async throws -> Verification?
    /// The code's keyed hash, for comparing what the person types.
    func codeHash(_ id: VerificationID) async throws -> String?
    func list(user: UserID) async throws -> [Verification]
    /// Verifications waiting for a moderator, oldest first.
    func pending(limit: Int) async throws -> [Verification]
    func starts(user: UserID, level: VerificationLevel, since: Date) async throws -> Int
    /// Whether another account holds a valid approval of `level` for the same target.
    func targetApprovedElsewhere(level: VerificationLevel, targetHash: String, user: UserID, now: Date) async throws -> Bool
    /// The levels valid at `now` for each of `users`.
    func verifiedLevels(users: [UserID], now: Date) async throws -> [UserID: Set<VerificationLevel>]
    /// Every approval of a real name or a business, past or present: the seeds of the trust
    /// engine's standing (D4), each from its approval until its validity ended.
    func identitySeeds() async throws -> [IdentitySeed]
    /// Approvals whose validity ended before `now` but are still recorded as approved.
    func lapsed(before now: Date, limit: Int) async throws -> [Verification]
    func insertDocument(id: String, owner: UserID, contentType: String, bytes: [UInt8], at now: Date) async throws
    func document(_ id: String) async throws -> StoredDocument?
    func recordView(id: String, document: String, verification: VerificationID, viewer: UserID, at now: Date) async throws
    func views(document: String) async throws -> [DocumentView]
}

/// A verified identity that seeds the trust engine's standing, and when.
public struct IdentitySeed: Sendable, Equatable {
    public let user: UserID
    public let since: Date
    public let until: Date?

    public init(user: UserID, since: Date, until: Date?) {
        self.user = user
        self.since = since
        self.until = until
    }
}

struct SQLVerificationRepository: VerificationRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind
    let sealer: any PersonalDataSealer

    static let columns = """
        v.id, v.user_id, v.level, v.state, v.details, v.document_id, v.code_attempts, v.code_expires_at, v.reason, v.decided_by, v.decided_at,
        v.expires_at, v.created_at, v.updated_at, u.data_key
        """
    static let from = "verifications v JOIN users u ON u.id = v.user_id"

    private func key(of user: UserID) async throws -> String {
        guard let key = try await sql.raw("SELECT data_key FROM users WHERE id = \(bind: user.rawValue)").first()?.optionalString("data_key") else {
            throw NotFoundError(entity: "user", id: user.rawValue)
        }
        return key
    }

    private func sealDetails(_ details: [String: String], key: String) throws -> String {
        try sealer.seal(Array(try JSONEncoder().encode(details)), wrappedKey: key)
    }

    func insert(_ verification: Verification, targetHash: String?, codeHash: String?) async throws {
        let key = try await key(of: verification.userID)
        try await sql.raw("""
            INSERT INTO verifications (id, user_id, level, state, details, target_hash, document_id, code_hash, code_attempts, code_expires_at,
                reason, decided_by, decided_at, expires_at, created_at, updated_at)
            VALUES (\(bind: verification.id.rawValue), \(bind: verification.userID.rawValue), \(bind: verification.level.rawValue),
                \(bind: verification.state.rawValue), \(bind: try sealDetails(verification.details, key: key)), \(bind: targetHash),
                \(bind: verification.documentID), \(bind: codeHash), \(bind: verification.codeAttempts),
                \(bind: verification.codeExpiresAt?.millisecondsSince1970), \(bind: verification.reason), \(bind: verification.decidedBy?.rawValue),
                \(bind: verification.decidedAt?.millisecondsSince1970), \(bind: verification.expiresAt?.millisecondsSince1970),
                \(bind: verification.createdAt.millisecondsSince1970), \(bind: verification.updatedAt.millisecondsSince1970))
            """).run()
    }

    func update(_ verification: Verification) async throws {
        let key = try await key(of: verification.userID)
        try await sql.raw("""
            UPDATE verifications SET state = \(bind: verification.state.rawValue), details = \(bind: try sealDetails(verification.details, key: key)),
                document_id = \(bind: verification.documentID), code_attempts = \(bind: verification.codeAttempts),
                code_expires_at = \(bind: verification.codeExpiresAt?.millisecondsSince1970), reason = \(bind: verification.reason),
                decided_by = \(bind: verification.decidedBy?.rawValue), decided_at = \(bind: verification.decidedAt?.millisecondsSince1970),
                expires_at = \(bind: verification.expiresAt?.millisecondsSince1970), updated_at = \(bind: verification.updatedAt.millisecondsSince1970),
                code_hash = CASE WHEN \(bind: verification.state.rawValue) = 'awaitingCode' THEN code_hash ELSE NULL END
            WHERE id = \(bind: verification.id.rawValue)
            """).run()
    }

    func find(_ id: VerificationID, lock: Bool) async throws -> Verification? {
        // FOR UPDATE cannot lock the joined users row's side alone on PostgreSQL; lock the verification.
        let lockClause = lock && kind == .postgres ? " FOR UPDATE OF v" : ""
        return try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM \(unsafeRaw: Self.from) WHERE v.id = \(bind: id.rawValue)\(unsafeRaw: lockClause)")
            .first().map(verification)
    }

    func codeHash(_ id: VerificationID) async throws -> String? {
        try await sql.raw("SELECT code_hash FROM verifications WHERE id = \(bind: id.rawValue)").first()?.optionalString("code_hash")
    }

    func list(user: UserID) async throws -> [Verification] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM \(unsafeRaw: Self.from) WHERE v.user_id = \(bind: user.rawValue) ORDER BY v.created_at DESC, v.id DESC LIMIT 200
            """).all().map(verification)
    }

    func pending(limit: Int) async throws -> [Verification] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM \(unsafeRaw: Self.from) WHERE v.state = 'pending' ORDER BY v.created_at, v.id LIMIT \(bind: limit)
            """).all().map(verification)
    }

    func starts(user: UserID, level: VerificationLevel, since: Date) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM verifications
            WHERE user_id = \(bind: user.rawValue) AND level = \(bind: level.rawValue) AND created_at >= \(bind: since.millisecondsSince1970)
            """).first()?.int("n") ?? 0
    }

    func targetApprovedElsewhere(level: VerificationLevel, targetHash: String, user: UserID, now: Date) async throws -> Bool {
        try await sql.raw("""
            SELECT id FROM verifications WHERE level = \(bind: level.rawValue) AND target_hash = \(bind: targetHash) AND user_id <> \(bind: user.rawValue)
                AND state = 'approved' AND expires_at > \(bind: now.millisecondsSince1970) LIMIT 1
            """).first() != nil
    }

    func verifiedLevels(users: [UserID], now: Date) async throws -> [UserID: Set<VerificationLevel>] {
        guard !users.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT DISTINCT user_id, level FROM verifications
            WHERE user_id IN (\(binds: Set(users.map(\.rawValue)).sorted())) AND state = 'approved' AND expires_at > \(bind: now.millisecondsSince1970)
            """).all()
        var levels: [UserID: Set<VerificationLevel>] = [:]
        for row in rows {
            if let level = VerificationLevel(rawValue: try row.string("level")) { levels[UserID(try row.string("user_id")), default: []].insert(level) }
        }
        return levels
    }

    func identitySeeds() async throws -> [IdentitySeed] {
        try await sql.raw("""
            SELECT user_id, decided_at, expires_at FROM verifications
            WHERE level IN ('realName', 'business') AND state IN ('approved', 'expired') AND decided_at IS NOT NULL
            ORDER BY decided_at, id
            """).all().map { row in
                IdentitySeed(user: UserID(try row.string("user_id")), since: try row.date("decided_at"), until: try row.optionalDate("expires_at"))
            }
    }

    func lapsed(before now: Date, limit: Int) async throws -> [Verification] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM \(unsafeRaw: Self.from)
            WHERE v.state = 'approved' AND v.expires_at <= \(bind: now.millisecondsSince1970) ORDER BY v.expires_at LIMIT \(bind: limit)
            """).all().map(verification)
    }

    func insertDocument(id: String, owner: UserID, contentType: String, bytes: [UInt8], at now: Date) async throws {
        let key = try await key(of: owner)
        try await sql.raw("""
            INSERT INTO sealed_documents (id, owner_id, content_type, byte_count, data, created_at)
            VALUES (\(bind: id), \(bind: owner.rawValue), \(bind: contentType), \(bind: bytes.count), \(bind: try sealer.seal(bytes, wrappedKey: key)),
                \(bind: now.millisecondsSince1970))
            """).run()
    }

    func document(_ id: String) async throws -> StoredDocument? {
        guard let row = try await sql.raw("""
            SELECT d.id, d.owner_id, d.content_type, d.data, u.data_key FROM sealed_documents d JOIN users u ON u.id = d.owner_id WHERE d.id = \(bind: id)
            """).first()
        else { return nil }
        guard let key = try row.optionalString("data_key") else { return nil }
        return StoredDocument(
            id: try row.string("id"), ownerID: UserID(try row.string("owner_id")), contentType: try row.string("content_type"),
            bytes: try sealer.open(try row.string("data"), wrappedKey: key)
        )
    }

    func recordView(id: String, document: String, verification: VerificationID, viewer: UserID, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO document_views (id, document_id, verification_id, viewer_id, viewed_at)
            VALUES (\(bind: id), \(bind: document), \(bind: verification.rawValue), \(bind: viewer.rawValue), \(bind: now.millisecondsSince1970))
            """).run()
    }

    func views(document: String) async throws -> [DocumentView] {
        try await sql.raw("""
            SELECT viewer_id, verification_id, viewed_at FROM document_views WHERE document_id = \(bind: document) ORDER BY viewed_at, id
            """).all().map {
            DocumentView(viewerID: UserID(try $0.string("viewer_id")), verificationID: VerificationID(try $0.string("verification_id")), viewedAt: try $0.date("viewed_at"))
        }
    }

    func verification(_ row: any SQLRow) throws -> Verification {
        var details: [String: String] = [:]
        if let key = try row.optionalString("data_key") {
            details = try JSONDecoder().decode([String: String].self, from: Data(try sealer.open(try row.string("details"), wrappedKey: key)))
        }
        return Verification(
            id: VerificationID(try row.string("id")), userID: UserID(try row.string("user_id")),
            level: VerificationLevel(rawValue: try row.string("level")) ?? .email, state: Verification.State(rawValue: try row.string("state")) ?? .rejected,
            details: details, documentID: try row.optionalString("document_id"), codeAttempts: try row.int("code_attempts"),
            codeExpiresAt: try row.optionalDate("code_expires_at"), reason: try row.optionalString("reason"),
            decidedBy: try row.optionalString("decided_by").map(UserID.init), decidedAt: try row.optionalDate("decided_at"),
            expiresAt: try row.optionalDate("expires_at"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }
}
