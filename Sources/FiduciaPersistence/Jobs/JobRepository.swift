import FiduciaDomain
import Foundation
import SQLKit

public typealias JobID = Identifier<Job>

/// A piece of background work with a due time, kept in the database so that it survives restarts
/// and so that exactly one of several servers does it.
public struct Job: Sendable, Equatable, IdentifierPrefixed {
    public static let identifierPrefix = "job"

    public let id: JobID
    /// What to do, e.g. `order.autoComplete`.
    public let kind: String
    /// At most one pending job per key, e.g. `order.autoComplete:ord_…`.
    public let uniqueKey: String
    public let payload: String
    public let dueAt: Date
    /// How many times a server has claimed it (including the current claim).
    public let attempts: Int

    public init(id: JobID, kind: String, uniqueKey: String, payload: String, dueAt: Date, attempts: Int = 0) {
        self.id = id
        self.kind = kind
        self.uniqueKey = uniqueKey
        self.payload = payload
        self.dueAt = dueAt
        self.attempts = attempts
    }
}

/// The state of a job.
public enum JobState: String, Sendable {
    case pending, done, failed, cancelled
}

/// The jobs table: scheduling, leasing, completion.
public protocol JobRepository: Sendable {
    /// Schedules a job. If a job with the same unique key exists: a pending one is moved to the new
    /// due time; a finished one is left alone (each unique key runs once), unless `rearm` says to
    /// make it pending again (a timeout that moves, such as an order's auto-completion resuming).
    func schedule(_ job: Job, now: Date, rearm: Bool) async throws
    /// Cancels the pending job with this key, if any.
    func cancel(uniqueKey: String, now: Date) async throws
    /// The job with this key, and its state.
    func find(uniqueKey: String) async throws -> (job: Job, state: JobState)?
    /// Leases up to `limit` due jobs to `owner` until `now + leaseDuration`. A job whose lease
    /// expired (its server died) is due again.
    func claimDue(now: Date, owner: String, leaseDuration: TimeInterval, limit: Int) async throws -> [Job]
    /// Marks a leased job done. Returns false if `owner` no longer holds the lease, in which case
    /// the caller must roll back the work it did for the job.
    func complete(_ id: JobID, owner: String, now: Date) async throws -> Bool
    /// Records a failure: the job is retried at `retryAt`, or marked failed when `retryAt` is nil.
    func fail(_ id: JobID, owner: String, error: String, retryAt: Date?, now: Date) async throws
    /// Puts a claimed job back to wait until `until`, without counting the attempt.
    func postpone(_ id: JobID, owner: String, until: Date, reason: String) async throws
    func countPending() async throws -> Int
    /// Forgets finished jobs of `kind` that finished before `before`.
    func deleteFinished(kind: String, before: Date) async throws
}

extension JobRepository {
    /// Schedules a job whose unique key, once finished, never runs again.
    public func schedule(_ job: Job, now: Date) async throws {
        try await schedule(job, now: now, rearm: false)
    }
}

