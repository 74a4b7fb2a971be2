import Foundation

/// A person's own verdict on merchants they traded with (E2): a list of merchants they confirm
/// trustworthy and a list of merchants they would not trade with again.
public enum TrustListKind: String, Sendable, Codable, CaseIterable {
    case trusted
    case warned
}

/// Who may see one of a person's lists.
public enum ListVisibility: String, Sendable, Codable, CaseIterable {
    /// The owner's friends (the default).
    case friends
    /// Everyone, signed in or not (except people the owner blocked).
    case `public`
    /// The owner alone.
    case `private`
}

/// One merchant on one of a person's lists.
public struct TrustListEntry: Sendable, Equatable {
    public let ownerID: UserID
    public let merchantID: UserID
    public var kind: TrustListKind
    public var note: String?
    public let createdAt: Date
    public var updatedAt: Date

    public init(ownerID: UserID, merchantID: UserID, kind: TrustListKind, note: String?, createdAt: Date, updatedAt: Date) {
        self.ownerID = ownerID
        self.merchantID = merchantID
        self.kind = kind
        self.note = note
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The rules of trust lists.
public enum TrustListRules {
    public static let noteLimit = 280

    /// Checks an entry before it is saved: only a merchant the person completed a trade with may
    /// be listed, so that a list cannot be stuffed with strangers (or with a rival to warn about).
    public static func checkEntry(owner: UserID, merchant: UserID, note: String?, completedTradesWithMerchant: Int) throws(SocialError) {
        guard owner != merchant else { throw .notWithYourself }
        if let note, note.codePointCount > noteLimit { throw .noteTooLong(limit: noteLimit) }
        guard completedTradesWithMerchant > 0 else { throw .notATradePartner }
    }

    /// Whether `viewer` (nil when signed out) may see a list of `owner` shown to `visibility`.
    /// A person the owner blocked sees nothing, whatever the visibility.
    public static func canView(viewer: UserID?, owner: UserID, visibility: ListVisibility, friends: Bool, blockedByOwner: Bool) -> Bool {
        if viewer == owner { return true }
        guard !blockedByOwner else { return false }
        switch visibility {
        case .public: return true
        case .friends: return viewer != nil && friends
        case .private: return false
        }
    }
}
