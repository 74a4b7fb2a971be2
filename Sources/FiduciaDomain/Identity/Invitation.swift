import Foundation

/// An invitation code (A3): someone with a good record vouches for a newcomer. The code itself is
/// shown once to its inviter; the database keeps its hash.
public struct Invitation: Sendable, Equatable {
    public let codeHash: String
    /// The first characters of the code, so that an inviter can tell their codes apart.
    public let hint: String
    public let inviterID: UserID
    public let createdAt: Date
    public let expiresAt: Date
    public var usedBy: UserID?
    public var usedAt: Date?

    public init(codeHash: String, hint: String, inviterID: UserID, createdAt: Date, expiresAt: Date, usedBy: UserID? = nil, usedAt: Date? = nil) {
        self.codeHash = codeHash
        self.hint = hint
        self.inviterID = inviterID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedBy = usedBy
        self.usedAt = usedAt
    }

    public enum Status: String, Sendable, Codable { case open, used, expired }

    public func status(at now: Date) -> Status {
        if usedBy != nil { return .used }
        return now < expiresAt ? .open : .expired
    }
}

/// Who may invite, how many, and what vouching costs when it goes wrong.
public enum InvitationRules {
    public static let validitySeconds: TimeInterval = 30 * 86_400
    /// Codes per rolling 30 days for an inviter in good standing.
    public static let codesPerMonth = 5
    /// An account must be this old, with this many completed trades and no active penalty, to invite.
    public static let minimumAccountAgeSeconds: TimeInterval = 30 * 86_400
    public static let minimumCompletedTrades = 3
    /// If an invitee is banned for fraud within this time of joining, the inviter vouched badly.
    public static let vouchingLiabilitySeconds: TimeInterval = 365 * 86_400
    /// Trust the engine gives an inviter's vouch, as a share of the inviter's credibility.
    public static let vouchWeight = 0.5
    /// What an inviter's credibility is multiplied by once someone they invited is banned for fraud.
    public static let fraudulentInviteeCredibilityFactor = 0.5
    /// The violation whose penalty bans for fraud (48 points in rulebook v1: a ban at once).
    public static let fraudViolations: Set<String> = ["fraud"]

    /// How many codes `inviter` may still create now; throws the reason when none.
    public static func allowance(
        accountAge: TimeInterval, completedTrades: Int, activePenaltyPoints: Int, fraudulentInvitees: Int, createdLastMonth: Int
    ) throws(InvitationError) -> Int {
        guard fraudulentInvitees == 0 else { throw .vouchedForFraud }
        guard accountAge >= minimumAccountAgeSeconds, completedTrades >= minimumCompletedTrades, activePenaltyPoints == 0 else {
            throw .recordTooShort
        }
        let left = codesPerMonth - createdLastMonth
        guard left > 0 else { throw .noCodesLeft(perMonth: codesPerMonth) }
        return left
    }
}

/// Named failures of invitations.
public enum InvitationError: DomainError, Equatable {
    case invitationRequired
    case invitationInvalid
    case recordTooShort
    case noCodesLeft(perMonth: Int)
    case vouchedForFraud

    public var kind: FailureKind {
        switch self {
        // Whether sign-up needs an invitation, and which codes are good, is the state of things.
        case .invitationRequired, .invitationInvalid: .unprocessable
        case .recordTooShort, .vouchedForFraud: .forbidden
        case .noCodesLeft: .rateLimited
        }
    }

    public var code: String {
        switch self {
        case .invitationRequired: "invitation-required"
        case .invitationInvalid: "invitation-invalid"
        case .recordTooShort: "invitation-record-too-short"
        case .noCodesLeft: "no-invitations-left"
        case .vouchedForFraud: "invitations-withdrawn"
        }
    }

    public var title: String {
        switch self {
        case .invitationRequired: "Invitation required"
        case .invitationInvalid: "Invitation not valid"
        case .recordTooShort: "Record too short to invite"
        case .noCodesLeft: "No invitation codes left"
        case .vouchedForFraud: "Invitations withdrawn"
        }
    }

    public var detail: String {
        switch self {
        case .invitationRequired: "Sign-up is by invitation only: ask someone with an account for a code."
        case .invitationInvalid: "This invitation code is unknown, used or expired."
        case .recordTooShort:
            "Inviting needs an account at least 30 days old with \(InvitationRules.minimumCompletedTrades) completed trades and no active penalty."
        case .noCodesLeft(let perMonth): "You have created \(perMonth) codes in the last 30 days; more become available as they age."
        case .vouchedForFraud: "Someone you invited was banned for fraud within a year of joining, so you can no longer invite."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .invitationRequired, .invitationInvalid: [FieldError(field: "invitationCode", message: detail)]
        default: []
        }
    }
}
