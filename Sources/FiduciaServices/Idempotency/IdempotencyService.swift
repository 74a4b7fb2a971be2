import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Makes retried requests safe: the first request with a key runs, later ones get its response.
///
/// The key is claimed in the transaction of the request's first write, and the response stored in
/// the transaction of its last (a `UnitOfWork`, usually one transaction for both): a request that
/// wrote is never committed without its answer, so a crash cannot make a retry run it twice.
public struct IdempotencyService: Sendable {
    let store: Store
    let clock: any WallClock
    let settings: ServiceSettings

    public init(store: Store, clock: any WallClock, settings: ServiceSettings) {
        self.store = store
        self.clock = clock
        self.settings = settings
    }

    /// The unit of work of one keyed request.
    public typealias Unit = UnitOfWork

    /// Another request claimed the key between the lookup and the request's first write.
    public struct ClaimLost: Error {
        public let claim: IdempotencyClaim
    }

    /// What the key already says, read without taking any lock: nil when the request may run.
    public func lookup(scope: String, key: String, requestHash: String) async throws -> IdempotencyClaim? {
        let now = clock.now()
        return try await store.read { try await $0.idempotency.lookup(scope: scope, key: key, requestHash: requestHash, now: now) }
    }

    /// The unit of work a keyed request runs in: its first write claims the key, or throws
    /// `ClaimLost` if another request holds it.
    public func unit(scope: String, key: String, requestHash: String) -> UnitOfWork {
        let clock = clock
        let lock = settings.idempotencyLockSeconds
        return store.unitOfWork { repositories in
            let claim = try await repositories.idempotency.claim(scope: scope, key: key, requestHash: requestHash, now: clock.now(), lockDuration: lock)
            guard claim == .claimed else { throw ClaimLost(claim: claim) }
        }
    }

    /// Runs the request in its unit of work.
    public func run<Result: Sendable>(in unit: UnitOfWork, _ body: () async throws -> Result) async throws -> Result {
        try await store.run(in: unit, body)
    }

    /// Stores the answer with the request's writes and commits them; a request that wrote
    /// nothing stores nothing (a retry runs it again, harmlessly).
    public func complete(_ unit: UnitOfWork, scope: String, key: String, response: StoredResponse) async throws {
        try await unit.finish { try await $0.idempotency.complete(scope: scope, key: key, response: response) }
    }

    /// Keeps the request's writes but frees its key: its answer may be different next time (a
    /// payment still being settled).
    public func commitWithoutAnswer(_ unit: UnitOfWork, scope: String, key: String) async throws {
        try await unit.finish { try await $0.idempotency.release(scope: scope, key: key) }
    }

    /// Undoes the request (a server error) and frees its key.
    public func abandon(_ unit: UnitOfWork, scope: String, key: String) async throws {
        try await unit.abandon { try await $0.idempotency.release(scope: scope, key: key) }
    }
}
