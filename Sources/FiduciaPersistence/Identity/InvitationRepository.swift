import FiduciaDomain
import Foundation
import SQLKit

/// Invitation codes (by hash) and who used them.
public protocol InvitationRepository: Sendable {
    func insert(_ invitation: Invitation) async throws
    /// The invitation with this code hash, locked for using it.
    func find(codeHash: String, lock: Bool) async throws -> Invitation?
    /// Marks an unused invitation used; false if someone used it first.
    func markUsed(codeHash: String, by user: UserID, at now: Date) async throws -> Bool
    func list(inviter: UserID, limit: Int) async throws -> [Invitation]
    func created(inviter: UserID, since: Date) async throws -> Int
    /// Invitations used after `since`, in the order they were used.
    func used(since: Date, limit: Int) async throws -> [Invitation]
    /// The invitation `invitee` joined with, if any.
    func invitation(of invitee: UserID) async throws -> Invitation?
    /// Inviters one of whose invitees was penalised for fraud (`InvitationRules.fraudViolations`,
    /// not overturned) within a year of joining.
    func invitersOfFraudsters() async throws -> [UserID]
    func fraudulentInvitees(of inviter: UserID) async throws -> Int
}

struct SQLInvitationRepository: InvitationRepository {
    let sql: any SQLDatabase

    func insert(_ invitation: Invitation) async throws {
        try await sql.raw("""
            INSERT INTO invitations (code_hash, hint, inviter_id, created_at, expires_at, used_by, used_at)
            VALUES (\(bind: invitation.codeHash), \(bind: invitation.hint), \(bind: invitation.inviterID.rawValue),
                \(bind: invitation.createdAt.millisecondsSince1970), \(bind: invitation.expiresAt.millisecondsSince1970), NULL, NULL)
            """).run()
    }

    func find(codeHash: String, lock: Bool) async throws -> Invitation? {
        try await sql.raw("SELECT * FROM invitations WHERE code_hash = \(bind: codeHash)").first().map(Self.invitation)
    }

    func markUsed(codeHash: String, by user: UserID, at now: Date) async throws -> Bool {
        try await !sql.raw("""
            UPDATE invitations SET used_by = \(bind: user.rawValue), used_at = \(bind: now.millisecondsSince1970) WHERE code_hash = \(bind: codeHash) AND used_by IS NULL
            RETURNING code_hash
            """).all().isEmpty
    }

    func list(inviter: UserID, limit: Int) async throws -> [Invitation] {
        try await sql.raw("""
            SELECT * FROM invitations WHERE inviter_id = \(bind: inviter.rawValue) ORDER BY created_at DESC LIMIT \(bind: limit)
            """).all().map(Self.invitation)
    }

    func created(inviter: UserID, since: Date) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM invitations WHERE inviter_id = \(bind: inviter.rawValue) AND created_at >= \(bind: since.millisecondsSince1970)
            """).first()?.int("n") ?? 0
    }

    func used(since: Date, limit: Int) async throws -> [Invitation] {
        try await sql.raw("""
            SELECT * FROM invitations WHERE used_at > \(bind: since.millisecondsSince1970) ORDER BY used_at, code_hash LIMIT \(bind: limit)
            """).all().map(Self.invitation)
    }

    func invitation(of invitee: UserID) async throws -> Invitation? {
        try await sql.raw("SELECT * FROM invitations WHERE used_by = \(bind: invitee.rawValue)").first().map(Self.invitation)
    }

    static let fraudsters = """
        SELECT i.inviter_id, i.used_by FROM invitations i JOIN users u ON u.id = i.used_by
        JOIN penalties p ON p.user_id = i.used_by
        WHERE p.violation_code IN ('\(InvitationRules.fraudViolations.sorted().joined(separator: "', '"))') AND p.status <> 'overturned'
            AND p.applied_at <= u.created_at + \(Int64(InvitationRules.vouchingLiabilitySeconds * 1000))
        """

    func invitersOfFraudsters() async throws -> [UserID] {
        try await sql.raw("SELECT DISTINCT inviter_id FROM (\(unsafeRaw: Self.fraudsters)) f").all().map { UserID(try $0.string("inviter_id")) }
    }

    func fraudulentInvitees(of inviter: UserID) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(DISTINCT used_by) AS n FROM (\(unsafeRaw: Self.fraudsters)) f WHERE inviter_id = \(bind: inviter.rawValue)
            """).first()?.int("n") ?? 0
    }

    static func invitation(_ row: any SQLRow) throws -> Invitation {
        Invitation(
            codeHash: try row.string("code_hash"), hint: try row.string("hint"), inviterID: UserID(try row.string("inviter_id")),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"), usedBy: try row.optionalString("used_by").map(UserID.init),
            usedAt: try row.optionalDate("used_at")
        )
    }
}
