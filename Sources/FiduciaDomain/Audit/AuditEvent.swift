import Foundation

/// One privileged action in the append-only audit log (G3): who did what to which record, when,
/// from where. Each event carries the hash of the one before it, so that editing, removing or
/// reordering any event breaks every hash after it.
public struct AuditEvent: Sendable, Equatable {
    public let sequence: Int
    public let at: Date
    /// A user id, an API client id, or `system`.
    public let actor: String
    /// What was done, e.g. `report.resolve`, `verification.document-view`.
    public let action: String
    /// The record it was done to, e.g. a report id.
    public let subject: String
    public let detail: String
    /// The client address of the request, when a person asked over HTTP.
    public let address: String?
    public let previousHash: String
    public let hash: String

    public init(sequence: Int, at: Date, actor: String, action: String, subject: String, detail: String, address: String?, previousHash: String, hash: String) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
        self.address = address
        self.previousHash = previousHash
        self.hash = hash
    }

    /// What an event's hash covers: its RFC 8785 canonical JSON, the previous hash included.
    public static func hashedBytes(
        sequence: Int, at: Date, actor: String, action: String, subject: String, detail: String, address: String?, previousHash: String
    ) -> [UInt8] {
        var members: [String: JSONValue] = [
            "sequence": .integer(Int64(sequence)), "at": .integer(Int64((at.timeIntervalSince1970 * 1000).rounded())),
            "actor": .string(actor), "action": .string(action), "subject": .string(subject), "detail": .string(detail),
            "previousHash": .string(previousHash),
        ]
        if let address { members["address"] = .string(address) }
        return try! CanonicalJSON.bytes(.object(members))
    }
}

public enum AuditChain {
    /// The hash before the first event.
    public static let genesis = String(repeating: "0", count: 64)

    /// Checks events in sequence order (a contiguous run, starting at `expectedFirst` with the
    /// hash `previousHash`): each must follow the previous one and hash to what it says.
    /// Returns the problems found, empty when the chain holds.
    public static func verify(
        _ events: [AuditEvent], expectedFirst: Int, previousHash: String, digest: ([UInt8]) -> [UInt8]
    ) -> [String] {
        var problems: [String] = []
        var expected = expectedFirst
        var previous = previousHash
        for event in events {
            if event.sequence != expected { problems.append("event \(expected) is missing (the next one is \(event.sequence))") }
            if event.previousHash != previous { problems.append("event \(event.sequence) does not follow the event before it") }
            let computed = Hex.encode(digest(AuditEvent.hashedBytes(
                sequence: event.sequence, at: event.at, actor: event.actor, action: event.action, subject: event.subject,
                detail: event.detail, address: event.address, previousHash: event.previousHash
            )))
            if computed != event.hash { problems.append("event \(event.sequence) was changed after it was written") }
            expected = event.sequence + 1
            previous = event.hash
        }
        return problems
    }
}
