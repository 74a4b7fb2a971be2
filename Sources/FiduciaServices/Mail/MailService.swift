import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging
import NIOCore

/// Where outgoing mail goes.
public struct MailSettings: Sendable, Equatable {
    /// The SMTP relay (`host:port`); nil: mail stays in the outbox, where `fiducia outbox` shows it.
    public var relayHost: String?
    public var relayPort = 25
    public var from = "fiducia@localhost"

    public init() {}
}

/// Mail through an outbox: a message is written in the same transaction as what it is about (a
/// verification code is never mailed for a verification that rolled back), and a job hands it to
/// the SMTP relay afterwards, retrying with back-off when the relay is down.
public struct MailService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let settings: MailSettings
    let logger: Logger

    static let deliveryJobKind = "mail.deliver"

    init(store: Store, clock: any WallClock, random: any RandomSource, settings: MailSettings, logger: Logger) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.settings = settings
        self.logger = logger
    }

    /// Writes a message to the outbox inside the caller's transaction and, when a relay is
    /// configured, schedules its delivery.
    func enqueue(to recipient: String, subject: String, body: String, in repositories: Repositories, now: Date) async throws {
        let id = ids.make(prefix: "mail")
        try await repositories.mail.enqueue(OutboundMail(id: id, recipient: recipient, subject: subject, body: body, createdAt: now))
        if settings.relayHost != nil {
            try await repositories.jobs.schedule(
                Job(id: ids.make(), kind: Self.deliveryJobKind, uniqueKey: "\(Self.deliveryJobKind):\(id)", payload: id, dueAt: now), now: now
            )
        }
    }

    /// The outbox, newest first (for `fiducia outbox`; an operator's tool, not an API).
    public func outbox(pendingOnly: Bool, limit: Int) async throws -> [OutboundMail] {
        try await store.read { try await $0.mail.list(pendingOnly: pendingOnly, limit: min(limit, 1000)) }
    }

    /// The message as the relay receives it (RFC 5322 headers, UTF-8 plain text).
    func rfc5322(_ mail: OutboundMail) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let domain = settings.from.split(separator: "@").last.map(String.init) ?? "localhost"
        return """
            From: Fiducia <\(settings.from)>
            To: <\(mail.recipient)>
            Subject: \(mail.subject)
            Date: \(formatter.string(from: mail.createdAt))
            Message-ID: <\(mail.id)@\(domain)>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 8bit

            \(mail.body)
            """
    }

    var deliveryJob: JobHandler {
        let store = store
        let settings = settings
        let service = self
        return JobHandler(kind: Self.deliveryJobKind) { job, _ -> String? in
            guard let host = settings.relayHost else { return nil }
            guard let mail = try await store.read({ try await $0.mail.find(job.payload) }), mail.sentAt == nil else { return nil }
            let client = SMTPClient(host: host, port: settings.relayPort, clientName: "fiducia", timeout: .seconds(20))
            do {
                try await client.send(from: settings.from, to: mail.recipient, message: service.rfc5322(mail))
            } catch {
                try await store.write { try await $0.mail.markFailed(mail.id, error: String(describing: error)) }
                // The job runner retries with back-off.
                throw error
            }
            return mail.id
        } then: { _, sent, repositories, now in
            if let sent { try await repositories.mail.markSent(sent, at: now) }
        }
    }
}

/// Sends SMS (phone verification codes). Real providers are one more conformance; the sandbox
/// keeps what it "sent" so that tests and the demo can read the code back.
public protocol SMSGateway: Sendable {
    /// Sends inside the caller's transaction (a provider that calls out would write an outbox row here).
    func send(to phone: String, text: String, in repositories: Repositories, now: Date) async throws
}

/// The sandbox gateway: messages are recorded (sealed), never sent.
public struct SandboxSMSGateway: SMSGateway {
    let ids: IdentifierGenerator

    public func send(to phone: String, text: String, in repositories: Repositories, now: Date) async throws {
        try await repositories.mail.recordSandboxSMS(id: ids.make(prefix: "sms"), recipient: phone, body: text, at: now)
    }
}
