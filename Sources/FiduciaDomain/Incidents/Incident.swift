import Foundation

public typealias IncidentID = Identifier<Incident>

/// Incident mode: when an administrator suspects a breach (stolen staff credentials, a provider
/// compromised), one switch stops money leaving and new orders starting, signs everyone out, and
/// tells every visitor, until it is switched off. Orders already paid stay protected in escrow.
public struct Incident: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "inc"

    public let id: IncidentID
    /// What the administrator says is happening; shown on every page.
    public let reason: String
    public let startedAt: Date
    public let startedBy: UserID
    public var endedAt: Date?
    public var endedBy: UserID?

    public init(id: IncidentID, reason: String, startedAt: Date, startedBy: UserID, endedAt: Date? = nil, endedBy: UserID? = nil) {
        self.id = id
        self.reason = reason
        self.startedAt = startedAt
        self.startedBy = startedBy
        self.endedAt = endedAt
        self.endedBy = endedBy
    }

    public var isActive: Bool { endedAt == nil }

    public static let reasonLength = 1...500

    public static func checkedReason(_ raw: String) throws(ValidationError) -> String {
        guard raw.unicodeScalars.count <= reasonLength.upperBound else {
            throw ValidationError(field: "reason", "At most \(reasonLength.upperBound) characters.")
        }
        let reason = raw.trimmingWhitespace()
        guard !reason.isEmpty else { throw ValidationError(field: "reason", "Say what is happening, in a sentence people will read on every page.") }
        return reason
    }
}

public enum IncidentError: DomainError, Equatable {
    /// What incident mode refuses: `activity` is "new orders" or "payouts".
    case paused(activity: String, reason: String)
    case alreadyActive
    case notActive

    public var kind: FailureKind {
        switch self {
        case .paused: .unavailable
        case .alreadyActive, .notActive: .conflict
        }
    }

    public var code: String {
        switch self {
        case .paused: "incident-mode"
        case .alreadyActive: "incident-already-active"
        case .notActive: "no-incident"
        }
    }

    public var title: String {
        switch self {
        case .paused: "Paused during an incident"
        case .alreadyActive: "Incident mode is already on"
        case .notActive: "Incident mode is off"
        }
    }

    public var detail: String {
        switch self {
        case .paused(let activity, let reason): "The operators paused \(activity) while they deal with an incident: \(reason) Orders already paid stay safe in escrow."
        case .alreadyActive: "Incident mode is already on; end it before starting another."
        case .notActive: "Incident mode is not on."
        }
    }
}