struct SQLJobRepository: JobRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    static let columns = "id, kind, unique_key, payload, due_at, attempts"

    func schedule(_ job: Job, now: Date, rearm: Bool) async throws {
        try await sql.raw("""
            INSERT INTO jobs (id, kind, unique_key, payload, due_at, state, attempts, created_at)
            VALUES (\(bind: job.id.rawValue), \(bind: job.kind), \(bind: job.uniqueKey), \(bind: job.payload),
                    \(bind: job.dueAt.millisecondsSince1970), 'pending', 0, \(bind: now.millisecondsSince1970))
            ON CONFLICT (unique_key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, state = 'pending',
                attempts = CASE WHEN jobs.state = 'pending' THEN jobs.attempts ELSE 0 END,
                finished_at = NULL, last_error = CASE WHEN jobs.state = 'pending' THEN jobs.last_error ELSE NULL END
            WHERE jobs.state = 'pending' OR \(unsafeRaw: rearm ? "TRUE" : "FALSE")
            """).run()
    }

    func cancel(uniqueKey: String, now: Date) async throws {
        try await sql.raw("""
            UPDATE jobs SET state = 'cancelled', finished_at = \(bind: now.millisecondsSince1970)
            WHERE unique_key = \(bind: uniqueKey) AND state = 'pending'
            """).run()
    }

    func find(uniqueKey: String) async throws -> (job: Job, state: JobState)? {
        guard let row = try await sql.raw("SELECT \(unsafeRaw: Self.columns), state FROM jobs WHERE unique_key = \(bind: uniqueKey)").first() else {
            return nil
        }
        return (try Self.job(row), JobState(rawValue: try row.string("state")) ?? .pending)
    }

    func claimDue(now: Date, owner: String, leaseDuration: TimeInterval, limit: Int) async throws -> [Job] {
        let nowMilliseconds = now.millisecondsSince1970
        // SKIP LOCKED lets several servers claim different jobs at the same moment on PostgreSQL.
        let lock = kind == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await sql.raw("""
            UPDATE jobs
            SET lease_owner = \(bind: owner), lease_expires_at = \(bind: now.addingTimeInterval(leaseDuration).millisecondsSince1970),
                attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM jobs
                WHERE state = 'pending' AND due_at <= \(bind: nowMilliseconds)
                  AND (lease_expires_at IS NULL OR lease_expires_at < \(bind: nowMilliseconds))
                ORDER BY due_at LIMIT \(bind: limit)\(unsafeRaw: lock)
            )
            RETURNING \(unsafeRaw: Self.columns)
            """).all().map(Self.job).sorted { $0.dueAt < $1.dueAt }
    }

    func complete(_ id: JobID, owner: String, now: Date) async throws -> Bool {
        try await sql.raw("""
            UPDATE jobs SET state = 'done', finished_at = \(bind: now.millisecondsSince1970), lease_owner = NULL, lease_expires_at = NULL
            WHERE id = \(bind: id.rawValue) AND lease_owner = \(bind: owner) AND state = 'pending'
            RETURNING id
            """).first() != nil
    }

    func postpone(_ id: JobID, owner: String, until: Date, reason: String) async throws {
        try await sql.raw("""
            UPDATE jobs SET due_at = \(bind: until.millisecondsSince1970), last_error = \(bind: reason), attempts = attempts - 1,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE id = \(bind: id.rawValue) AND lease_owner = \(bind: owner) AND state = 'pending'
            """).run()
    }

    func fail(_ id: JobID, owner: String, error: String, retryAt: Date?, now: Date) async throws {
        if let retryAt {
            try await sql.raw("""
                UPDATE jobs SET due_at = \(bind: retryAt.millisecondsSince1970), last_error = \(bind: error),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(bind: id.rawValue) AND lease_owner = \(bind: owner) AND state = 'pending'
                """).run()
        } else {
            try await sql.raw("""
                UPDATE jobs SET state = 'failed', last_error = \(bind: error), finished_at = \(bind: now.millisecondsSince1970),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(bind: id.rawValue) AND lease_owner = \(bind: owner) AND state = 'pending'
                """).run()
        }
    }

    func deleteFinished(kind: String, before: Date) async throws {
        try await sql.raw("""
            DELETE FROM jobs WHERE kind = \(bind: kind) AND state <> 'pending' AND finished_at < \(bind: before.millisecondsSince1970)
            """).run()
    }

    func countPending() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending'").first()?.int("n") ?? 0
    }

    static func job(_ row: any SQLRow) throws -> Job {
        Job(
            id: JobID(try row.string("id")),
            kind: try row.string("kind"),
            uniqueKey: try row.string("unique_key"),
            payload: try row.string("payload"),
            dueAt: try row.date("due_at"),
            attempts: try row.int("attempts")
        )
    }
}
