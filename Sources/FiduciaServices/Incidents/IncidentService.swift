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
        let reason = try Incident.checkedReason(raw)
        let now = clock.now()
        let incident = Incident(id: ids.make(), reason: reason, startedAt: now, startedBy: admin.id)
        var kept: SessionID?
        if case .user(_, let session) = principal { kept = session }
        let keptSession = kept
        let ended = try await store.write { repositories in
            try await repositories.incidents.start(incident)
            let ended = try await repositories.sessions.revokeEveryone(except: keptSession, at: now)
            try await AuditService.record(
                "incident.start", subject: incident.id.rawValue, detail: "\(reason) (payouts and new orders paused; \(ended) sessions ended)",
                by: principal, in: repositories, now: now
            )
            return ended
        }
        cache.state.withLockedValue { $0 = (incident, now) }
        return (incident, ended)
    }

    /// Switches incident mode off.
    public func end(by principal: Principal) async throws -> Incident {
        let admin = try principal.requireRole(.admin)
        let now = clock.now()
        let ended = try await store.write { repositories in
            guard var incident = try await repositories.incidents.active() else { throw IncidentError.notActive }
            try await repositories.incidents.end(incident.id, by: admin.id, at: now)
            try await AuditService.record("incident.end", subject: incident.id.rawValue, detail: "payouts and new orders resumed", by: principal, in: repositories, now: now)
            incident.endedAt = now
            incident.endedBy = admin.id
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
