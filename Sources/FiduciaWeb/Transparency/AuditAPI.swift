import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// The audit log of privileged actions (G3), for administrators.
extension FiduciaAPIHandler {
    func getAuditHead(_ input: Operations.GetAuditHead.Input) async throws -> Operations.GetAuditHead.Output {
        let head = try await services.audit.signedHead()
        return .ok(.init(body: .json(.init(
            sequence: Int64(head.sequence), hash: head.hash, at: head.atMilliseconds, signature: head.signature,
            publicKey: head.publicKey
        ))))
    }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let events = try await services.audit.events(page: page, by: principal)
        return .ok(.init(body: .json(.init(
            items: events.items.map { event in
                .init(
                    sequence: Int64(event.sequence), at: event.at, actor: event.actor, action: event.action, subject: event.subject,
                    detail: event.detail, address: event.address, previousHash: event.previousHash, hash: event.hash
                )
            },
            nextCursor: events.nextCursor
        ))))
    }
}
