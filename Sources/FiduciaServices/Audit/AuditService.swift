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
    let clock: any WallClock
    let keySeed: Data

    init(store: Store, clock: any WallClock, key: Curve25519.Signing.PrivateKey) {
        self.store = store
        self.clock = clock
        self.keySeed = key.rawRepresentation
    }

    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: keySeed) }

    /// The newest event's sequence and hash, signed, for anyone to keep: whoever kept one can later
    /// show that the chain still holds that very event (`fiducia audit verify --published`), so a
    /// log rewritten from the start is caught, not only one edited in the middle.
    public struct SignedHead: Sendable, Equatable {
        public let sequence: Int
        public let hash: String
        /// When it was signed, in milliseconds since 1970 (as signed).
        public let atMilliseconds: Int64
        /// Base64 Ed25519 over `AuditService.headBytes`.
        public let signature: String
        public let publicKey: String
    }

    /// What a head's signature covers: RFC 8785 canonical JSON of
    /// `{"log": "fiducia-audit", "sequence", "hash", "at" (milliseconds)}`.
    public static func headBytes(sequence: Int, hash: String, atMilliseconds: Int64) -> [UInt8] {
        try! CanonicalJSON.bytes(.object([
            "log": .string("fiducia-audit"), "sequence": .integer(Int64(sequence)), "hash": .string(hash), "at": .integer(atMilliseconds),
        ]))
    }

    public func signedHead() async throws -> SignedHead {
        let (sequence, hash) = try await store.read { repositories -> (Int, String) in
            let count = try await repositories.audit.count()
            guard count > 0, let last = try await repositories.audit.events(from: count, limit: 1).first else { return (0, AuditChain.genesis) }
            return (last.sequence, last.hash)
        }
        let at = clock.now().millisecondsSince1970
        let signature = try key.signature(for: Self.headBytes(sequence: sequence, hash: hash, atMilliseconds: at))
        return SignedHead(sequence: sequence, hash: hash, atMilliseconds: at, signature: Data(signature).base64EncodedString(),
                          publicKey: key.publicKey.rawRepresentation.base64EncodedString())
    }

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

    /// Walks the whole chain; returns how many events were checked and every problem found,
    /// including any `published` head (sequence, hash) the chain no longer holds.
    public func verify(published: [(sequence: Int, hash: String)] = [], progress: (String) -> Void = { _ in }) async throws -> (checked: Int, problems: [String]) {
        var expected = Dictionary(published.map { ($0.sequence, $0.hash) }, uniquingKeysWith: { first, _ in first })
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
            for event in batch {
                guard let published = expected.removeValue(forKey: event.sequence) else { continue }
                if published != event.hash {
                    problems.append("event \(event.sequence) is not the one published (\(published.prefix(16))…): the log was rewritten since")
                }
            }
            checked += batch.count
            next = batch.last!.sequence + 1
            previous = batch.last!.hash
            progress("checked \(checked) of \(expectedCount) events")
        }
        if next - 1 < expectedCount { problems.append("the last \(expectedCount - (next - 1)) events are missing (the log counted \(expectedCount))") }
        for sequence in expected.keys.sorted() where sequence > 0 {
            problems.append("event \(sequence) was published but the log no longer holds it")
        }
        return (checked, problems)
    }
}
