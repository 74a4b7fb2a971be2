import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Penalties, the public violation record, appeals and the rulebook (D1, D5).
extension FiduciaAPIHandler {
    func applyPenalty(_ input: Operations.ApplyPenalty.Input) async throws -> Operations.ApplyPenalty.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let penalty = try await services.penalties.apply(
            violation: body.violationCode, to: UserID(input.path.userId), facts: body.facts, orderID: body.orderId.map(OrderID.init), by: principal
        )
        return .created(.init(body: .json(.init(penalty))))
    }

    func listViolations(_ input: Operations.ListViolations.Input) async throws -> Operations.ListViolations.Output {
        let user = try await services.accounts.user(UserID(input.path.userId))
        let penalties = try await services.penalties.violations(of: user.id)
        let standing = try await services.penalties.standing(of: user.id)
        return .ok(.init(body: .json(.init(
            userId: user.id.rawValue, standing: .init(rawValue: "\(standing.level)")!, standingText: standing.words,
            points: Int64(standing.points), until: standing.until, items: penalties.map(Components.Schemas.Penalty.init)
        ))))
    }

    func createAppeal(_ input: Operations.CreateAppeal.Input) async throws -> Operations.CreateAppeal.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let appeal = try await services.penalties.appeal(
            PenaltyID(input.path.penaltyId), statement: body.statement, attachmentIDs: Self.attachmentIDs(body.attachmentIds), by: principal
        )
        return .created(.init(body: .json(.init(appeal))))
    }

    func listAppeals(_ input: Operations.ListAppeals.Input) async throws -> Operations.ListAppeals.Output {
        let pending = try await services.penalties.pendingAppeals(by: principal)
        return .ok(.init(body: .json(.init(items: pending.map { Components.Schemas.Appeal($0.appeal, penalty: $0.penalty) }))))
    }

    func decideAppeal(_ input: Operations.DecideAppeal.Input) async throws -> Operations.DecideAppeal.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let decision: PenaltyService.AppealDecision
        switch body.outcome {
        case .upheld: decision = .uphold
        case .overturned: decision = .overturn
        case .reduced:
            guard let points = body.points else { throw ValidationError(field: "points", "A reduction says how many points the penalty keeps.") }
            decision = .reduce(points: Int(clamping: points))
        }
        let appeal = try await services.penalties.decideAppeal(AppealID(input.path.appealId), decision: decision, reasons: body.reasons, by: principal)
        return .ok(.init(body: .json(.init(appeal))))
    }

    func getPenaltyRulebook(_ input: Operations.GetPenaltyRulebook.Input) async throws -> Operations.GetPenaltyRulebook.Output {
        let (inForce, all) = try await services.penalties.rulebooks()
        return .ok(.init(body: .json(.init(inForce: .init(inForce), versions: all.map(Components.Schemas.RulebookVersion.init)))))
    }

    func proposePenaltyRulebook(_ input: Operations.ProposePenaltyRulebook.Input) async throws -> Operations.ProposePenaltyRulebook.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        // Stored as the JSON text it is read from (pages propose the text itself).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = String(decoding: try encoder.encode(body.rulebook), as: UTF8.self)
        return .created(.init(body: .json(.init(try await services.penalties.proposeRulebook(document, by: principal)))))
    }

    func decidePenaltyRulebook(_ input: Operations.DecidePenaltyRulebook.Input) async throws -> Operations.DecidePenaltyRulebook.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let version = try await services.penalties.decideRulebook(version: Int(clamping: input.path.version), approve: body.approve, by: principal)
        return .ok(.init(body: .json(.init(version))))
    }
}

extension Components.Schemas.StatementOfReasons {
    init(_ reasons: StatementOfReasons) {
        self.init(facts: reasons.facts, rule: reasons.rule, remedy: reasons.remedy, appeal: reasons.appeal)
    }
}

extension Components.Schemas.Penalty {
    init(_ penalty: Penalty) {
        self.init(
            id: penalty.id.rawValue, userId: penalty.userID.rawValue, violationCode: penalty.violationCode, violationName: penalty.violationName,
            points: Int64(penalty.points),
            fine: penalty.fineCurrency.map { .init(amountMinor: penalty.fineMinor, currency: $0.code) },
            fineReturnedMinor: penalty.fineReturnedMinor, rulebookVersion: Int64(penalty.rulebookVersion), reasons: .init(penalty.reasons),
            disputeId: penalty.disputeID?.rawValue, orderId: penalty.orderID?.rawValue, appliedAt: penalty.appliedAt, expiresAt: penalty.expiresAt,
            status: .init(rawValue: penalty.status.rawValue)!
        )
    }
}

extension Components.Schemas.Appeal {
    init(_ appeal: Appeal, penalty: Penalty? = nil) {
        self.init(
            id: appeal.id.rawValue, penaltyId: appeal.penaltyID.rawValue, appellantId: appeal.appellantID.rawValue, statement: appeal.statement,
            attachments: appeal.attachments.map(Components.Schemas.Attachment.init), status: .init(rawValue: appeal.status.rawValue)!,
            createdAt: appeal.createdAt, decidedBy: appeal.decidedBy?.rawValue, decidedAt: appeal.decidedAt, reasons: appeal.reasons,
            reducedPoints: appeal.reducedPoints.map(Int64.init), penalty: penalty.map(Components.Schemas.Penalty.init)
        )
    }
}

extension Components.Schemas.RulebookVersion {
    init(_ version: PenaltyRulebookVersion) {
        self.init(
            version: Int64(version.version), title: version.rulebook.title, status: .init(rawValue: version.status.rawValue)!,
            proposedBy: version.proposedBy?.rawValue, proposedAt: version.proposedAt, decidedBy: version.decidedBy?.rawValue,
            decidedAt: version.decidedAt, document: version.document
        )
    }
}
