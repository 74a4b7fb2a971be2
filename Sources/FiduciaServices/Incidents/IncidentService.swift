import FiduciaDomain
import FiduciaPersistence
import Foundation
import NIOConcurrencyHelpers

/// Incident mode: an administrator's switch that stops payouts and new orders, signs every
/// session out, and puts a banner on every page until it is switched off. The switch lives in the
/// database, so every server obeys it; each server remembers it for a couple of seconds at most.
public struct IncidentService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let cache: Cache

    /// How long a server trusts what it last read (the banner; refusals read the database).
    static let cacheSeconds: TimeInterval = 2

    final class Cache: Sendable {
        let state = NIOLockedValueBox<(incident: Incident?, readAt: Date)?>(nil)
    }

    init(store: Store, clock: any WallClock, random: any RandomSource) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.cache = Cache()
    }

    /// The incident in force, if any (for banners: at most `cacheSeconds` old).
    public func current() async throws -> Incident? {
        let now = clock.now()
        if let cached = cache.state.withLockedValue({ $0 }), now.timeIntervalSince(cached.readAt) < Self.cacheSeconds, cached.readAt <= now {
            return cached.incident
        }
        let incident = try await store.read { try await $0.incidents.active() }
        cache.state.withLockedValue { $0 = (incident, now) }
        return incident
    }

    /// Refuses `activity` inside the caller's transaction while an incident is on.
    static func requireNone(_ activity: String, in repositories: Repositories) async throws {
        if let incident = try await repositories.incidents.active() {
            throw IncidentError.paused(activity: activity, reason: incident.reason)
        }
    }

    /// Switches incident mode on: payouts and new orders stop, every session but the
    /// administrator's own ends (so stolen sessions die with the rest), and the banner goes up.
    public func start(reason raw: String, by principal: Principal) async throws -> (incident: Incident, sessionsEnded: Int) {
        let admin = try principal.requireRole(.admin)
        var kept: SessionID?
        if case .user(_, let session) = principal { kept = session }
        return try await start(reason: raw, admin: admin.id, keeping: kept, actor: admin.id.rawValue, how: "")
    }

    /// Switches incident mode off.
    public func end(by principal: Principal) async throws -> Incident {
        let admin = try principal.requireRole(.admin)
        return try await end(admin: admin.id, actor: admin.id.rawValue, how: "")
    }

    /// The same switches for an operator at the command line (`fiducia incident`), who may have
    /// no way to sign in when it matters (an administrator's credentials stolen, the site down).
    /// They act in the name of an administrator account, named by e-mail, which the records
    /// show as the one who switched; the audit log shows the operator, and which account.
    /// Every session ends, none is kept.
    public func startFromCommandLine(reason raw: String, administratorEmail: String) async throws -> (incident: Incident, sessionsEnded: Int) {
        let admin = try await administrator(administratorEmail)
        return try await start(reason: raw, admin: admin, keeping: nil, actor: "operator", how: " (at the command line, as \(admin))")
    }

    public func endFromCommandLine(administratorEmail: String) async throws -> Incident {
        let admin = try await administrator(administratorEmail)
        return try await end(admin: admin, actor: "operator", how: " (at the command line, as \(admin))")
    }

    private func administrator(_ email: String) async throws -> UserID {
        let found = try await store.read { try await $0.users.findCredentials(email: AccountRules.normalizeEmail(email)) }
        guard let user = found?.user, user.has(.admin) else {
            throw ValidationError(field: "admin", "No administrator account has the e-mail address \(email).")
        }
        return user.id
    }

    private func start(reason raw: String, admin: UserID, keeping kept: SessionID?, actor: String, how: String) async throws -> (incident: Incident, sessionsEnded: Int) {
        let reason = try Incident.checkedReason(raw)
        let now = clock.now()
        let incident = Incident(id: ids.make(), reason: reason, startedAt: now, startedBy: admin)
        let ended = try await store.write { repositories in
            try await repositories.incidents.start(incident)
            let ended = try await repositories.sessions.revokeEveryone(except: kept, at: now)
            try await AuditService.record(
                "incident.start", subject: incident.id.rawValue, detail: "\(reason) (payouts and new orders paused; \(ended) sessions ended)\(how)",
                actor: actor, in: repositories, now: now
            )
            return ended
        }
        cache.state.withLockedValue { $0 = (incident, now) }
        return (incident, ended)
    }

    private func end(admin: UserID, actor: String, how: String) async throws -> Incident {
        let now = clock.now()
        let ended = try await store.write { repositories in
            guard var incident = try await repositories.incidents.active() else { throw IncidentError.notActive }
            try await repositories.incidents.end(incident.id, by: admin, at: now)
            try await AuditService.record(
                "incident.end", subject: incident.id.rawValue, detail: "payouts and new orders resumed\(how)", actor: actor, in: repositories, now: now
            )
            incident.endedAt = now
            incident.endedBy = admin
            return incident
        }
        cache.state.withLockedValue { $0 = (nil, now) }
        return ended
    }

    /// The last incidents, newest first (administrators).
    public func history(by principal: Principal) async throws -> [Incident] {
        _ = try principal.requireRole(.admin)
        return try await store.read { try await $0.incidents.recent(limit: 20) }
    }
}
