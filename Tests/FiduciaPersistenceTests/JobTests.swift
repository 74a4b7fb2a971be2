import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// Records which jobs ran, across runners.
actor Executions {
    private(set) var jobs: [String] = []
    func record(_ job: String) { jobs.append(job) }
}

@Suite("Background jobs")
struct JobTests {
    @Test(arguments: TestDatabases.kinds)
    func severalRunnersDoEachDueJobExactlyOnce(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let ids = IdentifierGenerator(clock: clock, random: SystemRandomSource())
            let now = clock.now()
            try await services.store.write { repositories in
                for index in 0..<60 {
                    let due = now.addingTimeInterval(index < 50 ? -1 : 3600)
                    try await repositories.jobs.schedule(Job(id: ids.make(), kind: "test", uniqueKey: "test:\(index)", payload: "\(index)", dueAt: due), now: now)
                }
            }
            let executions = Executions()
            let handler = JobHandler(kind: "test") { job, _, _ in await executions.record(job.payload) }
            let runners = (0..<3).map { _ in
                JobRunner(store: services.store, clock: clock, random: SystemRandomSource(), handlers: [handler], batchSize: 7, logger: TestDatabases.logger)
            }
            let completed = try await withThrowingTaskGroup(of: Int.self) { group in
                for runner in runners { group.addTask { try await runner.runDueJobs() } }
                return try await group.reduce(0, +)
            }
            #expect(completed == 50)
            let ran = await executions.jobs
            #expect(ran.count == 50)
            #expect(Set(ran).count == 50)
            #expect(try await services.store.read { try await $0.jobs.countPending() } == 10)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aJobWhoseServerDiedIsTakenOverAndTheOldLeaseCannotComplete(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let job = Job(id: JobID("job_1"), kind: "test", uniqueKey: "test:1", payload: "{}", dueAt: now)
            try await store.write { try await $0.jobs.schedule(job, now: now) }
            let first = try await store.write { try await $0.jobs.claimDue(now: now, owner: "a", leaseDuration: 30, limit: 10) }
            #expect(first.map(\.id) == [job.id])
            #expect(try await store.write { try await $0.jobs.claimDue(now: now, owner: "b", leaseDuration: 30, limit: 10) }.isEmpty)
            let later = now.addingTimeInterval(31)
            let second = try await store.write { try await $0.jobs.claimDue(now: later, owner: "b", leaseDuration: 30, limit: 10) }
            #expect(second.first?.attempts == 2)
            #expect(try await store.write { try await $0.jobs.complete(job.id, owner: "a", now: later) } == false)
            #expect(try await store.write { try await $0.jobs.complete(job.id, owner: "b", now: later) } == true)
            #expect(try await store.read { try await $0.jobs.find(uniqueKey: "test:1") }?.state == .done)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func reschedulingMovesAPendingJobButNeverRevivesAFinishedOne(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let job = Job(id: JobID("job_1"), kind: "test", uniqueKey: "k", payload: "{}", dueAt: now.addingTimeInterval(100))
            try await store.write { try await $0.jobs.schedule(job, now: now) }
            let moved = Job(id: JobID("job_2"), kind: "test", uniqueKey: "k", payload: "{}", dueAt: now.addingTimeInterval(200))
            try await store.write { try await $0.jobs.schedule(moved, now: now) }
            let found = try await store.read { try await $0.jobs.find(uniqueKey: "k") }
            #expect(found?.job.id == job.id)
            #expect(found?.job.dueAt == now.addingTimeInterval(200))
            try await store.write { try await $0.jobs.cancel(uniqueKey: "k", now: now) }
            try await store.write { try await $0.jobs.schedule(moved, now: now) }
            #expect(try await store.read { try await $0.jobs.find(uniqueKey: "k") }?.state == .cancelled)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func failingJobsAreRetriedWithBackoff(_ kind: TestDatabaseKind) async throws {
        struct Flaky: Error {}
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            try await services.store.write { try await $0.jobs.schedule(Job(id: JobID("job_1"), kind: "flaky", uniqueKey: "f", payload: "{}", dueAt: clock.now()), now: clock.now()) }
            let handler = JobHandler(kind: "flaky") { _, _, _ in throw Flaky() }
            let runner = JobRunner(store: services.store, clock: clock, random: SystemRandomSource(), handlers: [handler], logger: TestDatabases.logger)
            #expect(try await runner.runDueJobs() == 0)
            #expect(try await runner.runDueJobs() == 0)  // not due again yet
            let found = try await services.store.read { try await $0.jobs.find(uniqueKey: "f") }
            #expect(found?.state == .pending)
            #expect(found?.job.attempts == 1)
            #expect(found.map { $0.job.dueAt > clock.now() } == true)
        }
    }
}
