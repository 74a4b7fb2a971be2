import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Outbound webhooks: the marketplace's endpoints and their delivery log (B6).
extension FiduciaAPIHandler {
    func createWebhookEndpoint(_ input: Operations.CreateWebhookEndpoint.Input) async throws -> Operations.CreateWebhookEndpoint.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let endpoint = try await services.webhooks.createEndpoint(url: body.url, kinds: (body.events ?? []).map(\.rawValue), by: principal)
        return .created(.init(body: .json(.init(endpoint, showSecret: true))))
    }

    func listWebhookDeliveries(_ input: Operations.ListWebhookDeliveries.Input) async throws -> Operations.ListWebhookDeliveries.Output {
        let page = try PageRequest(limit: input.query.limit.map { Int(clamping: $0) })
        let deliveries = try await services.webhooks.deliveries(
            endpoint: input.query.endpointId.map(WebhookEndpointID.init), limit: page.limit, by: principal
        )
        return .ok(.init(body: .json(.init(items: deliveries.map { delivery in
            .init(
                id: delivery.id.rawValue, endpointId: delivery.endpointID.rawValue, eventId: delivery.eventID.rawValue, _type: delivery.kind.rawValue,
                status: .init(rawValue: delivery.status.rawValue)!, attempts: Int64(delivery.attempts), lastStatusCode: delivery.lastStatusCode.map(Int64.init),
                lastError: delivery.lastError, nextAttemptAt: delivery.nextAttemptAt, deliveredAt: delivery.deliveredAt, createdAt: delivery.createdAt
            )
        }))))
    }
}

extension Components.Schemas.WebhookEndpoint {
    init(_ endpoint: WebhookEndpoint, showSecret: Bool) {
        self.init(
            id: endpoint.id.rawValue, url: endpoint.url, events: OutboundEvent.Kind.allCases.filter(endpoint.wants).map(\.rawValue),
            secret: showSecret ? endpoint.secret : nil, createdAt: endpoint.createdAt
        )
    }
}
