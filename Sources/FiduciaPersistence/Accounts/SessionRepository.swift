import FiduciaDomain
import Foundation
import SQLKit

/// Stores sessions by the hash of their secret token; the token itself is never stored.
public protocol SessionRepository: Sendable {
    func insert(_ session: Session, tokenHash: String) async throws
    /// The session whose token hashes to `tokenHash`, unless it was revoked, has expired, or was
    /// last used before `idleSince`.
    func findActive(tokenHash: String, at now: Date, idleSince: Date) async throws -> Session?
    /// Records that the session is in use at `now`.
    func touch(_ id: SessionID, at now: Date) async throws
    /// Revokes every session of `user` (its password changed); returns how many.
    func revokeAll(of user: UserID, at now: Date) async throws -> Int
    /// Ends every live session but `kept` (incident mode); returns how many.
    func revokeEveryone(except kept: SessionID?, at now: Date) async throws -> Int
    func revoke(_ id: SessionID, at now: Date) async throws
    /// Deletes sessions that expired before `cutoff`; returns how many.
    func deleteExpired(before cutoff: Date) async throws -> Int

    /// Failed log-ins, by normalised email address, for throttling (shared by every server). The
    /// address is stored only as its keyed hash.
    /// `client` is the client's address (stored as its keyed hash too).
    func recordFailedLogIn(email: String, client: String, at now: Date) async throws
    /// Serialises log-in attempts for one account and for one client address until the
    /// transaction ends (PostgreSQL: advisory locks, the account's first; SQLite's single writer
    /// already does), so that counting the recent failures and recording a new attempt happen as
    /// one step however many attempts race.
    func lockLogInAttempts(email: String, client: String) async throws
    /// Recent failures for the account from this client, for the account, and from this client.
    func failedLogIns(email: String, client: String, since: Date) async throws -> AccountRules.RecentLogInFailures
    func clearFailedLogIns(email: String) async throws
    func deleteFailedLogIns(before cutoff: Date) async throws
}

struct SQLSessionRepository: SessionRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind
    let sealer: any PersonalDataSealer

    func insert(_ session: Session, tokenHash: String) async throws {
        try await sql.raw("""
            INSERT INTO sessions (id, token_hash, user_id, kind, created_at, expires_at)
            VALUES (\(bind: session.id.rawValue), \(bind: tokenHash), \(bind: session.userID.rawValue), \(bind: session.kind.rawValue),
                    \(bind: session.createdAt.millisecondsSince1970), \(bind: session.expiresAt.millisecondsSince1970))
            """).run()
    }

    func findActive(tokenHash: String, at now: Date, idleSince: Date) async throws -> Session? {
        guard let row = try await sql.raw("""
            SELECT id, user_id, kind, created_at, expires_at, COALESCE(last_used_at, created_at) AS last_used_at FROM sessions
            WHERE token_hash = \(bind: tokenHash) AND revoked_at IS NULL AND expires_at > \(bind: now.millisecondsSince1970)
              AND COALESCE(last_used_at, created_at) > \(bind: idleSince.millisecondsSince1970)
            """).first()
        else { return nil }
        return Session(
            id: SessionID(try row.string("id")),
            userID: UserID(try row.string("user_id")),
            kind: Session.Kind(rawValue: try row.string("kind")) ?? .bearer,
            createdAt: try row.date("created_at"),
            expiresAt: try row.date("expires_at"),
            lastUsedAt: try row.date("last_used_at")
        )
    }

    func touch(_ id: SessionID, at now: Date) async throws {
        try await sql.raw("UPDATE sessions SET last_used_at = \(bind: now.millisecondsSince1970) WHERE id = \(bind: id.rawValue)").run()
    }

    func revokeAll(of user: UserID, at now: Date) async throws -> Int {
        try await sql.raw("""
            UPDATE sessions SET revoked_at = \(bind: now.millisecondsSince1970) WHERE user_id = \(bind: user.rawValue) AND revoked_at IS NULL RETURNING id
            """).all().count
    }

    func revokeEveryone(except kept: SessionID?, at now: Date) async throws -> Int {
        try await sql.raw("""
            UPDATE sessions SET revoked_at = \(bind: now.millisecondsSince1970) WHERE revoked_at IS NULL AND id <> \(bind: kept?.rawValue ?? "") RETURNING id
            """).all().count
    }

    func revoke(_ id: SessionID, at now: Date) async throws {
        try await sql.raw("UPDATE sessions SET revoked_at = \(bind: now.millisecondsSince1970) WHERE id = \(bind: id.rawValue) AND revoked_at IS NULL").run()
    }

    func deleteExpired(before cutoff: Date) async throws -> Int {
        try await sql.raw("DELETE FROM sessions WHERE expires_at < \(bind: cutoff.millisecondsSince1970) RETURNING id").all().count
    }

    func lockLogInAttempts(email: String, client: String) async throws {
        guard kind == .postgres else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: "log-in:" + sealer.lookupHash(email)), 0))").run()
        try await sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: "log-in-client:" + sealer.lookupHash(client)), 0))").run()
    }

    func recordFailedLogIn(email: String, client: String, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO failed_log_ins (email, client, at) VALUES (\(bind: sealer.lookupHash(email)), \(bind: sealer.lookupHash(client)), \(bind: now.millisecondsSince1970))
            """).run()
    }

    func failedLogIns(email: String, client: String, since: Date) async throws -> AccountRules.RecentLogInFailures {
        let account = sealer.lookupHash(email)
        let address = sealer.lookupHash(client)
        let row = try await sql.raw("""
            SELECT COALESCE(SUM(CASE WHEN email = \(bind: account) AND client = \(bind: address) THEN 1 ELSE 0 END), 0) AS both_match,
                   COALESCE(SUM(CASE WHEN email = \(bind: account) THEN 1 ELSE 0 END), 0) AS account,
                   COALESCE(SUM(CASE WHEN client = \(bind: address) THEN 1 ELSE 0 END), 0) AS address
            FROM failed_log_ins
            WHERE (email = \(bind: account) OR client = \(bind: address)) AND at >= \(bind: since.millisecondsSince1970)
            """).first()
        return AccountRules.RecentLogInFailures(
            accountFromAddress: try row?.int("both_match") ?? 0, account: try row?.int("account") ?? 0, address: try row?.int("address") ?? 0
        )
    }

    func clearFailedLogIns(email: String) async throws {
        try await sql.raw("DELETE FROM failed_log_ins WHERE email = \(bind: sealer.lookupHash(email))").run()
    }

    func deleteFailedLogIns(before cutoff: Date) async throws {
        try await sql.raw("DELETE FROM failed_log_ins WHERE at < \(bind: cutoff.millisecondsSince1970)").run()
    }
}
