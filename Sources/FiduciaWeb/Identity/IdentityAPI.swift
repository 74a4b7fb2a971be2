import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import OpenAPIRuntime

/// Verifications, invitations, shop origins, seals and the reputation credential (A2–A4, X3).
extension FiduciaAPIHandler {
    func startVerification(_ input: Operations.StartVerification.Input) async throws -> Operations.StartVerification.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let started = try await services.identity.start(
            VerificationLevel(rawValue: body.level.rawValue)!, details: body.details?.additionalProperties ?? [:], by: principal
        )
        return .created(.init(body: .json(.init(verification: .init(started.verification, showDetails: true, now: now), sentTo: started.sentTo))))
    }

    func listVerifications(_ input: Operations.ListVerifications.Input) async throws -> Operations.ListVerifications.Output {
        let queue = try await services.identity.queue(by: principal)
        return .ok(.init(body: .json(.init(items: queue.map { .init($0, showDetails: true, now: now) }))))
    }

    func getMyVerifications(_ input: Operations.GetMyVerifications.Input) async throws -> Operations.GetMyVerifications.Output {
        let mine = try await services.identity.mine(by: principal)
        return .ok(.init(body: .json(.init(items: mine.map { .init($0, showDetails: true, now: now) }))))
    }

    func submitVerificationCode(_ input: Operations.SubmitVerificationCode.Input) async throws -> Operations.SubmitVerificationCode.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let verification = try await services.identity.submitCode(VerificationID(input.path.verificationId), code: body.code, by: principal)
        return .ok(.init(body: .json(.init(verification, showDetails: true, now: now))))
    }

    func uploadVerificationDocument(_ input: Operations.UploadVerificationDocument.Input) async throws -> Operations.UploadVerificationDocument.Output {
        guard case .binary(let body) = input.body else { preconditionFailure("the generated server only accepts octet-stream") }
        let bytes = try await [UInt8](collecting: body, upTo: WebConfiguration.uploadBodyBytes)
        let verification = try await services.identity.uploadDocument(VerificationID(input.path.verificationId), bytes: bytes, by: principal)
        return .ok(.init(body: .json(.init(verification, showDetails: true, now: now))))
    }

    func getVerificationDocument(_ input: Operations.GetVerificationDocument.Input) async throws -> Operations.GetVerificationDocument.Output {
        let document = try await services.identity.document(for: VerificationID(input.path.verificationId), by: principal)
        let body = HTTPBody(document.bytes)
        return switch document.kind {
        case .jpeg: .ok(.init(body: .jpeg(body)))
        case .png: .ok(.init(body: .png(body)))
        case .pdf: .ok(.init(body: .pdf(body)))
        }
    }

    func decideVerification(_ input: Operations.DecideVerification.Input) async throws -> Operations.DecideVerification.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let verification = try await services.identity.decide(
            VerificationID(input.path.verificationId), approve: body.approve, reason: body.reason, by: principal
        )
        return .ok(.init(body: .json(.init(verification, showDetails: true, now: now))))
    }

    func createInvitation(_ input: Operations.CreateInvitation.Input) async throws -> Operations.CreateInvitation.Output {
        let created = try await services.invitations.create(by: principal)
        return .created(.init(body: .json(.init(code: created.code, invitation: .init(created.invitation, now: now)))))
    }

    func listInvitations(_ input: Operations.ListInvitations.Input) async throws -> Operations.ListInvitations.Output {
        let mine = try await services.invitations.mine(by: principal)
        return .ok(.init(body: .json(.init(items: mine.invitations.map { .init($0, now: now) }, remaining: Int64(mine.remaining), reason: mine.reason))))
    }

    func registerShopOrigins(_ input: Operations.RegisterShopOrigins.Input) async throws -> Operations.RegisterShopOrigins.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        return .ok(.init(body: .json(.init(origins: try await services.seals.registerOrigins(body.origins, by: principal)))))
    }

    func issueSeal(_ input: Operations.IssueSeal.Input) async throws -> Operations.IssueSeal.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let seal = try await services.seals.issue(to: UserID(body.merchantId), checks: body.checks, validUntil: body.validUntil, by: principal)
        return .created(.init(headers: .init(location: "/v1/seals/\(seal.id)"), body: .json(.init(try await services.seals.seal(seal.id), now: now))))
    }

    func getSeal(_ input: Operations.GetSeal.Input) async throws -> Operations.GetSeal.Output {
        .ok(.init(body: .json(.init(try await services.seals.seal(SealID(input.path.sealId)), now: now))))
    }

    func revokeSeal(_ input: Operations.RevokeSeal.Input) async throws -> Operations.RevokeSeal.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let seal = try await services.seals.revoke(SealID(input.path.sealId), reason: body.reason, by: principal)
        return .ok(.init(body: .json(.init(try await services.seals.seal(seal.id), now: now))))
    }

    func issueReputationCredential(_ input: Operations.IssueReputationCredential.Input) async throws -> Operations.IssueReputationCredential.Output {
        let credential = try await services.credentials.issue(by: principal)
        let container = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: JSONEncoder().encode(credential))
        return .created(.init(body: .json(.init(additionalProperties: container))))
    }

    private var now: Date { services.clock.now() }
}

extension Components.Schemas.Verification {
    init(_ verification: Verification, showDetails: Bool, now: Date) {
        self.init(
            id: verification.id.rawValue, userId: verification.userID.rawValue, level: .init(rawValue: verification.level.rawValue)!,
            state: .init(rawValue: verification.state(at: now).rawValue)!,
            details: showDetails ? .init(additionalProperties: verification.details) : nil, documentAttached: verification.documentID != nil,
            codeAttempts: Int64(verification.codeAttempts), codeExpiresAt: verification.codeExpiresAt, reason: verification.reason,
            decidedAt: verification.decidedAt, expiresAt: verification.expiresAt, renewalDue: verification.isDueForRenewal(at: now),
            createdAt: verification.createdAt
        )
    }
}

extension Components.Schemas.Invitation {
    init(_ invitation: Invitation, now: Date) {
        self.init(
            hint: invitation.hint, status: .init(rawValue: invitation.status(at: now).rawValue)!, createdAt: invitation.createdAt,
            expiresAt: invitation.expiresAt, usedBy: invitation.usedBy?.rawValue
        )
    }
}

extension Components.Schemas.Seal {
    init(_ shown: SealService.Shown, now: Date) {
        self.init(shown.seal, merchantName: shown.merchantName, certifierName: shown.certifierName, origins: shown.seal.origins, now: now)
    }

    init(_ seal: Seal, merchantName: String, certifierName: String?, origins: [String], now: Date) {
        let document = try? SignedJSON.parse(Data(seal.document.utf8))
        self.init(
            id: seal.id.rawValue, certifierId: seal.certifierID.rawValue,
            certifierName: certifierName ?? document?["issuer"]?["name"]?.stringValue ?? "", merchantId: seal.merchantID.rawValue,
            merchantName: merchantName, checks: seal.checks, origins: origins, issuedAt: seal.issuedAt, validUntil: seal.validUntil,
            status: .init(rawValue: seal.status(at: now).rawValue)!, revokedAt: seal.revokedAt, revocationReason: seal.revocationReason,
            document: seal.document
        )
    }
}
