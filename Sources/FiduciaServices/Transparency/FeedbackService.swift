import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Anonymous feedback (F5): anyone may write, nothing identifies them, moderators read it.
public struct FeedbackService: Sendable {
    let store: Store
    let clock: any WallClock
    let random: any RandomSource

    /// Takes a note. The caller is not asked who they are, and nothing about the request is kept.
    public func submit(topic: Feedback.Topic, text: String) async throws -> Feedback {
        let now = clock.now()
        let randomBytes = random.bytes(10)
        return try await store.write { repositories in
            let thisHour = try await repositories.transparency.lockAndCountFeedback(receivedHour: Feedback.hour(of: now))
            let feedback = try Feedback.make(topic: topic, text: text, receivedAt: now, random: randomBytes, receivedThisHour: thisHour)
            try await repositories.transparency.insert(feedback)
            return feedback
        }
    }

    /// The queue: unread first when `unreadOnly`, newest first (moderators and administrators).
    public func queue(unreadOnly: Bool, page: PageRequest, by principal: Principal) async throws -> Page<Feedback> {
        _ = try principal.requireRole(.moderator, .admin)
        let cursor = page.after.map(FeedbackID.init)
        let fetched = try await store.read { try await $0.transparency.feedback(unreadOnly: unreadOnly, after: cursor, limit: page.limit + 1) }
        return Page(fetched: fetched, limit: page.limit, identifier: { $0.id.rawValue })
    }

    /// A moderator marks a note as read; who and when is kept with it.
    public func markRead(_ id: FeedbackID, by principal: Principal) async throws -> Feedback {
        let moderator = try principal.requireRole(.moderator, .admin)
        let now = clock.now()
        return try await store.write { repositories in
            guard var feedback = try await repositories.transparency.findFeedback(id) else { throw FeedbackError.notFound }
            guard feedback.readAt == nil else { throw FeedbackError.alreadyRead }
            try await repositories.transparency.markRead(id, by: moderator.id, at: now)
            feedback.readBy = moderator.id
            feedback.readAt = now
            return feedback
        }
    }
}
