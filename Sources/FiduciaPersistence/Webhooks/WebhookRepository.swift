import FiduciaDomain
import Foundation
import SQLKit

/// Outbound webhooks: endpoints, the outbox of events, and the delivery log.
public protocol WebhookRepository: Sendable {
    func insert(_ endpoint: WebhookEndpoint) async throws
    /// Endpoints that still receive events, oldest first.
    func endpoints() async throws -> [WebhookEndpoint]
    func endpoint(_ id: WebhookEndpointID) async throws -> WebhookEndpoint?
    func disable(_ id: WebhookEndpointID, at: Date) async throws

    func insert(_ event: OutboundEvent) async throws
    func event(_ id: OutboundEventID) async throws -> OutboundEvent?

    func insert(_ delivery: WebhookDelivery) async throws
    func delivery(_ id: WebhookDeliveryID, lock: Bool) async throws -> WebhookDelivery?
    func update(_ delivery: WebhookDelivery) async throws
    /// The delivery log, newest first, optionally of one endpoint.
    func deliveries(endpoint: WebhookEndpointID?, limit: Int) async throws -> [WebhookDelivery]
}

struct SQLWebhookRepository: WebhookRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let endpointColumns = "id, url, secret, kinds, created_by, created_at"

    func insert(_ endpoint: WebhookEndpoint) async throws {
        try await sql.raw("""
            INSERT INTO webhook_endpoints (\(unsafeRaw: Self.endpointColumns), disabled_at) VALUES (\(bind: endpoint.id.rawValue), \(bind: endpoint.url),
                \(bind: endpoint.secret), \(bind: endpoint.kinds.map(\.rawValue).sorted().joined(separator: ",")), \(bind: endpoint.createdBy),
                \(bind: endpoint.createdAt.millisecondsSince1970), NULL)
            """).run()
    }

    func endpoints() async throws -> [WebhookEndpoint] {
        try await sql.raw("SELECT \(unsafeRaw: Self.endpointColumns) FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY created_at, id")
            .all().map(Self.endpoint)
    }

    func endpoint(_ id: WebhookEndpointID) async throws -> WebhookEndpoint? {
        try await sql.raw("SELECT \(unsafeRaw: Self.endpointColumns) FROM webhook_endpoints WHERE id = \(bind: id.rawValue) AND disabled_at IS NULL")
            .first().map(Self.endpoint)
    }

    func disable(_ id: WebhookEndpointID, at: Date) async throws {
        try await sql.raw("UPDATE webhook_endpoints SET disabled_at = \(bind: at.millisecondsSince1970) WHERE id = \(bind: id.rawValue) AND disabled_at IS NULL").run()
    }

    static func endpoint(_ row: any SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: WebhookEndpointID(try row.string("id")), url: try row.string("url"), secret: try row.string("secret"),
            kinds: Set(try row.string("kinds").split(separator: ",").compactMap { OutboundEvent.Kind(rawValue: String($0)) }),
            createdBy: try row.string("created_by"), createdAt: try row.date("created_at")
        )
    }

    func insert(_ event: OutboundEvent) async throws {
        try await sql.raw("""
            INSERT INTO outbound_events (id, kind, subject_id, data, created_at) VALUES (\(bind: event.id.rawValue), \(bind: event.kind.rawValue),
                \(bind: event.subjectID), \(bind: event.data), \(bind: event.createdAt.millisecondsSince1970))
            """).run()
    }

    func event(_ id: OutboundEventID) async throws -> OutboundEvent? {
        try await sql.raw("SELECT id, kind, subject_id, data, created_at FROM outbound_events WHERE id = \(bind: id.rawValue)").first().map { row in
            OutboundEvent(
                id: OutboundEventID(try row.string("id")), kind: OutboundEvent.Kind(rawValue: try row.string("kind")) ?? .orderChanged,
                subjectID: try row.string("subject_id"), data: try row.string("data"), createdAt: try row.date("created_at")
            )
        }
    }

    static let deliveryColumns = "id, endpoint_id, event_id, kind, status, attempts, last_status_code, last_error, next_attempt_at, delivered_at, created_at"

    func insert(_ delivery: WebhookDelivery) async throws {
        try await sql.raw("""
            INSERT INTO webhook_deliveries (\(unsafeRaw: Self.deliveryColumns)) VALUES (\(bind: delivery.id.rawValue), \(bind: delivery.endpointID.rawValue),
                \(bind: delivery.eventID.rawValue), \(bind: delivery.kind.rawValue), \(bind: delivery.status.rawValue), \(bind: delivery.attempts),
                \(bind: delivery.lastStatusCode), \(bind: delivery.lastError), \(bind: delivery.nextAttemptAt?.millisecondsSince1970),
                \(bind: delivery.deliveredAt?.millisecondsSince1970), \(bind: delivery.createdAt.millisecondsSince1970))
            """).run()
    }

    func delivery(_ id: WebhookDeliveryID, lock: Bool) async throws -> WebhookDelivery? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.deliveryColumns) FROM webhook_deliveries WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")
            """).first().map(Self.delivery)
    }

    func update(_ delivery: WebhookDelivery) async throws {
        try await sql.raw("""
            UPDATE webhook_deliveries SET status = \(bind: delivery.status.rawValue), attempts = \(bind: delivery.attempts),
                last_status_code = \(bind: delivery.lastStatusCode), last_error = \(bind: delivery.lastError),
                next_attempt_at = \(bind: delivery.nextAttemptAt?.millisecondsSince1970), delivered_at = \(bind: delivery.deliveredAt?.millisecondsSince1970)
            WHERE id = \(bind: delivery.id.rawValue)
            """).run()
    }

    func deliveries(endpoint: WebhookEndpointID?, limit: Int) async throws -> [WebhookDelivery] {
        let query: SQLQueryString =
            if let endpoint {
                "SELECT \(unsafeRaw: Self.deliveryColumns) FROM webhook_deliveries WHERE endpoint_id = \(bind: endpoint.rawValue) ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            } else {
                "SELECT \(unsafeRaw: Self.deliveryColumns) FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            }
        return try await sql.raw(query).all().map(Self.delivery)
    }

    static func delivery(_ row: any SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: WebhookDeliveryID(try row.string("id")), endpointID: WebhookEndpointID(try row.string("endpoint_id")),
            eventID: OutboundEventID(try row.string("event_id")), kind: OutboundEvent.Kind(rawValue: try row.string("kind")) ?? .orderChanged,
            status: WebhookDelivery.Status(rawValue: try row.string("status")) ?? .pending, attempts: try row.int("attempts"),
            lastStatusCode: try row.optionalInt64("last_status_code").map(Int.init), lastError: try row.optionalString("last_error"),
            nextAttemptAt: try row.optionalDate("next_attempt_at"), deliveredAt: try row.optionalDate("delivered_at"), createdAt: try row.date("created_at")
        )
    }
}
