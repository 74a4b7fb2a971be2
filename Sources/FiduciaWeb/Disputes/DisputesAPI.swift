import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Disputes (D3): negotiation, mediation and arbitration. Every action answers with the dispute as
/// the caller now sees it, with what they may do next.
extension FiduciaAPIHandler {
    func openDispute(_ input: Operations.OpenDispute.Input) async throws -> Operations.OpenDispute.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let request = NewDispute(
            reason: DisputeReason(rawValue: body.reason.rawValue)!,
            remedy: body.remedy.map { DisputeRemedy(rawValue: $0.rawValue)! },
            amountMinor: body.amountMinor,
            description: body.description,
            attachmentIDs: Self.attachmentIDs(body.attachmentIds)
        )
        let dispute = try await services.disputes.open(on: OrderID(input.path.orderId), request, by: principal)
        return .created(.init(headers: .init(location: "/v1/disputes/\(dispute.id)"), body: .json(try await disputeView(dispute.id))))
    }

    func listDisputes(_ input: Operations.ListDisputes.Input) async throws -> Operations.ListDisputes.Output {
        let scope = DisputeService.ListScope(rawValue: input.query.scope?.rawValue ?? "mine") ?? .mine
        let disputes = try await services.disputes.disputes(scope, by: principal)
        return .ok(.init(body: .json(.init(items: disputes.map { Components.Schemas.Dispute($0) }))))
    }

    func getDispute(_ input: Operations.GetDispute.Input) async throws -> Operations.GetDispute.Output {
        .ok(.init(body: .json(try await disputeView(DisputeID(input.path.disputeId)))))
    }

    func respondToDispute(_ input: Operations.RespondToDispute.Input) async throws -> Operations.RespondToDispute.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let response: SellerResponse
        switch body.decision {
        case .accept: response = .accept
        case .offer:
            guard let amount = body.refundMinor else { throw ValidationError(field: "refundMinor", "An offer needs the amount to refund.") }
            response = .offer(refundMinor: amount, note: body.note ?? "")
        case .refuse: response = .refuse(statement: body.note ?? "")
        }
        let id = DisputeID(input.path.disputeId)
        _ = try await services.disputes.respond(to: id, response, by: principal)
        return .ok(.init(body: .json(try await disputeView(id))))
    }

    func acceptDisputeOffer(_ input: Operations.AcceptDisputeOffer.Input) async throws -> Operations.AcceptDisputeOffer.Output {
        .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.acceptOffer($1, by: $2) })))
    }

    func escalateDispute(_ input: Operations.EscalateDispute.Input) async throws -> Operations.EscalateDispute.Output {
        .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.escalate($1, by: $2) })))
    }

    func withdrawDispute(_ input: Operations.WithdrawDispute.Input) async throws -> Operations.WithdrawDispute.Output {
        .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.withdraw($1, by: $2) })))
    }

    func takeDispute(_ input: Operations.TakeDispute.Input) async throws -> Operations.TakeDispute.Output {
        .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.take($1, by: $2) })))
    }

    func confirmDisputeReturn(_ input: Operations.ConfirmDisputeReturn.Input) async throws -> Operations.ConfirmDisputeReturn.Output {
        .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.confirmReturn($1, by: $2) })))
    }

    func addDisputeEvidence(_ input: Operations.AddDisputeEvidence.Input) async throws -> Operations.AddDisputeEvidence.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let evidence = try await services.disputes.addEvidence(
            to: DisputeID(input.path.disputeId), text: body.text, attachmentIDs: Self.attachmentIDs(body.attachmentIds), by: principal
        )
        return .created(.init(body: .json(.init(evidence))))
    }

    func requestDisputeEvidence(_ input: Operations.RequestDisputeEvidence.Input) async throws -> Operations.RequestDisputeEvidence.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let party: DisputeParty = body.from == .buyer ? .buyer : .seller
        return .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.requestEvidence($1, from: party, note: body.note, by: $2) })))
    }

    func proposeDisputeSettlement(_ input: Operations.ProposeDisputeSettlement.Input) async throws -> Operations.ProposeDisputeSettlement.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        return .ok(.init(body: .json(try await disputeAction(input.path.disputeId) { try await $0.propose($1, refundMinor: body.refundMinor, note: body.note, by: $2) })))
    }

    func resolveDispute(_ input: Operations.ResolveDispute.Input) async throws -> Operations.ResolveDispute.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let id = DisputeID(input.path.disputeId)
        let ruling: DisputeRuling
        switch body.outcome {
        case .release: ruling = .release
        case .refund, .returnThenRefund:
            // Without an amount: everything that can still be refunded.
            var amount = body.refundMinor
            if amount == nil { amount = try await services.disputes.dispute(id, by: principal).dispute.refundableMinor }
            let amountMinor = amount ?? 0
            ruling = body.outcome == .refund ? .refund(amountMinor: amountMinor) : .returnThenRefund(amountMinor: amountMinor)
        }
        _ = try await services.disputes.resolve(id, ruling: ruling, reasons: body.reasons, by: principal)
        return .ok(.init(body: .json(try await disputeView(id))))
    }

    func shipDisputeReturn(_ input: Operations.ShipDisputeReturn.Input) async throws -> Operations.ShipDisputeReturn.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        return .ok(.init(body: .json(try await disputeAction(input.path.disputeId) {
            try await $0.shipReturn($1, carrier: body.carrier, trackingNumber: body.trackingNumber, by: $2)
        })))
    }

    /// Runs one dispute action, then reads the dispute back as the caller sees it.
    private func disputeAction(
        _ id: String, _ action: (DisputeService, DisputeID, Principal) async throws -> Dispute
    ) async throws -> Components.Schemas.Dispute {
        let id = DisputeID(id)
        _ = try await action(services.disputes, id, principal)
        return try await disputeView(id)
    }

    private func disputeView(_ id: DisputeID) async throws -> Components.Schemas.Dispute {
        Components.Schemas.Dispute(view: try await services.disputes.dispute(id, by: principal))
    }
}

