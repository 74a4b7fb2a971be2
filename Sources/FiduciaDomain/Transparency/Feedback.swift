import Foundation

public typealias FeedbackID = Identifier<Feedback>

/// A note anyone may leave about the marketplace without an account (F5). Nothing that could name
/// the sender is kept: no account, no address, and the time only to the hour (an exact time could
/// be matched against a web server's access log). Moderators read the notes in a queue.
public struct Feedback: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "fbk"

    public enum Topic: String, Sendable, Codable, CaseIterable {
        case general, safety, fraud, moderation, privacy, accessibility
    }

    public let id: FeedbackID
    public let topic: Topic
    public let text: String
    /// The start of the hour it arrived in.
    public let receivedHour: Date
    public var readBy: UserID?
    public var readAt: Date?

    public init(id: FeedbackID, topic: Topic, text: String, receivedHour: Date, readBy: UserID? = nil, readAt: Date? = nil) {
        self.id = id
        self.topic = topic
        self.text = text
        self.receivedHour = receivedHour
        self.readBy = readBy
        self.readAt = readAt
    }

    public static let textLength = 1...4_000
    /// However many servers and senders, the instance accepts at most this many notes an hour: a
    /// flood cannot bury the queue, and no sender needs to be told apart to enforce it.
    public static let perHour = 200

    /// The hour `date` falls in: the only time kept with a note.
    public static func hour(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3_600).rounded(.down) * 3_600)
    }

    /// A new note, checked: its text as sent within the limit, something besides spaces.
    public static func make(topic: Topic, text raw: String, receivedAt now: Date, random: [UInt8], receivedThisHour: Int) throws -> Feedback {
        let text = try CommunityRules.trimmed(raw, within: textLength, field: "text")
        guard !text.isEmpty else { throw ValidationError(field: "text", "Write something (up to \(textLength.upperBound) characters).") }
        guard receivedThisHour < perHour else { throw FeedbackError.busy }
        let hour = hour(of: now)
        // The identifier's time part is the hour too, so it says no more than the note's hour.
        let id = FeedbackID(IdentifierFormat.make(prefix: identifierPrefix, milliseconds: Int64(hour.timeIntervalSince1970 * 1_000), random: random))
        return Feedback(id: id, topic: topic, text: text, receivedHour: hour)
    }
}

public enum FeedbackError: DomainError, Equatable {
    case busy
    case notFound
    case alreadyRead

    public var kind: FailureKind {
        switch self {
        case .busy: .rateLimited
        case .notFound: .notFound
        case .alreadyRead: .conflict
        }
    }

    public var code: String {
        switch self {
        case .busy: "feedback-busy"
        case .notFound: "not-found"
        case .alreadyRead: "feedback-already-read"
        }
    }

    public var title: String {
        switch self {
        case .busy: "Too much feedback this hour"
        case .notFound: "Not found"
        case .alreadyRead: "Already read"
        }
    }

    public var detail: String {
        switch self {
        case .busy: "The instance takes at most \(Feedback.perHour) notes an hour from everyone together. Please try again in an hour."
        case .notFound: "No such feedback."
        case .alreadyRead: "A moderator has already marked this feedback as read."
        }
    }
}
