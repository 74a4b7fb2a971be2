import FiduciaDomain
import Foundation
import SQLKit

/// Sign-in attempts in flight and the external accounts linked to Fiducia accounts.
///
/// An attempt's nonce, PKCE verifier and invitation code are sealed; an external subject is kept
/// only as a keyed hash, which is all a look-up needs.
public protocol ExternalAccountRepository: Sendable {
    func insertAttempt(_ attempt: ExternalSignInAttempt) async throws
    /// Removes and returns the attempt: each can be finished once, by whichever server gets the callback.
    func takeAttempt(id: String) async throws -> ExternalSignInAttempt?
    func deleteAttempts(expiredBefore: Date) async throws
    /// False when the subject or the (user, provider) pair is linked already.
    func link(_ account: ExternalAccount) async throws -> Bool
    func find(provider: String, subjectHash: String) async throws -> ExternalAccount?
    func accounts(of user: UserID) async throws -> [ExternalAccount]
    func unlink(user: UserID, provider: String) async throws -> Bool
}

struct SQLExternalAccountRepository: ExternalAccountRepository {
    let sql: any SQLDatabase
    let sealer: any PersonalDataSealer

    private struct Secrets: Codable {
        let nonce: String
        let codeVerifier: String
        let invitationCode: String?
    }

    func insertAttempt(_ attempt: ExternalSignInAttempt) async throws {
        let secrets = try JSONEncoder().encode(Secrets(nonce: attempt.nonce, codeVerifier: attempt.codeVerifier, invitationCode: attempt.invitationCode))
        try await sql.raw("""
            INSERT INTO sign_in_attempts (id, provider, purpose, user_id, secrets, browser_hash, created_at, expires_at)
            VALUES (\(bind: attempt.id), \(bind: attempt.provider), \(bind: attempt.purpose.rawValue), \(bind: attempt.userID?.rawValue),
                \(bind: try sealer.seal(Array(secrets), wrappedKey: nil)), \(bind: attempt.browserHash),
                \(bind: attempt.createdAt.millisecondsSince1970), \(bind: attempt.expiresAt.millisecondsSince1970))
            """).run()
    }

    func takeAttempt(id: String) async throws -> ExternalSignInAttempt? {
        guard let row = try await sql.raw("DELETE FROM sign_in_attempts WHERE id = \(bind: id) RETURNING *").first() else { return nil }
        let secrets = try JSONDecoder().decode(Secrets.self, from: Data(try sealer.open(try row.string("secrets"), wrappedKey: nil)))
        guard let purpose = ExternalSignInAttempt.Purpose(rawValue: try row.string("purpose")) else { return nil }
        return ExternalSignInAttempt(
            id: try row.string("id"), provider: try row.string("provider"), purpose: purpose, userID: try row.optionalString("user_id").map(UserID.init),
            nonce: secrets.nonce, codeVerifier: secrets.codeVerifier, browserHash: try row.string("browser_hash"), invitationCode: secrets.invitationCode,
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at")
        )
    }

    func deleteAttempts(expiredBefore: Date) async throws {
        try await sql.raw("DELETE FROM sign_in_attempts WHERE expires_at < \(bind: expiredBefore.millisecondsSince1970)").run()
    }

    func link(_ account: ExternalAccount) async throws -> Bool {
        try await !sql.raw("""
            INSERT INTO external_accounts (provider, subject_hash, user_id, linked_at)
            VALUES (\(bind: account.provider), \(bind: account.subject), \(bind: account.userID.rawValue), \(bind: account.linkedAt.millisecondsSince1970))
            ON CONFLICT DO NOTHING RETURNING provider
            """).all().isEmpty
    }

    func find(provider: String, subjectHash: String) async throws -> ExternalAccount? {
        try await sql.raw("""
            SELECT * FROM external_accounts WHERE provider = \(bind: provider) AND subject_hash = \(bind: subjectHash)
            """).first().map(Self.account)
    }

    func accounts(of user: UserID) async throws -> [ExternalAccount] {
        try await sql.raw("SELECT * FROM external_accounts WHERE user_id = \(bind: user.rawValue) ORDER BY provider").all().map(Self.account)
    }

    func unlink(user: UserID, provider: String) async throws -> Bool {
        try await !sql.raw("""
            DELETE FROM external_accounts WHERE user_id = \(bind: user.rawValue) AND provider = \(bind: provider) RETURNING provider
            """).all().isEmpty
    }

    static func account(_ row: any SQLRow) throws -> ExternalAccount {
        ExternalAccount(
            provider: try row.string("provider"), subject: try row.string("subject_hash"), userID: UserID(try row.string("user_id")),
            linkedAt: try row.date("linked_at")
        )
    }
}
