import Foundation

public typealias WebhookEndpointID = Identifier<WebhookEndpoint>
public typealias OutboundEventID = Identifier<OutboundEvent>
public typealias WebhookDeliveryID = Identifier<WebhookDelivery>

/// Something that happened which the marketplace may want to hear about (B6), written in the same
/// transaction as the change itself (the outbox), then delivered to every endpoint that asked.
public struct OutboundEvent: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "evt"

    /// The kinds of event, as `type` strings.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case orderChanged = "order.changed"
        case disputeChanged = "dispute.changed"
        case penaltyApplied = "penalty.applied"
        case appealDecided = "appeal.decided"
    }

    public let id: OutboundEventID
    public let kind: Kind
    /// The id of what changed (an order, a dispute, a penalty, an appeal).
    public let subjectID: String
    /// The JSON document the endpoint receives as `data`.
    public let data: String
    public let createdAt: Date

    public init(id: OutboundEventID, kind: Kind, subjectID: String, data: String, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.subjectID = subjectID
        self.data = data
        self.createdAt = createdAt
    }

    /// The body posted to endpoints: `{"id":…,"type":…,"created":<unix seconds>,"data":{…}}`.
    public var body: String {
        #"{"created":\#(Int64(createdAt.timeIntervalSince1970)),"data":\#(data),"id":"\#(id)","type":"\#(kind.rawValue)"}"#
    }
}

/// A marketplace's URL that receives events.
public struct WebhookEndpoint: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "whe"

    public let id: WebhookEndpointID
    public let url: String
    /// The HMAC key of the signatures; shown once, when the endpoint is created.
    public let secret: String
    /// The kinds it receives (all when empty).
    public let kinds: Set<OutboundEvent.Kind>
    /// Who registered it: `user:<id>` (an administrator) or `client:<id>` (an API client).
    public let createdBy: String
    public let createdAt: Date

    public init(id: WebhookEndpointID, url: String, secret: String, kinds: Set<OutboundEvent.Kind>, createdBy: String, createdAt: Date) {
        self.id = id
        self.url = url
        self.secret = secret
        self.kinds = kinds
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    public func wants(_ kind: OutboundEvent.Kind) -> Bool { kinds.isEmpty || kinds.contains(kind) }

    /// The shape the API document gives a webhook URL: http(s), a host name, perhaps a port, a
    /// path and a query of plain URL characters.
    nonisolated(unsafe) static let urlShape =
        #/[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[A-Za-z0-9._~!$&()*+,;=:@\/-]*)?([?][A-Za-z0-9._~!$&()*+,;=:@\/?-]*)?/#

    /// An http(s) URL of a reasonable length.
    public static func validatedURL(_ text: String) throws(ValidationError) -> String {
        let url = text.trimmingWhitespace()
        guard (8...500).contains(url.codePointCount), url.wholeMatch(of: urlShape) != nil, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "https" || scheme == "http", parsed.host?.isEmpty == false
        else { throw ValidationError(field: "url", "Give an http or https URL of at most 500 characters.") }
        return url
    }
}

/// One event's delivery to one endpoint, with its attempts.
public struct WebhookDelivery: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "whd"

    public enum Status: String, Sendable, Codable { case pending, delivered, failed }

    public let id: WebhookDeliveryID
    public let endpointID: WebhookEndpointID
    public let eventID: OutboundEventID
    public let kind: OutboundEvent.Kind
    public var status: Status
    public var attempts: Int
    public var lastStatusCode: Int?
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var deliveredAt: Date?
    public let createdAt: Date

    public init(id: WebhookDeliveryID, endpointID: WebhookEndpointID, eventID: OutboundEventID, kind: OutboundEvent.Kind, status: Status = .pending,
                attempts: Int = 0, lastStatusCode: Int? = nil, lastError: String? = nil, nextAttemptAt: Date? = nil, deliveredAt: Date? = nil, createdAt: Date) {
        self.id = id
        self.endpointID = endpointID
        self.eventID = eventID
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.createdAt = createdAt
    }
}

/// Retries with exponential backoff, for about three days (as Stripe retries its webhooks).
public enum WebhookRetry {
    public static let maximumAttempts = 12

    /// The wait before attempt `attempt + 1` after `attempt` failed: 30 s, 1 min, 2 min, … capped
    /// at 12 hours.
    public static func delay(afterAttempt attempt: Int) -> TimeInterval {
        min(12 * 3_600, 30 * pow(2, Double(max(0, attempt - 1))))
    }
}
