import FiduciaDomain
import Foundation
import SQLKit

/// A message waiting in (or sent from) the outbox. Recipient and body are sealed at rest.
public struct OutboundMail: Sendable, Equatable {
    public let id: String
    public let recipient: String
    public let subject: String
    public let body: String
    public let createdAt: Date
    public var sentAt: Date?
    public var attempts: Int
    public var lastError: String?

    public init(id: String, recipient: String, subject: String, body: String, createdAt: Date, sentAt: Date? = nil, attempts: Int = 0, lastError: String? = nil) {
        self.id = id
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// The mail outbox (written in the same transaction as whatever the mail is about, delivered by a
/// job), and the sandbox SMS gateway's log of messages.
public protocol MailRepository: Sendable {
    func enqueue(_ mail: OutboundMail) async throws
    func find(_ id: String) async throws -> OutboundMail?
    func markSent(_ id: String, at now: Date) async throws
    func markFailed(_ id: String, error: String) async throws
    /// The newest messages first; unsent only when `pendingOnly`.
    func list(pendingOnly: Bool, limit: Int) async throws -> [OutboundMail]
    func recordSandboxSMS(id: String, recipient: String, body: String, at now: Date) async throws
    /// The texts the sandbox gateway "sent" to `recipient`, newest first.
    func sandboxSMS(to recipient: String, limit: Int) async throws -> [String]
}

struct SQLMailRepository: MailRepository {
    let sql: any SQLDatabase
    let sealer: any PersonalDataSealer

    func enqueue(_ mail: OutboundMail) async throws {
        try await sql.raw("""
            INSERT INTO mail_outbox (id, recipient, subject, body, created_at, sent_at, attempts, last_error)
            VALUES (\(bind: mail.id), \(bind: try sealer.seal(mail.recipient, wrappedKey: nil)), \(bind: mail.subject),
                \(bind: try sealer.seal(mail.body, wrappedKey: nil)), \(bind: mail.createdAt.millisecondsSince1970), NULL, 0, NULL)
            """).run()
    }

    func find(_ id: String) async throws -> OutboundMail? {
        try await sql.raw("SELECT * FROM mail_outbox WHERE id = \(bind: id)").first().map(mail)
    }

    func markSent(_ id: String, at now: Date) async throws {
        try await sql.raw("UPDATE mail_outbox SET sent_at = \(bind: now.millisecondsSince1970), attempts = attempts + 1, last_error = NULL WHERE id = \(bind: id)").run()
    }

    func markFailed(_ id: String, error: String) async throws {
        try await sql.raw("UPDATE mail_outbox SET attempts = attempts + 1, last_error = \(bind: String(error.prefix(500))) WHERE id = \(bind: id)").run()
    }

    func list(pendingOnly: Bool, limit: Int) async throws -> [OutboundMail] {
        try await sql.raw("""
            SELECT * FROM mail_outbox \(unsafeRaw: pendingOnly ? "WHERE sent_at IS NULL" : "") ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
            """).all().map(mail)
    }

    func recordSandboxSMS(id: String, recipient: String, body: String, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO sandbox_sms (id, recipient_hash, body, created_at)
            VALUES (\(bind: id), \(bind: sealer.lookupHash(recipient)), \(bind: try sealer.seal(body, wrappedKey: nil)), \(bind: now.millisecondsSince1970))
            """).run()
    }

    func sandboxSMS(to recipient: String, limit: Int) async throws -> [String] {
        try await sql.raw("""
            SELECT body FROM sandbox_sms WHERE recipient_hash = \(bind: sealer.lookupHash(recipient)) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
            """).all().map { try sealer.openString(try $0.string("body"), wrappedKey: nil) }
    }

    func mail(_ row: any SQLRow) throws -> OutboundMail {
        OutboundMail(
            id: try row.string("id"), recipient: try sealer.openString(try row.string("recipient"), wrappedKey: nil), subject: try row.string("subject"),
            body: try sealer.openString(try row.string("body"), wrappedKey: nil), createdAt: try row.date("created_at"), sentAt: try row.optionalDate("sent_at"),
            attempts: try row.int("attempts"), lastError: try row.optionalString("last_error")
        )
    }
}
