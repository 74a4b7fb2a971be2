import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging
import ServiceLifecycle

/// Runs one kind of job inside the transaction that also marks the job done. Handlers must be
/// idempotent: if there is nothing left to do (the order was already completed by hand), they
/// return normally.
///
/// A job that talks to the outside world (a payment provider) does that first, outside any
/// transaction, with an idempotency key so that a retry after a crash asks again harmlessly;
/// then it records what it learned in the transaction that completes the job. This is the
/// outbox pattern: the request that needed the call wrote the job in its own transaction.
public struct JobHandler: Sendable {
    public let kind: String
    /// Does the outside work, then returns the transactional step.
    let start: @Sendable (Job, Date) async throws -> @Sendable (Repositories) async throws -> Void

    public init(kind: String, run: @escaping @Sendable (Job, Repositories, Date) async throws -> Void) {
        self.kind = kind
        self.start = { job, now in { repositories in try await run(job, repositories, now) } }
    }

    /// A job with a step outside the transaction (`outside`), whose result `then` records.
    public init<Outcome: Sendable>(
        kind: String,
        outside: @escaping @Sendable (Job, Date) async throws -> Outcome,
        then record: @escaping @Sendable (Job, Outcome, Repositories, Date) async throws -> Void
    ) {
        self.kind = kind
        self.start = { job, now in
            let outcome = try await outside(job, now)
            return { repositories in try await record(job, outcome, repositories, now) }
        }
    }
}

/// Work that recurs on a calendar (housekeeping, monthly commendations): each period gets one job,
/// whose unique key names the period, so however many servers run, each period's job exists once.
public struct RecurringJob: Sendable {
    public let kind: String
    /// The unique key, due time and payload of the job for the period containing `now`.
    public let occurrence: @Sendable (Date) -> (uniqueKey: String, dueAt: Date, payload: String)

    public init(kind: String, occurrence: @escaping @Sendable (Date) -> (uniqueKey: String, dueAt: Date, payload: String)) {
        self.kind = kind
        self.occurrence = occurrence
    }
}

/// The background worker every `fiducia serve` runs. Jobs live in the database; each server leases
/// due jobs, so a job is done by exactly one server, and a job whose server died is picked up
/// again when its lease expires.
public final class JobRunner: Service, Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let owner: String
    let handlers: [String: JobHandler]
    let recurring: [RecurringJob]
    let pollIntervalSeconds: TimeInterval
    let leaseDurationSeconds: TimeInterval
    let batchSize: Int
    let maximumAttempts: Int
    let logger: Logger

    public init(
        store: Store,
        clock: any WallClock,
        random: any RandomSource,
        handlers: [JobHandler],
        recurring: [RecurringJob] = [],
        pollIntervalSeconds: TimeInterval = 1,
        leaseDurationSeconds: TimeInterval = 60,
        batchSize: Int = 50,
        maximumAttempts: Int = 10,
        logger: Logger
    ) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.owner = "runner-" + SecretToken.base64URL(random.bytes(9))
        self.handlers = Dictionary(uniqueKeysWithValues: handlers.map { ($0.kind, $0) })
        self.recurring = recurring
        self.pollIntervalSeconds = pollIntervalSeconds
        self.leaseDurationSeconds = leaseDurationSeconds
        self.batchSize = batchSize
        self.maximumAttempts = maximumAttempts
        self.logger = logger
    }

    public func run() async throws {
        logger.info("job runner started", metadata: ["owner": "\(owner)"])
        // On shutdown the pass in progress finishes (each job is one transaction), then the loop ends.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.runDueJobs()
                } catch {
                    self.logger.error("job runner pass failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: .milliseconds(Int(self.pollIntervalSeconds * 1000)))
            }
        }
        logger.info("job runner stopped", metadata: ["owner": "\(owner)"])
    }

    /// One pass: makes sure the current period's recurring jobs exist, then runs every due job.
    /// Returns how many jobs completed.
    @discardableResult
    public func runDueJobs() async throws -> Int {
        let now = clock.now()
        if !recurring.isEmpty {
            let jobs = recurring.map { recurring -> Job in
                let occurrence = recurring.occurrence(now)
                return Job(id: ids.make(), kind: recurring.kind, uniqueKey: occurrence.uniqueKey, payload: occurrence.payload, dueAt: occurrence.dueAt)
            }
            try await store.write { repositories in
                for job in jobs where try await repositories.jobs.find(uniqueKey: job.uniqueKey) == nil {
                    try await repositories.jobs.schedule(job, now: now)
                }
            }
        }
        var completed = 0
        while true {
            let owner = owner
            let leaseDuration = leaseDurationSeconds
            let batchSize = batchSize
            let claimed = try await store.write {
                try await $0.jobs.claimDue(now: now, owner: owner, leaseDuration: leaseDuration, limit: batchSize)
            }
            for job in claimed where await execute(job, now: now) {
                completed += 1
            }
            if claimed.count < batchSize { return completed }
        }
    }

    private func execute(_ job: Job, now: Date) async -> Bool {
        let owner = owner
        guard let handler = handlers[job.kind] else {
            logger.error("no handler for job kind", metadata: ["kind": "\(job.kind)", "job": "\(job.id)"])
            try? await store.write { try await $0.jobs.fail(job.id, owner: owner, error: "no handler for \(job.kind)", retryAt: nil, now: now) }
            return false
        }
        do {
            let step = try await handler.start(job, now)
            try await store.write { repositories in
                try await step(repositories)
                guard try await repositories.jobs.complete(job.id, owner: owner, now: now) else { throw JobLeaseLost() }
            }
            logger.debug("job done", metadata: ["kind": "\(job.kind)", "job": "\(job.id)"])
            return true
        } catch is JobLeaseLost {
            logger.warning("job lease lost; another server took it over", metadata: ["job": "\(job.id)"])
            return false
        } catch let deferred as JobDeferred {
            // Not a failure: the job waits, and the wait does not use up its attempts.
            try? await store.write {
                try await $0.jobs.postpone(job.id, owner: owner, until: now.addingTimeInterval(deferred.seconds), reason: deferred.reason)
            }
            return false
        } catch {
            let retryAt: Date? =
                job.attempts >= maximumAttempts ? nil : now.addingTimeInterval(min(3600, 15 * pow(2, Double(job.attempts))))
            logger.error(
                "job failed",
                metadata: ["kind": "\(job.kind)", "job": "\(job.id)", "attempt": "\(job.attempts)", "error": "\(String(reflecting: error))"]
            )
            try? await store.write {
                try await $0.jobs.fail(job.id, owner: owner, error: String(describing: error), retryAt: retryAt, now: now)
            }
            return false
        }
    }
}

/// Thrown by a job that cannot run yet for a reason that is not its fault (incident mode): it is
/// tried again after `seconds`, without counting as a failed attempt.
struct JobDeferred: Error {
    let seconds: TimeInterval
    let reason: String
}

/// Thrown inside a job's transaction when this server's lease on the job has passed to another
/// server: the transaction rolls back so that the job's effects happen once.
struct JobLeaseLost: Error {}
