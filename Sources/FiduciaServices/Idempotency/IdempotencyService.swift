import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Makes retried requests safe: the first request with a key runs, later ones get its response.
public struct IdempotencyService: Sendable {
    let store: Store
    let clock: any WallClock
    let settings: ServiceSettings

    public init(store: Store, clock: any WallClock, settings: ServiceSettings) {
        self.store = store
        self.clock = clock
        self.settings = settings
    }

    public func claim(scope: String, key: String, requestHash: String) async throws -> IdempotencyClaim {
        let now = clock.now()
        let lock = settings.idempotencyLockSeconds
        return try await store.write {
            try await $0.idempotency.claim(scope: scope, key: key, requestHash: requestHash, now: now, lockDuration: lock)
        }
    }

    public func complete(scope: String, key: String, response: StoredResponse) async throws {
        try await store.write { try await $0.idempotency.complete(scope: scope, key: key, response: response) }
    }

    public func release(scope: String, key: String) async throws {
        try await store.write { try await $0.idempotency.release(scope: scope, key: key) }
    }
}
