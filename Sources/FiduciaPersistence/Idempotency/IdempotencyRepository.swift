import FiduciaDomain
import Foundation
import SQLKit

/// Remembers idempotency keys and the responses they produced.
public protocol IdempotencyRepository: Sendable {
    /// Claims `key` for a request whose method, path and body hash to `requestHash`. A claim that is
    /// not completed within `lockDuration` (because the server died) can be claimed again.
    func claim(scope: String, key: String, requestHash: String, now: Date, lockDuration: TimeInterval) async throws -> IdempotencyClaim
    /// What a claim would find, without claiming: nil when the key is free (unused, or its
    /// earlier attempt died and its lock ran out).
    func lookup(scope: String, key: String, requestHash: String, now: Date) async throws -> IdempotencyClaim?
    func complete(scope: String, key: String, response: StoredResponse) async throws
    /// Forgets a claim whose request failed in a way worth retrying (a server error).
    func release(scope: String, key: String) async throws
    /// Deletes keys created before `cutoff`; returns how many.
    func purge(createdBefore cutoff: Date) async throws -> Int
    /// Deletes stored responses that an older version kept unsealed.
    func purgeUnsealed() async throws -> Int
}

/// Stored responses can carry personal data (a new account's e-mail address), so their bodies are
/// sealed with the shared data key.
struct SQLIdempotencyRepository: IdempotencyRepository {
    let sql: any SQLDatabase
    let sealer: any PersonalDataSealer

    func claim(scope: String, key: String, requestHash: String, now: Date, lockDuration: TimeInterval) async throws -> IdempotencyClaim {
        let lockedUntil = now.addingTimeInterval(lockDuration).millisecondsSince1970
        // ON CONFLICT DO NOTHING waits for a concurrent claimant to commit instead of failing, so two
        // identical requests racing on PostgreSQL see each other's claim rather than an error.
        let inserted = try await sql.raw("""
            INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, locked_until, created_at)
            VALUES (\(bind: scope), \(bind: key), \(bind: requestHash), \(bind: lockedUntil), \(bind: now.millisecondsSince1970))
            ON CONFLICT (scope, idempotency_key) DO NOTHING
            RETURNING scope
            """).first()
        if inserted != nil { return .claimed }

        guard let row = try await sql.raw("""
            SELECT request_hash, locked_until, status_code, response_headers, response_body FROM idempotency_keys
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key)
            """).first()
        else {
            // Purged between the two statements: treat as in progress; the client retries.
            return .inProgress
        }
        if let found = try found(row, requestHash: requestHash, now: now) { return found }
        let previousLock = try row.optionalInt64("locked_until") ?? 0
        // The earlier attempt never finished (its server died): take the key over.
        let taken = try await sql.raw("""
            UPDATE idempotency_keys SET locked_until = \(bind: lockedUntil)
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key) AND status_code IS NULL AND locked_until = \(bind: previousLock)
            RETURNING scope
            """).first()
        return taken == nil ? .inProgress : .claimed
    }

    func lookup(scope: String, key: String, requestHash: String, now: Date) async throws -> IdempotencyClaim? {
        guard let row = try await sql.raw("""
            SELECT request_hash, locked_until, status_code, response_headers, response_body FROM idempotency_keys
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key)
            """).first()
        else { return nil }
        return try found(row, requestHash: requestHash, now: now)
    }

    /// What a key's row says to a request: another request's key, a stored answer, a request
    /// still running; nil when the row's request died (its lock ran out).
    private func found(_ row: any SQLRow, requestHash: String, now: Date) throws -> IdempotencyClaim? {
        guard try row.string("request_hash") == requestHash else { return .requestMismatch }
        if let status = try row.optionalInt64("status_code") {
            let headers = try JSONDecoder().decode([String: String].self, from: Data((try row.optionalString("response_headers") ?? "{}").utf8))
            let body = try row.optionalString("response_body").map { try sealer.open($0, wrappedKey: nil) } ?? []
            return .replay(StoredResponse(status: Int(status), headers: headers, body: body))
        }
        return (try row.optionalInt64("locked_until") ?? 0) > now.millisecondsSince1970 ? .inProgress : nil
    }

    func complete(scope: String, key: String, response: StoredResponse) async throws {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        try await sql.raw("""
            UPDATE idempotency_keys
            SET status_code = \(bind: response.status), response_headers = \(bind: headers),
                response_body = \(bind: try sealer.seal(response.body, wrappedKey: nil)), locked_until = NULL
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key)
            """).run()
    }

    func release(scope: String, key: String) async throws {
        try await sql.raw("""
            DELETE FROM idempotency_keys WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key) AND status_code IS NULL
            """).run()
    }

    func purgeUnsealed() async throws -> Int {
        try await sql.raw("DELETE FROM idempotency_keys WHERE response_body IS NOT NULL AND response_body NOT LIKE 'pd1$%' RETURNING scope").all().count
    }

    func purge(createdBefore cutoff: Date) async throws -> Int {
        try await sql.raw("DELETE FROM idempotency_keys WHERE created_at < \(bind: cutoff.millisecondsSince1970) RETURNING scope")
            .all().count
    }
}
