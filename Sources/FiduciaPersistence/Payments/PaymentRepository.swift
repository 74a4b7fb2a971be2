import FiduciaDomain
import Foundation
import SQLKit

/// A charge recorded by the sandbox payment provider.
public struct SandboxCharge: Sendable, Equatable {
    public let id: String
    public let idempotencyKey: String
    public let amountMinor: Int64
    public let currency: Currency
    public let cardToken: String
    public var status: String
    public var refundedMinor: Int64

    public init(id: String, idempotencyKey: String, amountMinor: Int64, currency: Currency, cardToken: String, status: String, refundedMinor: Int64 = 0) {
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.amountMinor = amountMinor
        self.currency = currency
        self.cardToken = cardToken
        self.status = status
        self.refundedMinor = refundedMinor
    }
}

/// Payouts, statements, saved cards, received webhooks and the sandbox provider's own records.
public protocol PaymentRepository: Sendable {
    func insertPayout(_ payout: Payout) async throws
    func payout(_ id: PayoutID, lock: Bool) async throws -> Payout?
    func updatePayout(_ payout: Payout) async throws
    func payouts(user: UserID, limit: Int) async throws -> [Payout]

    /// The buyer's open statement for the month, opening it if needed (locked on PostgreSQL).
    func openStatement(buyer: UserID, currency: Currency, month: String, newID: StatementID, now: Date) async throws -> Statement
    func updateStatement(_ statement: Statement) async throws
    func statement(_ id: StatementID, lock: Bool) async throws -> Statement?
    /// Statements that are open or failed, for months up to and including `month`.
    func unsettledStatements(through month: String) async throws -> [Statement]
    func statements(buyer: UserID) async throws -> [Statement]

    func saveCard(_ card: SavedCard, user: UserID, now: Date) async throws
    func savedCard(user: UserID) async throws -> SavedCard?

    /// Records a webhook event; false if this event id was already received (a replay).
    func recordWebhookEvent(provider: String, eventID: String, type: String, payload: String, now: Date) async throws -> Bool

    /// Records a charge attempt before the provider is asked. Throws `PaymentError.paymentInProgress`
    /// when another attempt for the same order, deposit or statement is still pending.
    func insertChargeAttempt(_ attempt: ChargeAttempt) async throws
    func chargeAttempt(_ id: ChargeAttemptID, lock: Bool) async throws -> ChargeAttempt?
    func updateChargeAttempt(_ attempt: ChargeAttempt) async throws
    /// Every attempt for one order, deposit or statement, oldest first.
    func chargeAttempts(purpose: ChargeAttempt.Purpose, subjectID: String) async throws -> [ChargeAttempt]

    func sandboxCharge(idempotencyKey: String) async throws -> SandboxCharge?
    func sandboxCharge(id: String) async throws -> SandboxCharge?
    func insertSandboxCharge(_ charge: SandboxCharge, now: Date) async throws
    func updateSandboxCharge(_ charge: SandboxCharge) async throws
    /// The sandbox's record of a refund, by the refund's idempotency key.
    func sandboxRefund(idempotencyKey: String) async throws -> (chargeID: String, amountMinor: Int64, status: String)?
    func insertSandboxRefund(idempotencyKey: String, chargeID: String, amountMinor: Int64, status: String, now: Date) async throws
}

