import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Where the request that is being served came from, for the audit log. The web layer sets it
/// around every request; work outside a request (jobs, the CLI) has none.
public enum AuditContext {
    @TaskLocal public static var clientAddress: String?
}

/// The hash-chained audit log of privileged actions (G3): moderators' decisions, role grants,
/// looks at identity documents, rulebook changes, staff money decisions. Every entry is written
/// in the transaction of the action it records, so neither exists without the other.
public struct AuditService: Sendable {
    let store: Store

    static let digest: @Sendable ([UInt8]) -> [UInt8] = { Array(SHA256.hash(data: $0)) }

    /// Records `action` on `subject` by `principal` inside the caller's transaction.
    static func record(_ action: String, subject: String, detail: String, by principal: Principal, in repositories: Repositories, now: Date) async throws {
        let actor = principal.actingUser?.id.rawValue ?? principal.apiClient?.id.rawValue ?? "system"
        try await record(action, subject: subject, detail: detail, actor: actor, in: repositories, now: now)
    }

    /// Records an action of someone who is not a signed-in principal (`operator` at the command line).
    static func record(_ action: String, subject: String, detail: String, actor: String, in repositories: Repositories, now: Date) async throws {
        _ = try await repositories.audit.append(
            actor: actor, action: action, subject: subject, detail: String(detail.prefix(2_000)), address: AuditContext.clientAddress, at: now,
            digest: digest
        )
    }

    /// Events newest first (administrators only).
    public func events(page: PageRequest, by principal: Principal) async throws -> Page<AuditEvent> {
        _ = try principal.requireRole(.admin)
        let fetched = try await store.read { try await $0.audit.list(before: page.after.flatMap(Int.init), limit: page.limit + 1) }
        return Page(fetched: fetched, limit: page.limit, identifier: { String($0.sequence) })
    }

    /// Walks the whole chain; returns how many events were checked and every problem found.
    public func verify(progress: (String) -> Void = { _ in }) async throws -> (checked: Int, problems: [String]) {
        let expectedCount = try await store.read { try await $0.audit.count() }
        var next = 1
        var previous = AuditChain.genesis
        var problems: [String] = []
        var checked = 0
        while true {
            let from = next
            let batch = try await store.read { try await $0.audit.events(from: from, limit: 5_000) }
            if batch.isEmpty { break }
            problems += AuditChain.verify(batch, expectedFirst: next, previousHash: previous, digest: Self.digest)
            checked += batch.count
            next = batch.last!.sequence + 1
            previous = batch.last!.hash
            progress("checked \(checked) of \(expectedCount) events")
        }
        if next - 1 < expectedCount { problems.append("the last \(expectedCount - (next - 1)) events are missing (the log counted \(expectedCount))") }
        return (checked, problems)
    }
}
