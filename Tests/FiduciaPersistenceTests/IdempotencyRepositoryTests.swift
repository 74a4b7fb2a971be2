import FiduciaDomain
import FiduciaPersistence
import FiduciaTestSupport
import Foundation
import Testing

@Suite("Idempotency keys")
struct IdempotencyRepositoryTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: TestDatabases.kinds)
    func claimCompleteReplayAndMismatch(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let now = now
            func claim(_ hash: String, at time: Date) async throws -> IdempotencyClaim {
                try await store.write { try await $0.idempotency.claim(scope: "user:1", key: "k1", requestHash: hash, now: time, lockDuration: 60) }
            }
            #expect(try await claim("h1", at: now) == .claimed)
            #expect(try await claim("h1", at: now) == .inProgress)
            #expect(try await claim("h2", at: now) == .requestMismatch)
            let response = StoredResponse(status: 201, headers: ["content-type": "application/json"], body: Array(#"{"id":"x"}"#.utf8))
            try await store.write { try await $0.idempotency.complete(scope: "user:1", key: "k1", response: response) }
            #expect(try await claim("h1", at: now) == .replay(response))
            // Another caller may use the same key for its own request.
            let other = try await store.write { try await $0.idempotency.claim(scope: "user:2", key: "k1", requestHash: "h9", now: now, lockDuration: 60) }
            #expect(other == .claimed)
            #expect(try await store.write { try await $0.idempotency.purge(createdBefore: now.addingTimeInterval(1)) } == 2)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aClaimWhoseServerDiedCanBeTakenOver(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let now = now
            #expect(try await store.write { try await $0.idempotency.claim(scope: "s", key: "k", requestHash: "h", now: now, lockDuration: 60) } == .claimed)
            let later = now.addingTimeInterval(61)
            #expect(try await store.write { try await $0.idempotency.claim(scope: "s", key: "k", requestHash: "h", now: later, lockDuration: 60) } == .claimed)
            #expect(try await store.write { try await $0.idempotency.claim(scope: "s", key: "k", requestHash: "h", now: later, lockDuration: 60) } == .inProgress)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func concurrentClaimsOfOneKeyHaveOneWinner(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let now = now
            let results = try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.write { try await $0.idempotency.claim(scope: "s", key: "race", requestHash: "h", now: now, lockDuration: 60) }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 == .claimed }.count == 1)
            #expect(results.filter { $0 == .inProgress }.count == 19)
        }
    }
}
