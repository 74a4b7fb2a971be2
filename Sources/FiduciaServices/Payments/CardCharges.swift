import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// Card charges as a saga that a crash cannot break, and card refunds through an outbox.
///
/// A charge has three steps: (1) the attempt is recorded, with a reconciliation job, in one
/// transaction; (2) the provider is asked, outside any transaction, under the attempt's
/// idempotency key; (3) the outcome and its effect (an order paid, a deposit placed, a statement
/// settled) are recorded in one transaction. If the server dies between (1) and (3), or the
/// provider does not answer, the reconciliation job asks the provider what became of the key and
/// finishes step (3), so a charged card is always applied or refunded, and never charged twice.
///
/// A refund to a card is a job written in the same transaction as the decision to refund: the job
/// asks the provider (idempotently) and then posts or voids the ledger hold that kept the money
/// meanwhile.
public struct CardCharges: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let provider: any PaymentProvider
    let ledger: LedgerService
    /// How long after an attempt starts its reconciliation runs (if the attempt has not finished).
    let reconcileDelaySeconds: TimeInterval
    let logger: Logger

    static let reconcileJobKind = "payments.reconcileCharge"
    static let refundJobKind = "payments.refundCard"

    /// What a successful charge pays for, applied in the transaction that records it. Throwing a
    /// `DomainError` (the order was cancelled meanwhile) refunds the charge instead.
    public typealias Effect = @Sendable (ChargeAttempt, _ chargeID: String, Repositories, Date) async throws -> Void

    /// A refund to a card, as the refund job carries it.
    struct CardRefund: Codable, Sendable {
        let request: CardRefundRequest
        let userID: String
        let currency: String
        /// The ledger hold that keeps the money on the user's balance until the provider answers;
        /// nil for a charge that never reached the ledger (its effect was refused).
        let holdReference: String?
        let orderID: String?
    }

    // MARK: The saga

    /// Step 1, in the caller's transaction: records the attempt and schedules its reconciliation.
    /// Throws `PaymentError.paymentInProgress` if another attempt for the same subject is pending.
    func begin(_ attempt: ChargeAttempt, in repositories: Repositories, now: Date) async throws {
        try await repositories.payments.insertChargeAttempt(attempt)
        try await repositories.jobs.schedule(
            Job(id: ids.make(), kind: Self.reconcileJobKind, uniqueKey: Self.reconcileKey(attempt.id), payload: attempt.id.rawValue,
                dueAt: now.addingTimeInterval(reconcileDelaySeconds)),
            now: now
        )
    }

    /// Step 2: asks the provider. If it does not answer, the outcome is unknown: reconciliation
    /// finds it out, and the caller is told so.
    func charge(_ attempt: ChargeAttempt) async throws -> ChargeOutcome {
        // The attempt and its reconciliation must be on disk before the card can be charged.
        try await store.commitRequestWrites()
        do {
            return try await provider.charge(ChargeRequest(
                idempotencyKey: attempt.idempotencyKey, amountMinor: attempt.amountMinor, currency: attempt.currency, cardToken: attempt.cardToken
            ))
        } catch {
            logger.warning("the payment provider did not answer a charge; reconciliation will settle it", metadata: [
                "attempt": "\(attempt.id)", "error": "\(String(reflecting: error))",
            ])
            throw PaymentError.providerUnavailable
        }
    }

    /// Step 3, in one transaction: records the outcome and applies `effect`. Returns the settled
    /// attempt and, when the effect was refused, why (the caller reports it after the commit).
    /// A settled attempt is left as it is, so the request and the reconciliation can both call this.
    func finish(
        _ id: ChargeAttemptID, outcome: ChargeOutcome, effect: Effect, in repositories: Repositories, now: Date, cancelReconciliation: Bool
    ) async throws -> (attempt: ChargeAttempt, refusal: (any DomainError)?) {
        guard var attempt = try await repositories.payments.chargeAttempt(id, lock: true) else {
            preconditionFailure("a charge attempt is finished only after it was recorded")
        }
        var refusal: (any DomainError)?
        switch (attempt.state, outcome) {
        case (.pending, .declined(let reason)):
            attempt.state = .declined
            attempt.failureReason = reason
        case (.pending, .notFound):
            attempt.state = .abandoned
        case (.pending, .succeeded(let chargeID)):
            attempt.chargeID = chargeID
            do {
                try await repositories.savepoint { try await effect(attempt, chargeID, repositories, now) }
                attempt.state = .succeeded
            } catch let error as any DomainError {
                // The charge went through but what it paid for is no longer possible: give it back.
                attempt.state = .refunding
                attempt.failureReason = error.detail
                refusal = error
                try await scheduleRefund(of: chargeID, amountMinor: attempt.amountMinor, to: attempt.userID, currency: attempt.currency,
                                         key: "\(attempt.idempotencyKey):refund", holdReference: nil, orderID: nil, in: repositories, now: now)
            }
        case (.abandoned, .succeeded(let chargeID)):
            // Reconciliation found no charge, but the provider charged after all (a very slow
            // answer): the attempt is closed, so the charge goes back.
            attempt.state = .refunding
            attempt.chargeID = chargeID
            try await scheduleRefund(of: chargeID, amountMinor: attempt.amountMinor, to: attempt.userID, currency: attempt.currency,
                                     key: "\(attempt.idempotencyKey):refund", holdReference: nil, orderID: nil, in: repositories, now: now)
        default:
            return (attempt, nil)
        }
        attempt.settledAt = now
        try await repositories.payments.updateChargeAttempt(attempt)
        if cancelReconciliation {
            try await repositories.jobs.cancel(uniqueKey: Self.reconcileKey(attempt.id), now: now)
        }
        return (attempt, refusal)
    }

    /// Runs all three steps for `attempt`, whose first step `begin` already wrote. Throws the
    /// refusal or the decline, or returns the succeeded attempt.
    func complete(_ attempt: ChargeAttempt, effect: @escaping Effect) async throws -> ChargeAttempt {
        let outcome = try await charge(attempt)
        let (settled, refusal) = try await store.write { repositories in
            try await finish(attempt.id, outcome: outcome, effect: effect, in: repositories, now: clock.now(), cancelReconciliation: true)
        }
        if let refusal { throw refusal }
        switch settled.state {
        case .succeeded: return settled
        case .declined: throw PaymentError.cardDeclined(settled.failureReason ?? "the card was declined")
        case .pending, .refunding, .abandoned: throw PaymentError.paymentInProgress
        }
    }

    static func reconcileKey(_ id: ChargeAttemptID) -> String { "\(reconcileJobKind):\(id)" }

    /// The reconciliation job: asks the provider what became of a pending attempt and finishes it
    /// with the effect of its purpose.
    func reconcileJob(effect: @escaping @Sendable (ChargeAttempt.Purpose) -> Effect) -> JobHandler {
        JobHandler(kind: Self.reconcileJobKind, outside: { job, _ -> ChargeOutcome? in
            let id = ChargeAttemptID(job.payload)
            guard let attempt = try await store.read({ try await $0.payments.chargeAttempt(id, lock: false) }), attempt.state == .pending else {
                return nil
            }
            return try await provider.findCharge(idempotencyKey: attempt.idempotencyKey)
        }, then: { job, outcome, repositories, now in
            guard let outcome, let attempt = try await repositories.payments.chargeAttempt(ChargeAttemptID(job.payload), lock: false) else { return }
            let (settled, _) = try await finish(attempt.id, outcome: outcome, effect: effect(attempt.purpose), in: repositories, now: now, cancelReconciliation: false)
            logger.notice("reconciled a card charge", metadata: ["attempt": "\(settled.id)", "state": "\(settled.state.rawValue)"])
        })
    }

    // MARK: Refunds to cards

    /// Writes the refund job in the caller's transaction (the outbox).
    func scheduleRefund(
        of chargeID: String, amountMinor: Int64, to user: UserID, currency: Currency, key: String, holdReference: String?, orderID: OrderID?,
        in repositories: Repositories, now: Date
    ) async throws {
        let refund = CardRefund(
            request: CardRefundRequest(idempotencyKey: key, chargeID: chargeID, amountMinor: amountMinor),
            userID: user.rawValue, currency: currency.code, holdReference: holdReference, orderID: orderID?.rawValue
        )
        try await repositories.jobs.schedule(
            Job(id: ids.make(), kind: Self.refundJobKind, uniqueKey: "\(Self.refundJobKind):\(key)",
                payload: String(decoding: try JSONEncoder().encode(refund), as: UTF8.self), dueAt: now),
            now: now
        )
    }

    /// The refund job: asks the provider to return the money, then settles the ledger. A refused
    /// refund leaves the money with the user, on their balance: it truly arrived.
    var refundJob: JobHandler {
        JobHandler(kind: Self.refundJobKind, outside: { job, _ -> (CardRefund, RefundOutcome) in
            let refund = try JSONDecoder().decode(CardRefund.self, from: Data(job.payload.utf8))
            return (refund, try await provider.refund(refund.request))
        }, then: { _, result, repositories, now in
            let (refund, outcome) = result
            let user = UserID(refund.userID)
            guard let currency = Currency(refund.currency) else { return }
            let orderID = refund.orderID.map(OrderID.init)
            if case .refused(let reason) = outcome {
                logger.warning("a card refused a refund; the money stays on the user's balance", metadata: [
                    "charge": "\(refund.request.chargeID)", "reason": "\(reason)",
                ])
            }
            if let hold = refund.holdReference {
                let movement = MoneyMovement(debit: .user(user, .available), credit: .platform(.external), amountMinor: refund.request.amountMinor,
                                             mode: .pending, purpose: .cardRefund, reference: hold)
                try await ledger.execute([outcome == .refunded ? .post(movement) : .void(movement)], currency: currency, orderID: orderID, in: repositories, now: now)
            } else if case .refused = outcome {
                // The charge never reached the ledger: it arrives now, on the payer's balance.
                try await ledger.execute([
                    MoneyMovement(debit: .platform(.external), credit: .user(user, .available), amountMinor: refund.request.amountMinor, mode: .posted,
                                  purpose: .chargeCredited, reference: "\(refund.request.idempotencyKey):credited"),
                ], currency: currency, orderID: orderID, in: repositories, now: now)
            }
        })
    }
}