struct SQLPaymentRepository: PaymentRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let payoutColumns = "id, user_id, currency, amount_minor, destination, status, failure_reason, created_at, settled_at, submitted_at"
    static let statementColumns = "id, buyer_id, currency, month, status, total_minor, item_count, failure_reason, created_at, settled_at"

    func insertPayout(_ payout: Payout) async throws {
        try await sql.raw("""
            INSERT INTO payouts (\(unsafeRaw: Self.payoutColumns)) VALUES (\(bind: payout.id.rawValue), \(bind: payout.userID.rawValue),
                \(bind: payout.currency.code), \(bind: payout.amountMinor), \(bind: payout.destination), \(bind: payout.status.rawValue),
                \(bind: payout.failureReason), \(bind: payout.createdAt.millisecondsSince1970), \(bind: payout.settledAt?.millisecondsSince1970),
                \(bind: payout.submittedAt?.millisecondsSince1970))
            """).run()
    }

    func payout(_ id: PayoutID, lock: Bool) async throws -> Payout? {
        try await sql.raw("SELECT \(unsafeRaw: Self.payoutColumns) FROM payouts WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.payout)
    }

    func updatePayout(_ payout: Payout) async throws {
        try await sql.raw("""
            UPDATE payouts SET status = \(bind: payout.status.rawValue), failure_reason = \(bind: payout.failureReason),
                settled_at = \(bind: payout.settledAt?.millisecondsSince1970), submitted_at = \(bind: payout.submittedAt?.millisecondsSince1970)
            WHERE id = \(bind: payout.id.rawValue)
            """).run()
    }

    func payouts(user: UserID, limit: Int) async throws -> [Payout] {
        try await sql.raw("SELECT \(unsafeRaw: Self.payoutColumns) FROM payouts WHERE user_id = \(bind: user.rawValue) ORDER BY id DESC LIMIT \(bind: limit)")
            .all().map(Self.payout)
    }

    func openStatement(buyer: UserID, currency: Currency, month: String, newID: StatementID, now: Date) async throws -> Statement {
        try await sql.raw("""
            INSERT INTO statements (\(unsafeRaw: Self.statementColumns)) VALUES (\(bind: newID.rawValue), \(bind: buyer.rawValue),
                \(bind: currency.code), \(bind: month), 'open', 0, 0, NULL, \(bind: now.millisecondsSince1970), NULL)
            ON CONFLICT (buyer_id, currency, month) DO NOTHING
            """).run()
        guard let row = try await sql.raw("""
            SELECT \(unsafeRaw: Self.statementColumns) FROM statements
            WHERE buyer_id = \(bind: buyer.rawValue) AND currency = \(bind: currency.code) AND month = \(bind: month)\(unsafeRaw: kind.forUpdate)
            """).first()
        else { preconditionFailure("the statement was just opened") }
        return try Self.statement(row)
    }

    func updateStatement(_ statement: Statement) async throws {
        try await sql.raw("""
            UPDATE statements SET status = \(bind: statement.status.rawValue), total_minor = \(bind: statement.totalMinor),
                item_count = \(bind: statement.itemCount), failure_reason = \(bind: statement.failureReason),
                settled_at = \(bind: statement.settledAt?.millisecondsSince1970)
            WHERE id = \(bind: statement.id.rawValue)
            """).run()
    }

    func statement(_ id: StatementID, lock: Bool) async throws -> Statement? {
        try await sql.raw("SELECT \(unsafeRaw: Self.statementColumns) FROM statements WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.statement)
    }

    func unsettledStatements(through month: String) async throws -> [Statement] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.statementColumns) FROM statements WHERE status IN ('open', 'failed') AND month <= \(bind: month) ORDER BY id
            """).all().map(Self.statement)
    }

    func statements(buyer: UserID) async throws -> [Statement] {
        try await sql.raw("SELECT \(unsafeRaw: Self.statementColumns) FROM statements WHERE buyer_id = \(bind: buyer.rawValue) ORDER BY month DESC")
            .all().map(Self.statement)
    }

    func saveCard(_ card: SavedCard, user: UserID, now: Date) async throws {
        try await sql.raw("""
            INSERT INTO payment_cards (user_id, token, label, updated_at) VALUES (\(bind: user.rawValue), \(bind: card.token), \(bind: card.label), \(bind: now.millisecondsSince1970))
            ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, label = excluded.label, updated_at = excluded.updated_at
            """).run()
    }

    func savedCard(user: UserID) async throws -> SavedCard? {
        try await sql.raw("SELECT token, label FROM payment_cards WHERE user_id = \(bind: user.rawValue)").first().map {
            SavedCard(token: try $0.string("token"), label: try $0.string("label"))
        }
    }

    func recordWebhookEvent(provider: String, eventID: String, type: String, payload: String, now: Date) async throws -> Bool {
        try await sql.raw("""
            INSERT INTO webhook_events (provider, event_id, type, payload, received_at)
            VALUES (\(bind: provider), \(bind: eventID), \(bind: type), \(bind: payload), \(bind: now.millisecondsSince1970))
            ON CONFLICT (provider, event_id) DO NOTHING
            RETURNING event_id
            """).first() != nil
    }

    static let attemptColumns = "id, purpose, subject_id, user_id, amount_minor, currency, card_token, state, charge_id, failure_reason, created_at, settled_at"

    func insertChargeAttempt(_ attempt: ChargeAttempt) async throws {
        do {
            try await sql.raw("""
                INSERT INTO charge_attempts (\(unsafeRaw: Self.attemptColumns)) VALUES (\(bind: attempt.id.rawValue), \(bind: attempt.purpose.rawValue),
                    \(bind: attempt.subjectID), \(bind: attempt.userID.rawValue), \(bind: attempt.amountMinor), \(bind: attempt.currency.code),
                    \(bind: attempt.cardToken), \(bind: attempt.state.rawValue), \(bind: attempt.chargeID), \(bind: attempt.failureReason),
                    \(bind: attempt.createdAt.millisecondsSince1970), \(bind: attempt.settledAt?.millisecondsSince1970))
                """).run()
        } catch where DatabaseErrors.isUniqueViolation(error) {
            throw PaymentError.paymentInProgress
        }
    }

    func chargeAttempt(_ id: ChargeAttemptID, lock: Bool) async throws -> ChargeAttempt? {
        try await sql.raw("SELECT \(unsafeRaw: Self.attemptColumns) FROM charge_attempts WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")")
            .first().map(Self.attempt)
    }

    func updateChargeAttempt(_ attempt: ChargeAttempt) async throws {
        try await sql.raw("""
            UPDATE charge_attempts SET state = \(bind: attempt.state.rawValue), charge_id = \(bind: attempt.chargeID),
                failure_reason = \(bind: attempt.failureReason), settled_at = \(bind: attempt.settledAt?.millisecondsSince1970)
            WHERE id = \(bind: attempt.id.rawValue)
            """).run()
    }

    func chargeAttempts(purpose: ChargeAttempt.Purpose, subjectID: String) async throws -> [ChargeAttempt] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.attemptColumns) FROM charge_attempts WHERE purpose = \(bind: purpose.rawValue) AND subject_id = \(bind: subjectID) ORDER BY id
            """).all().map(Self.attempt)
    }

    static func attempt(_ row: any SQLRow) throws -> ChargeAttempt {
        ChargeAttempt(
            id: ChargeAttemptID(try row.string("id")),
            purpose: ChargeAttempt.Purpose(rawValue: try row.string("purpose"))!,
            subjectID: try row.string("subject_id"),
            userID: UserID(try row.string("user_id")),
            amountMinor: try row.int64("amount_minor"),
            currency: Currency(try row.string("currency"))!,
            cardToken: try row.string("card_token"),
            state: ChargeAttempt.State(rawValue: try row.string("state"))!,
            chargeID: try row.optionalString("charge_id"),
            failureReason: try row.optionalString("failure_reason"),
            createdAt: try row.date("created_at"),
            settledAt: try row.optionalDate("settled_at")
        )
    }

    func sandboxRefund(idempotencyKey: String) async throws -> (chargeID: String, amountMinor: Int64, status: String)? {
        try await sql.raw("SELECT charge_id, amount_minor, status FROM sandbox_refunds WHERE idempotency_key = \(bind: idempotencyKey)").first().map {
            (try $0.string("charge_id"), try $0.int64("amount_minor"), try $0.string("status"))
        }
    }

    func insertSandboxRefund(idempotencyKey: String, chargeID: String, amountMinor: Int64, status: String, now: Date) async throws {
        try await sql.raw("""
            INSERT INTO sandbox_refunds (idempotency_key, charge_id, amount_minor, status, created_at)
            VALUES (\(bind: idempotencyKey), \(bind: chargeID), \(bind: amountMinor), \(bind: status), \(bind: now.millisecondsSince1970))
            """).run()
    }

    static let chargeColumns = "id, idempotency_key, amount_minor, currency, card_token, status, refunded_minor"

    func sandboxCharge(idempotencyKey: String) async throws -> SandboxCharge? {
        try await sql.raw("SELECT \(unsafeRaw: Self.chargeColumns) FROM sandbox_charges WHERE idempotency_key = \(bind: idempotencyKey)").first().map(Self.charge)
    }

    func sandboxCharge(id: String) async throws -> SandboxCharge? {
        try await sql.raw("SELECT \(unsafeRaw: Self.chargeColumns) FROM sandbox_charges WHERE id = \(bind: id)").first().map(Self.charge)
    }

    func insertSandboxCharge(_ charge: SandboxCharge, now: Date) async throws {
        try await sql.raw("""
            INSERT INTO sandbox_charges (\(unsafeRaw: Self.chargeColumns), created_at) VALUES (\(bind: charge.id), \(bind: charge.idempotencyKey),
                \(bind: charge.amountMinor), \(bind: charge.currency.code), \(bind: charge.cardToken), \(bind: charge.status), \(bind: charge.refundedMinor),
                \(bind: now.millisecondsSince1970))
            """).run()
    }

    func updateSandboxCharge(_ charge: SandboxCharge) async throws {
        try await sql.raw("UPDATE sandbox_charges SET status = \(bind: charge.status), refunded_minor = \(bind: charge.refundedMinor) WHERE id = \(bind: charge.id)").run()
    }

    static func payout(_ row: any SQLRow) throws -> Payout {
        Payout(
            id: PayoutID(try row.string("id")),
            userID: UserID(try row.string("user_id")),
            currency: Currency(try row.string("currency"))!,
            amountMinor: try row.int64("amount_minor"),
            destination: try row.string("destination"),
            status: Payout.Status(rawValue: try row.string("status"))!,
            failureReason: try row.optionalString("failure_reason"),
            createdAt: try row.date("created_at"),
            submittedAt: try row.optionalDate("submitted_at"),
            settledAt: try row.optionalDate("settled_at")
        )
    }

    static func statement(_ row: any SQLRow) throws -> Statement {
        Statement(
            id: StatementID(try row.string("id")),
            buyerID: UserID(try row.string("buyer_id")),
            currency: Currency(try row.string("currency"))!,
            month: try row.string("month"),
            status: Statement.Status(rawValue: try row.string("status"))!,
            totalMinor: try row.int64("total_minor"),
            itemCount: try row.int("item_count"),
            failureReason: try row.optionalString("failure_reason"),
            createdAt: try row.date("created_at"),
            settledAt: try row.optionalDate("settled_at")
        )
    }

    static func charge(_ row: any SQLRow) throws -> SandboxCharge {
        SandboxCharge(
            id: try row.string("id"),
            idempotencyKey: try row.string("idempotency_key"),
            amountMinor: try row.int64("amount_minor"),
            currency: Currency(try row.string("currency"))!,
            cardToken: try row.string("card_token"),
            status: try row.string("status"),
            refundedMinor: try row.int64("refunded_minor")
        )
    }
}
