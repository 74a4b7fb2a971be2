import FiduciaDomain
import FiduciaPersistence
import Foundation

/// A simulated payment provider for development and tests, with the behaviour of a real one:
///
/// * Cards are tokens. `tok_visa` and `tok_mastercard` succeed; `tok_declined` is declined (and
///   fails verification); `tok_insufficient_funds` passes verification but its charges are
///   declined; `tok_refund_refused` is charged but refuses refunds (a closed card account). Any
///   other token is unknown and declined.
/// * Charges, refunds and payouts are idempotent by key (kept in the database, so every server
///   agrees), and charges can be looked up by key, as reconciliation needs.
/// * Payouts are asynchronous: a job settles them a moment later and delivers a webhook signed
///   with HMAC-SHA256 (`Fiducia-Signature: t=<unix time>,v1=<hex>` over `"<t>.<body>"`), checked
///   like any other provider's. A destination starting with `fail` makes the payout fail.
public struct SandboxPaymentProvider: PaymentProvider {
    public let name = "sandbox"
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let random: any RandomSource
    /// How long after a payout request its webhook arrives.
    let settlementDelaySeconds: TimeInterval
    static let toleranceSeconds: Int64 = 300
    static let webhookJobKind = "sandbox.webhook"

    public init(store: Store, clock: any WallClock, random: any RandomSource, settlementDelaySeconds: TimeInterval = 2) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.random = random
        self.settlementDelaySeconds = settlementDelaySeconds
    }

    struct Card {
        let label: String
        /// Why a verification is declined, if it is.
        var verificationDeclined: String?
        /// Why a charge is declined, if it is.
        var chargeDeclined: String?
        /// Why a refund is refused, if it is.
        var refundRefused: String?
    }

    /// The sandbox's test cards, by token.
    public static let testCards = ["tok_visa", "tok_mastercard", "tok_declined", "tok_insufficient_funds", "tok_refund_refused"]

    static let cards: [String: Card] = [
        "tok_visa": Card(label: "Visa ending 4242"),
        "tok_mastercard": Card(label: "Mastercard ending 4444"),
        "tok_declined": Card(label: "Visa ending 0002", verificationDeclined: "the card was declined", chargeDeclined: "the card was declined"),
        "tok_insufficient_funds": Card(label: "Visa ending 9995", chargeDeclined: "the card has insufficient funds"),
        "tok_refund_refused": Card(label: "Visa ending 0069", refundRefused: "the card account is closed"),
    ]

    public func verifyCard(_ token: String) async throws -> CardCheck {
        guard let card = Self.cards[token] else { return .unknown }
        if let reason = card.verificationDeclined { return .declined(reason: reason) }
        return .accepted(label: card.label)
    }

    public func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        let now = clock.now()
        let chargeID = "ch_" + SecretToken.base64URL(random.bytes(12))
        let charge = try await store.write { repositories -> SandboxCharge in
            if let existing = try await repositories.payments.sandboxCharge(idempotencyKey: request.idempotencyKey) { return existing }
            let declined = Self.cards[request.cardToken].map { $0.chargeDeclined != nil } ?? true
            let charge = SandboxCharge(
                id: chargeID, idempotencyKey: request.idempotencyKey, amountMinor: request.amountMinor, currency: request.currency,
                cardToken: request.cardToken, status: declined ? "declined" : "succeeded"
            )
            try await repositories.payments.insertSandboxCharge(charge, now: now)
            return charge
        }
        return Self.outcome(charge)
    }

    public func findCharge(idempotencyKey: String) async throws -> ChargeOutcome {
        guard let charge = try await store.read({ try await $0.payments.sandboxCharge(idempotencyKey: idempotencyKey) }) else { return .notFound }
        return Self.outcome(charge)
    }

    static func outcome(_ charge: SandboxCharge) -> ChargeOutcome {
        if charge.status == "declined" {
            return .declined(reason: cards[charge.cardToken]?.chargeDeclined ?? "the card is unknown to the sandbox")
        }
        return .succeeded(chargeID: charge.id)
    }

    public func refund(_ request: CardRefundRequest) async throws -> RefundOutcome {
        let now = clock.now()
        return try await store.write { repositories -> RefundOutcome in
            if let existing = try await repositories.payments.sandboxRefund(idempotencyKey: request.idempotencyKey) {
                return existing.status == "refunded" ? .refunded : .refused(reason: "the refund was refused before")
            }
            var outcome = RefundOutcome.refunded
            if var charge = try await repositories.payments.sandboxCharge(id: request.chargeID), charge.status != "declined" {
                if let reason = Self.cards[charge.cardToken]?.refundRefused {
                    outcome = .refused(reason: reason)
                } else if let total = charge.refundedMinor.addingChecked(request.amountMinor), total <= charge.amountMinor {
                    charge.refundedMinor = total
                    charge.status = total == charge.amountMinor ? "refunded" : "partially_refunded"
                    try await repositories.payments.updateSandboxCharge(charge)
                } else {
                    outcome = .refused(reason: "more than the charge would be refunded")
                }
            } else {
                outcome = .refused(reason: "there is no such charge")
            }
            try await repositories.payments.insertSandboxRefund(
                idempotencyKey: request.idempotencyKey, chargeID: request.chargeID, amountMinor: request.amountMinor,
                status: outcome == .refunded ? "refunded" : "refused", now: now
            )
            return outcome
        }
    }

    public func payout(_ request: PayoutRequest) async throws -> PayoutOutcome {
        let now = clock.now()
        let fails = request.destination.lowercased().hasPrefix("fail")
        let event = PaymentEvent(
            id: "evt_" + SecretToken.base64URL(random.bytes(12)),
            type: fails ? .payoutFailed : .payoutPaid,
            payoutId: request.payoutID.rawValue,
            reason: fails ? "the bank refused the account" : nil,
            created: 0
        )
        let payload = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        let job = Job(
            id: ids.make(), kind: Self.webhookJobKind, uniqueKey: "\(Self.webhookJobKind):\(request.payoutID)",
            payload: payload, dueAt: now.addingTimeInterval(settlementDelaySeconds)
        )
        // Asked again for the same payout, the sandbox takes it once: the first webhook stands.
        try await store.write { repositories in
            if try await repositories.jobs.find(uniqueKey: job.uniqueKey) == nil {
                try await repositories.jobs.schedule(job, now: now)
            }
        }
        return .accepted
    }

    public func verifyWebhook(body: [UInt8], signature: String?, now: Date) async throws -> PaymentEvent {
        try Self.verify(body: body, signature: signature, now: now, secret: try await webhookSecret())
    }

    /// Checks the signature (in constant time) and the age, then decodes the event.
    static func verify(body: [UInt8], signature: String?, now: Date, secret: String) throws(WebhookError) -> PaymentEvent {
        guard let signature else { throw .missingSignature }
        var timestamp: Int64?
        var provided: String?
        for part in signature.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { provided = String(pair[1]) }
        }
        guard let timestamp, let provided else { throw .missingSignature }
        guard SecretToken.constantTimeEquals(sign(body: body, timestamp: timestamp, secret: secret), provided) else { throw .badSignature }
        let age = Int64(now.timeIntervalSince1970) - timestamp
        // A correctly signed but old (or far-future) event is refused: it may be a captured replay.
        guard abs(age) <= toleranceSeconds else { throw .stale(ageSeconds: age) }
        guard let event = try? JSONDecoder().decode(PaymentEvent.self, from: Data(body)) else { throw .malformed("not a payment event") }
        return event
    }

    /// The value of the `Fiducia-Signature` header for `body` signed at `timestamp`.
    public func signatureHeader(body: [UInt8], timestamp: Int64) async throws -> String {
        "t=\(timestamp),v1=\(Self.sign(body: body, timestamp: timestamp, secret: try await webhookSecret()))"
    }

    static func sign(body: [UInt8], timestamp: Int64, secret: String) -> String {
        SecretToken.hmacHex("\(timestamp).".utf8 + body, key: secret)
    }

    /// The signing secret, shared by every server through the database.
    /// Read first, so that a stranger posting forged webhooks never takes the write lock.
    func webhookSecret() async throws -> String {
        if let secret = try await store.read({ try await $0.secrets.existingSecret(named: "sandbox-webhook") }) { return secret }
        let candidate = SecretToken.base64URL(random.bytes(32))
        let now = clock.now()
        return try await store.write { try await $0.secrets.secret(named: "sandbox-webhook", orInsert: candidate, at: now) }
    }

    /// Delivers a settled payout's event the way a provider's webhook would: signed, then
    /// verified, then handed to `deliver` inside the job's transaction.
    func webhookJob(deliver: @escaping @Sendable (PaymentEvent, Repositories, Date) async throws -> Void) -> JobHandler {
        JobHandler(kind: Self.webhookJobKind) { job, repositories, now in
            var event = try JSONDecoder().decode(PaymentEvent.self, from: Data(job.payload.utf8))
            event = PaymentEvent(id: event.id, type: event.type, payoutId: event.payoutId, reason: event.reason, created: Int64(now.timeIntervalSince1970))
            let body = Array(try JSONEncoder().encode(event))
            let timestamp = Int64(now.timeIntervalSince1970)
            let secret = try await repositories.secrets.secret(named: "sandbox-webhook", orInsert: SecretToken.base64URL(random.bytes(32)), at: now)
            let header = "t=\(timestamp),v1=\(Self.sign(body: body, timestamp: timestamp, secret: secret))"
            let verified = try Self.verify(body: body, signature: header, now: now, secret: secret)
            guard try await repositories.payments.recordWebhookEvent(
                provider: name, eventID: verified.id, type: verified.type.rawValue, payload: String(decoding: body, as: UTF8.self), now: now
            ) else { return }
            try await deliver(verified, repositories, now)
        }
    }
}