extension Components.Schemas.Dispute {
    /// A dispute in a list: no evidence, actions or records.
    init(_ dispute: Dispute) {
        self.init(
            id: dispute.id.rawValue, orderId: dispute.orderID.rawValue, buyerId: dispute.buyerID.rawValue, sellerId: dispute.sellerID.rawValue,
            status: .init(rawValue: dispute.status.rawValue)!, reason: .init(rawValue: dispute.reason.rawValue)!,
            remedy: .init(rawValue: dispute.remedy.rawValue)!, requestedMinor: dispute.requestedMinor, refundableMinor: dispute.refundableMinor,
            currency: dispute.currency.code, description: dispute.description, openedAt: dispute.openedAt,
            deadline: dispute.deadline.map {
                .init(kind: .init(rawValue: $0.kind.rawValue)!, party: .init(rawValue: $0.party.rawValue)!, dueAt: $0.dueAt, consequence: $0.consequence)
            },
            offer: dispute.offer.map {
                .init(source: .init(rawValue: $0.source.rawValue)!, refundMinor: $0.refundMinor, note: $0.note,
                      acceptedBy: $0.acceptedBy.map(\.rawValue).sorted().compactMap { .init(rawValue: $0) })
            },
            moderatorId: dispute.moderatorID?.rawValue,
            mediationDueAt: dispute.mediationDueAt,
            returnShipment: dispute.returnShipment.map { .init(carrier: $0.carrier, trackingNumber: $0.trackingNumber) },
            resolution: dispute.resolution.map {
                .init(how: .init(rawValue: $0.how.rawValue)!, refundMinor: $0.refundMinor, reasons: $0.reasons, decidedBy: $0.decidedBy?.rawValue, decidedAt: $0.decidedAt)
            },
            timeline: dispute.timeline.map { .init(at: $0.at, actorId: $0.actor?.rawValue, detail: $0.detail) }
        )
    }

    /// A dispute as its page shows it: with evidence, the caller's actions and, for staff, both records.
    init(view: DisputeView) {
        self.init(view.dispute)
        allowedActions = view.allowedActions
        evidence = view.evidence.map(Components.Schemas.DisputeEvidence.init)
        records = view.records.isEmpty ? nil : view.records.map { record in
            .init(
                userId: record.user.id.rawValue, displayName: record.user.displayName, role: record.role == .seller ? .seller : .buyer,
                opened: Int64(record.disputes.opened), lost: Int64(record.disputes.lost), byAgreement: Int64(record.disputes.byAgreement),
                completedTrades: Int64(record.completedTrades), standing: .init(record.standing.level), points: Int64(record.standing.points)
            )
        }
    }
}

extension Components.Schemas.DisputeEvidence {
    init(_ evidence: DisputeEvidence) {
        self.init(
            id: evidence.id.rawValue, authorId: evidence.authorID.rawValue, role: .init(rawValue: evidence.role.rawValue)!, text: evidence.body,
            attachments: evidence.attachments.map(Components.Schemas.Attachment.init), createdAt: evidence.createdAt
        )
    }
}

extension Components.Schemas.DisputeRecord.StandingPayload {
    init(_ level: AccountStanding.Level) {
        self = Self(rawValue: "\(level)")!
    }
}
