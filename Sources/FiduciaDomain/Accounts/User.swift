import Foundation

/// What a user may do on the marketplace. A user can hold several roles.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case buyer
    case seller
    case moderator
    case admin
    case certifier

    /// Roles anyone may give themself at sign-up; the others are granted by an administrator.
    public static let selfService: Set<Role> = [.buyer, .seller]

    /// Staff can see private data and act on other users' records.
    public var isStaff: Bool { self == .admin || self == .moderator }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

public typealias UserID = Identifier<User>

/// A person (or organisation) with an account.
public struct User: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "usr"

    public let id: UserID
    /// Normalised (trimmed, lower-case). Private.
    public var email: String
    public var displayName: String
    public var roles: Set<Role>
    public let createdAt: Date
    /// The API client that created this user, which may act on the user's behalf.
    public let createdByClientID: APIClientID?
    /// The creating marketplace's own id for this user. Private.
    public let externalID: String?
    /// When its owner deleted the account: nothing personal is left, and it cannot act.
    public var deletedAt: Date?

    public init(
        id: UserID,
        email: String,
        displayName: String,
        roles: Set<Role>,
        createdAt: Date,
        createdByClientID: APIClientID? = nil,
        externalID: String? = nil,
        deletedAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.roles = roles
        self.createdAt = createdAt
        self.createdByClientID = createdByClientID
        self.externalID = externalID
        self.deletedAt = deletedAt
    }

    public func has(_ role: Role) -> Bool { roles.contains(role) }

    public var isStaff: Bool { roles.contains(where: \.isStaff) }

    /// Roles in a stable order, for display and storage.
    public var sortedRoles: [Role] { roles.sorted() }
}

public typealias APIClientID = Identifier<APIClient>

/// A marketplace (or other program) that integrates Fiducia through the API with a key.
public struct APIClient: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "cli"

    public let id: APIClientID
    public let name: String
    public let createdAt: Date

    public init(id: APIClientID, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

public typealias SessionID = Identifier<Session>

/// A signed-in session: a browser cookie or a bearer token for the API.
public struct Session: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "ses"

    public enum Kind: String, Sendable, Codable {
        case browser
        case bearer
    }

    public let id: SessionID
    public let userID: UserID
    public let kind: Kind
    public let createdAt: Date
    /// The absolute end of the session, however active it is.
    public let expiresAt: Date
    /// When the session was last seen in use (recorded at most every few minutes); a session idle
    /// for longer than the idle timeout ends.
    public let lastUsedAt: Date

    public init(id: SessionID, userID: UserID, kind: Kind, createdAt: Date, expiresAt: Date, lastUsedAt: Date? = nil) {
        self.id = id
        self.userID = userID
        self.kind = kind
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt ?? createdAt
    }

    public func isExpired(at now: Date) -> Bool { now >= expiresAt }
}
