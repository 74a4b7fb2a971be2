import Foundation

public typealias FriendRequestID = Identifier<FriendRequest>

/// A request from one person to another to become friends (E1). Friendship is mutual: it exists
/// once the other accepts.
public struct FriendRequest: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "frq"

    public enum State: String, Sendable, Codable, CaseIterable {
        case pending, accepted, declined
        /// Withdrawn by the sender, or dropped when one of the two blocked the other.
        case cancelled
    }

    public let id: FriendRequestID
    public let fromID: UserID
    public let toID: UserID
    public var state: State
    public let message: String?
    public let createdAt: Date
    public var answeredAt: Date?

    public init(id: FriendRequestID, fromID: UserID, toID: UserID, state: State, message: String?, createdAt: Date, answeredAt: Date? = nil) {
        self.id = id
        self.fromID = fromID
        self.toID = toID
        self.state = state
        self.message = message
        self.createdAt = createdAt
        self.answeredAt = answeredAt
    }
}

/// What stands between two people, as far as the rules of friendship care.
public struct Relationship: Sendable, Equatable {
    public var friends = false
    /// A pending request from the first person to the second, or the other way.
    public var requestSent = false
    public var requestReceived = false
    /// The first person blocked the second, or the second blocked the first.
    public var blocking = false
    public var blockedBy = false

    public init(friends: Bool = false, requestSent: Bool = false, requestReceived: Bool = false, blocking: Bool = false, blockedBy: Bool = false) {
        self.friends = friends
        self.requestSent = requestSent
        self.requestReceived = requestReceived
        self.blocking = blocking
        self.blockedBy = blockedBy
    }
}

/// The rules of friend requests, friendship and blocking.
public enum FriendRules {
    public static let messageLimit = 280
    /// Requests a person may send in a rolling day: enough for anyone, too few to spam.
    public static let requestsPerDay = 30

    /// Checks that `sender` may ask `recipient` to be friends.
    public static func checkRequest(
        from sender: UserID, to recipient: UserID, relationship: Relationship, message: String?, sentLastDay: Int
    ) throws(SocialError) {
        guard sender != recipient else { throw .notWithYourself }
        if let message, message.codePointCount > messageLimit { throw .messageTooLong(limit: messageLimit) }
        // A blocked person learns nothing about the block: the request is refused like one to
        // a stranger who does not accept requests.
        guard !relationship.blockedBy else { throw .notAccepting }
        guard !relationship.blocking else { throw .youBlocked }
        guard !relationship.friends else { throw .alreadyFriends }
        guard !relationship.requestSent else { throw .requestAlreadySent }
        guard !relationship.requestReceived else { throw .requestWaitingForYou }
        guard sentLastDay < requestsPerDay else { throw .tooManyRequests(perDay: requestsPerDay) }
    }

    /// Checks that `person` may answer `request`, and returns the request answered.
    public static func answer(_ request: FriendRequest, by person: UserID, accept: Bool, at now: Date) throws(SocialError) -> FriendRequest {
        guard request.toID == person else { throw .requestNotFound }
        guard request.state == .pending else { throw .requestAlreadyAnswered }
        var answered = request
        answered.state = accept ? .accepted : .declined
        answered.answeredAt = now
        return answered
    }
}

/// The errors of friends, blocks and trust lists.
public enum SocialError: DomainError, Equatable {
    case notWithYourself
    case messageTooLong(limit: Int)
    case notAccepting
    case youBlocked
    case alreadyFriends
    case requestAlreadySent
    case requestWaitingForYou
    case tooManyRequests(perDay: Int)
    case requestNotFound
    case requestAlreadyAnswered
    case notFriends
    case notATradePartner
    case noteTooLong(limit: Int)
    case notListed
    case listHidden
    case messagesRefused

    public var kind: FailureKind {
        switch self {
        case .messageTooLong, .noteTooLong: .invalidInput
        case .notWithYourself: .unprocessable
        case .notAccepting, .youBlocked, .notATradePartner, .messagesRefused: .forbidden
        case .alreadyFriends, .requestAlreadySent, .requestWaitingForYou, .requestAlreadyAnswered: .conflict
        case .tooManyRequests: .rateLimited
        case .requestNotFound, .notFriends, .notListed, .listHidden: .notFound
        }
    }

    public var code: String {
        switch self {
        case .notWithYourself: "not-with-yourself"
        case .messageTooLong: "message-too-long"
        case .notAccepting: "not-accepting-requests"
        case .youBlocked: "you-blocked-this-person"
        case .alreadyFriends: "already-friends"
        case .requestAlreadySent: "friend-request-already-sent"
        case .requestWaitingForYou: "friend-request-waiting-for-you"
        case .tooManyRequests: "too-many-friend-requests"
        case .requestNotFound: "friend-request-not-found"
        case .requestAlreadyAnswered: "friend-request-already-answered"
        case .notFriends: "not-friends"
        case .notATradePartner: "not-a-trade-partner"
        case .noteTooLong: "note-too-long"
        case .notListed: "not-on-trust-list"
        case .listHidden: "trust-list-not-found"
        case .messagesRefused: "messages-refused"
        }
    }

    public var title: String {
        switch self {
        case .notWithYourself: "Not with yourself"
        case .messageTooLong: "Message too long"
        case .notAccepting: "Not accepting requests"
        case .youBlocked: "You blocked this person"
        case .alreadyFriends: "Already friends"
        case .requestAlreadySent: "Request already sent"
        case .requestWaitingForYou: "A request is waiting for you"
        case .tooManyRequests: "Too many friend requests"
        case .requestNotFound: "Friend request not found"
        case .requestAlreadyAnswered: "Friend request already answered"
        case .notFriends: "Not friends"
        case .notATradePartner: "Not a trade partner"
        case .noteTooLong: "Note too long"
        case .notListed: "Not on your list"
        case .listHidden: "Trust list not found"
        case .messagesRefused: "Messages refused"
        }
    }

    public var detail: String {
        switch self {
        case .notWithYourself: "You cannot do this with your own account."
        case .messageTooLong(let limit): "A friend request's message has at most \(limit) characters."
        case .notAccepting: "This person does not accept friend requests from you."
        case .youBlocked: "You blocked this person; unblock them first."
        case .alreadyFriends: "You are already friends."
        case .requestAlreadySent: "You already asked this person; wait for their answer."
        case .requestWaitingForYou: "This person already asked you: answer their request instead."
        case .tooManyRequests(let perDay): "You can send \(perDay) friend requests a day."
        case .requestNotFound: "There is no such friend request for you."
        case .requestAlreadyAnswered: "This friend request was already answered or withdrawn."
        case .notFriends: "You are not friends with this person."
        case .notATradePartner: "You can list only merchants you completed a trade with."
        case .noteTooLong(let limit): "A note has at most \(limit) characters."
        case .notListed: "This merchant is not on your trust list."
        case .listHidden: "There is no trust list here for you to see."
        case .messagesRefused: "This person does not accept messages from you. The order's own steps and disputes stay open to you."
        }
    }

    public var fieldErrors: [FieldError] {
        switch self {
        case .messageTooLong: [FieldError(field: "message", message: detail)]
        case .noteTooLong: [FieldError(field: "note", message: detail)]
        default: []
        }
    }
}
