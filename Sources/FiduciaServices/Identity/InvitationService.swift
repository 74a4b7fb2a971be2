import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Invitations (A3): members with a good record hand out a few codes; whoever joins with one is
/// linked to the inviter, who vouches for them (a head start in the credit score, vouching in the
/// trust engine). If an invitee is banned for fraud within a year, the inviter's credibility is cut
/// and they can no longer invite.
public struct InvitationService: Sendable {
    let store: Store
    let clock: any WallClock
    let random: any RandomSource
    /// Whether sign-up needs an invitation code.
    public let inviteOnly: Bool

    static let codePrefix = "inv_"

    /// A code just created; the code itself is shown this once.
    public struct Created: Sendable {
        public let code: String
        public let invitation: Invitation
    }

    /// Creates an invitation code, if the caller's record allows one more.
    public func create(by principal: Principal) async throws -> Created {
        let inviter = try principal.requireUser()
        let now = clock.now()
        let code = Self.codePrefix + SecretToken.base64URL(random.bytes(15))
        let invitation = Invitation(
            codeHash: SecretToken.hash(code), hint: String(code.prefix(8)), inviterID: inviter.id, createdAt: now,
            expiresAt: now.addingTimeInterval(InvitationRules.validitySeconds)
        )
        try await store.write { repositories in
            _ = try await Self.allowance(for: inviter, in: repositories, now: now)
            try await repositories.invitations.insert(invitation)
        }
        return Created(code: code, invitation: invitation)
    }

    /// The caller's invitations and how many more they may create now (0 with the reason when none).
    public func mine(by principal: Principal) async throws -> (invitations: [Invitation], remaining: Int, reason: String?) {
        let inviter = try principal.requireUser()
        let now = clock.now()
        return try await store.read { repositories in
            let invitations = try await repositories.invitations.list(inviter: inviter.id, limit: 100)
            do {
                return (invitations, try await Self.allowance(for: inviter, in: repositories, now: now), nil)
            } catch let error as InvitationError {
                return (invitations, 0, error.detail)
            }
        }
    }

    static func allowance(for inviter: User, in repositories: Repositories, now: Date) async throws -> Int {
        let completed = try await repositories.orders.count(.buyer(inviter.id), status: .completed)
            + (inviter.has(.seller) ? try await repositories.orders.count(.seller(inviter.id), status: .completed) : 0)
        return try InvitationRules.allowance(
            accountAge: now.timeIntervalSince(inviter.createdAt), completedTrades: completed,
            activePenaltyPoints: try await PenaltyService.standing(of: inviter.id, in: repositories, now: now).points,
            fraudulentInvitees: try await repositories.invitations.fraudulentInvitees(of: inviter.id),
            createdLastMonth: try await repositories.invitations.created(inviter: inviter.id, since: now.addingTimeInterval(-30 * 86_400))
        )
    }

    /// Uses a code for a new account, inside the sign-up transaction.
    static func redeem(_ code: String, for user: UserID, in repositories: Repositories, now: Date) async throws {
        let hash = SecretToken.hash(code.trimmingWhitespace())
        guard let invitation = try await repositories.invitations.find(codeHash: hash, lock: true), invitation.status(at: now) == .open,
            try await repositories.invitations.markUsed(codeHash: hash, by: user, at: now)
        else { throw InvitationError.invitationInvalid }
        try await repositories.users.setInviter(user, inviter: invitation.inviterID)
    }

    /// Whether someone in good standing vouches for `user` (their head start in the score): they
    /// joined by invitation, and their inviter has no fraudulent invitee and is not banned.
    static func vouches(for user: UserID, in repositories: Repositories, now: Date) async throws -> Bool {
        guard let inviter = try await repositories.users.inviter(of: user) else { return false }
        guard try await repositories.invitations.fraudulentInvitees(of: inviter) == 0 else { return false }
        return try await PenaltyService.standing(of: inviter, in: repositories, now: now).level < .restricted
    }
}
