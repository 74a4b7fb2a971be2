import AsyncHTTPClient
import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Outbound webhooks (B6): the marketplace registers endpoints and receives signed events for
/// order, dispute, penalty and appeal changes.
///
/// An event is written to the outbox in the same transaction as the change it reports, with one
/// delivery per endpoint that wants it and a job for each delivery; so an event exists exactly when
/// its change does. A delivery job posts the event outside any transaction, then records the
/// outcome; a failure schedules the next attempt with exponential backoff (`WebhookRetry`).
///
/// Each request carries `Fiducia-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
/// under the endpoint's secret, as Stripe signs its events: the receiver recomputes it and refuses
/// old timestamps, which stops replays.
public struct WebhookService: Sendable {
    let store: Store
    let clock: any WallClock
    let random: any RandomSource
    let ids: IdentifierGenerator
    let logger: Logger
    static let deliveryJobKind = "webhook.deliver"
    /// How long a receiver has to answer.
    static let timeout = TimeAmount.seconds(10)

    init(store: Store, clock: any WallClock, random: any RandomSource, logger: Logger) {
        self.store = store
        self.clock = clock
        self.random = random
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.logger = logger
    }

    // MARK: Endpoints

    /// Registers an endpoint (an administrator, or an API client for its marketplace). The secret is
    /// returned here, once.
    public func createEndpoint(url: String, kinds: [String], by principal: Principal) async throws -> WebhookEndpoint {
        let owner = try Self.owner(principal)
        let url = try WebhookEndpoint.validatedURL(url)
        var chosen = Set<OutboundEvent.Kind>()
        for kind in kinds {
            guard let known = OutboundEvent.Kind(rawValue: kind) else {
                throw ValidationError(field: "events", "Unknown event type \(kind); known: \(OutboundEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            chosen.insert(known)
        }
        let endpoint = WebhookEndpoint(
            id: ids.make(), url: url, secret: SecretToken.make(prefix: "whsec_", random: SystemRandomSource()), kinds: chosen,
            createdBy: owner, createdAt: clock.now()
        )
        try await store.write { try await $0.webhooks.insert(endpoint) }
        return endpoint
    }

    /// The registered endpoints (secrets are not shown again).
    public func endpoints(by principal: Principal) async throws -> [WebhookEndpoint] {
        _ = try Self.owner(principal)
        return try await store.read { try await $0.webhooks.endpoints() }
    }

    /// Stops sending to an endpoint.
    public func disableEndpoint(_ id: WebhookEndpointID, by principal: Principal) async throws {
        _ = try Self.owner(principal)
        let now = clock.now()
        try await store.write { repositories in
            guard try await repositories.webhooks.endpoint(id) != nil else { throw NotFoundError(entity: "webhook endpoint", id: id.rawValue) }
            try await repositories.webhooks.disable(id, at: now)
        }
    }

    /// The delivery log, newest first.
    public func deliveries(endpoint: WebhookEndpointID?, limit: Int, by principal: Principal) async throws -> [WebhookDelivery] {
        _ = try Self.owner(principal)
        return try await store.read { try await $0.webhooks.deliveries(endpoint: endpoint, limit: min(max(limit, 1), 200)) }
    }

    /// Who may manage webhooks: administrators and API clients (the marketplace's own backend).
    static func owner(_ principal: Principal) throws -> String {
        if case .apiClient(let client, let actingFor) = principal, actingFor == nil { return "client:\(client.id)" }
        let admin = try principal.requireRole(.admin)
        return "user:\(admin.id)"
    }

    // MARK: Publishing (inside the change's transaction)

    /// Writes `kind` about `subjectID` to the outbox, with a delivery and a job per endpoint that
    /// wants it. Nothing is written when no endpoint listens.
    static func publish<Data: Encodable>(
        _ kind: OutboundEvent.Kind, subjectID: String, data: Data, in repositories: Repositories, now: Date, ids: IdentifierGenerator
    ) async throws {
        let endpoints = try await repositories.webhooks.endpoints().filter { $0.wants(kind) }
        guard !endpoints.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let event = OutboundEvent(id: ids.make(), kind: kind, subjectID: subjectID, data: String(decoding: try encoder.encode(data), as: UTF8.self), createdAt: now)
        try await repositories.webhooks.insert(event)
        for endpoint in endpoints {
            let delivery = WebhookDelivery(id: ids.make(), endpointID: endpoint.id, eventID: event.id, kind: kind, nextAttemptAt: now, createdAt: now)
            try await repositories.webhooks.insert(delivery)
            try await scheduleAttempt(delivery, number: 1, at: now, in: repositories, now: now, ids: ids)
        }
    }

    private static func scheduleAttempt(_ delivery: WebhookDelivery, number: Int, at due: Date, in repositories: Repositories, now: Date, ids: IdentifierGenerator) async throws {
        try await repositories.jobs.schedule(
            Job(id: ids.make(), kind: deliveryJobKind, uniqueKey: "\(deliveryJobKind):\(delivery.id):\(number)", payload: delivery.id.rawValue, dueAt: due),
            now: now
        )
    }

    // MARK: Delivering

    /// The signature header's value for `body` sent at `timestamp`.
    public static func signature(body: String, secret: String, timestamp: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + Hex.encode(mac)
    }

    /// What one attempt learned.
    struct AttemptOutcome: Sendable {
        var statusCode: Int?
        var error: String?
        var skipped = false
        var delivered: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
    }

    var deliveryJob: JobHandler {
        let store = store
        let logger = logger
        let ids = ids
        return JobHandler(kind: Self.deliveryJobKind) { job, now -> AttemptOutcome in
            let id = WebhookDeliveryID(job.payload)
            let found = try await store.read { repositories -> (WebhookDelivery, OutboundEvent, WebhookEndpoint)? in
                guard let delivery = try await repositories.webhooks.delivery(id, lock: false), delivery.status == .pending,
                    let event = try await repositories.webhooks.event(delivery.eventID),
                    let endpoint = try await repositories.webhooks.endpoint(delivery.endpointID)
                else { return nil }
                return (delivery, event, endpoint)
            }
            guard let (_, event, endpoint) = found else { return AttemptOutcome(skipped: true) }
            let body = event.body
            var request = HTTPClientRequest(url: endpoint.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Fiducia-Webhooks/1")
            request.headers.add(name: "Fiducia-Event-Id", value: event.id.rawValue)
            request.headers.add(name: "Fiducia-Event-Type", value: event.kind.rawValue)
            request.headers.add(name: "Fiducia-Signature", value: Self.signature(body: body, secret: endpoint.secret, timestamp: Int64(now.timeIntervalSince1970)))
            request.body = .bytes(ByteBuffer(string: body))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: Self.timeout)
                // The answer's body is not needed; read a little of it so the connection is reusable.
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return AttemptOutcome(statusCode: Int(response.status.code))
            } catch {
                return AttemptOutcome(error: String(describing: error).prefix(300).description)
            }
        } then: { job, outcome, repositories, now in
            guard !outcome.skipped, var delivery = try await repositories.webhooks.delivery(WebhookDeliveryID(job.payload), lock: true),
                delivery.status == .pending
            else { return }
            delivery.attempts += 1
            delivery.lastStatusCode = outcome.statusCode
            delivery.lastError = outcome.delivered ? nil : (outcome.error ?? "HTTP \(outcome.statusCode ?? 0)")
            if outcome.delivered {
                delivery.status = .delivered
                delivery.deliveredAt = now
                delivery.nextAttemptAt = nil
            } else if delivery.attempts >= WebhookRetry.maximumAttempts {
                delivery.status = .failed
                delivery.nextAttemptAt = nil
                logger.warning("webhook delivery gave up", metadata: ["delivery": "\(delivery.id)", "error": "\(delivery.lastError ?? "")"])
            } else {
                let next = now.addingTimeInterval(WebhookRetry.delay(afterAttempt: delivery.attempts))
                delivery.nextAttemptAt = next
                try await Self.scheduleAttempt(delivery, number: delivery.attempts + 1, at: next, in: repositories, now: now, ids: ids)
            }
            try await repositories.webhooks.update(delivery)
        }
    }
}
