import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation
import SQLKit

/// The tamper-evident rating log (X2), as Certificate Transparency keeps certificates: every
/// published rating, every reply and every moderator hiding one is appended, in the transaction
/// that does it, as a leaf of an RFC 9162 Merkle tree; tree heads are signed with the instance's
/// Ed25519 key at least every minute while leaves wait for one. Anyone can then check that
/// nothing was removed or rewritten (`fiducia log verify`).
public struct RatingLogService: Sendable {
    let store: Store
    let clock: any WallClock
    let keySeed: Data

    public static let hasher = MerkleHasher { bytes in Array(SHA256.hash(data: bytes)) }
    static let treeHeadJobKind = "log.tree-head"

    init(store: Store, clock: any WallClock, key: Curve25519.Signing.PrivateKey) {
        self.store = store
        self.clock = clock
        self.keySeed = key.rawRepresentation
    }

    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: keySeed) }
    /// The raw 32-byte Ed25519 public key that verifies tree heads.
    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }

    /// Appends `entry` inside the caller's transaction.
    @discardableResult
    static func append(_ entry: RatingLogEntry, in repositories: Repositories, now: Date) async throws -> Int {
        try await repositories.ratingLog.append(entry, hasher: hasher, at: now)
    }

    /// Signs a tree head for the log as it is, unless the newest one already covers every leaf.
    @discardableResult
    public func signTreeHead() async throws -> SignedTreeHead {
        let now = clock.now()
        let seed = keySeed
        return try await store.write { repositories in try await Self.signIfDue(in: repositories, keySeed: seed, now: now) }
    }

    static func signIfDue(in repositories: Repositories, keySeed: Data, now: Date) async throws -> SignedTreeHead {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: keySeed)
        let size = try await repositories.ratingLog.size()
        if let latest = try await repositories.ratingLog.latestHead(), latest.treeSize == size { return latest }
        let root = try await MerkleTree.root(0, size, nodes: repositories.ratingLog.nodes(), hasher: hasher)
        let timestamp = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let signature = try key.signature(for: SignedTreeHead.signedBytes(treeSize: size, rootHash: root, timestamp: timestamp))
        let head = SignedTreeHead(treeSize: size, rootHash: root, timestamp: timestamp, signature: Array(signature))
        try await repositories.ratingLog.insertHead(head)
        return head
    }

    /// The newest signed tree head, or nil before the first is signed.
    public func treeHead() async throws -> SignedTreeHead? {
        try await store.read { try await $0.ratingLog.latestHead() }
    }

    /// The audit path of a leaf (by index, or the leaf that published `rating`) in the tree of
    /// `treeSize` leaves (default: the newest signed tree head), with the leaf's entry.
    public func inclusionProof(leafIndex: Int?, rating: RatingID?, treeSize: Int?) async throws -> (leafIndex: Int, treeSize: Int, entry: String, path: [MerkleHash]) {
        try await store.read { repositories in
            guard let head = try await repositories.ratingLog.latestHead() else { throw RatingLogError.noTreeHead }
            let size = treeSize ?? head.treeSize
            guard size > 0, try await repositories.ratingLog.head(size: size) != nil else { throw RatingLogError.unknownTreeSize(size) }
            var index = leafIndex
            if let rating {
                // Hidden ratings stay in the log: their leaf is found all the same.
                guard let logged = try await repositories.ratings.find(rating)?.logIndex else {
                    throw NotFoundError(entity: "rating in the log", id: rating.rawValue)
                }
                index = logged
            }
            guard let index, index >= 0, index < size else { throw RatingLogError.leafOutOfRange(size: size) }
            guard let entry = try await repositories.ratingLog.entries(from: index, to: index + 1).first?.entry else {
                throw RatingLogError.leafOutOfRange(size: size)
            }
            let path = try await MerkleTree.inclusionProof(index: index, size: size, nodes: repositories.ratingLog.nodes(), hasher: Self.hasher)
            return (index, size, entry, path)
        }
    }

    /// The proof that the tree of `first` leaves is a prefix of the tree of `second`; both must
    /// be sizes the log has signed.
    public func consistencyProof(first: Int, second: Int) async throws -> [MerkleHash] {
        try await store.read { repositories in
            guard first > 0, first <= second else { throw RatingLogError.badRange }
            for size in [first, second] where try await repositories.ratingLog.head(size: size) == nil {
                throw RatingLogError.unknownTreeSize(size)
            }
            return try await MerkleTree.consistencyProof(first: first, second: second, nodes: repositories.ratingLog.nodes(), hasher: Self.hasher)
        }
    }

    /// Entries `start ..< end` of the log (at most `RatingLog.entriesPageLimit`), within the
    /// newest signed tree head.
    public func entries(start: Int, end: Int) async throws -> [(index: Int, entry: String)] {
        try await store.read { repositories in
            let signed = try await repositories.ratingLog.latestHead()?.treeSize ?? 0
            guard start >= 0, start <= end else { throw RatingLogError.badRange }
            let end = min(end, signed, start + RatingLog.entriesPageLimit)
            return end > start ? try await repositories.ratingLog.entries(from: start, to: end) : []
        }
    }

    /// A tree head each minute while leaves wait for one (the job of any minute with nothing new
    /// does nothing).
    static let treeHeadRecurring = RecurringJob(kind: treeHeadJobKind) { now in
        let minute = floor(now.timeIntervalSince1970 / 60) * 60
        return ("\(treeHeadJobKind):\(Int(minute))", Date(timeIntervalSince1970: minute), "")
    }

    var treeHeadJob: JobHandler {
        let seed = keySeed
        return JobHandler(kind: Self.treeHeadJobKind) { _, repositories, now in
            _ = try await Self.signIfDue(in: repositories, keySeed: seed, now: now)
        }
    }
}

/// Named failures of the rating log's API.
public enum RatingLogError: DomainError, Equatable {
    case noTreeHead
    case unknownTreeSize(Int)
    case leafOutOfRange(size: Int)
    case badRange

    public var kind: FailureKind {
        switch self {
        case .noTreeHead: .notFound
        case .unknownTreeSize, .leafOutOfRange, .badRange: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .noTreeHead: "no-tree-head"
        case .unknownTreeSize: "unknown-tree-size"
        case .leafOutOfRange: "leaf-out-of-range"
        case .badRange: "bad-log-range"
        }
    }

    public var title: String {
        switch self {
        case .noTreeHead: "No tree head yet"
        case .unknownTreeSize: "No tree head of this size"
        case .leafOutOfRange: "No such leaf"
        case .badRange: "Not a range of the log"
        }
    }

    public var detail: String {
        switch self {
        case .noTreeHead: "The log has not signed its first tree head yet; it does within a minute of starting."
        case .unknownTreeSize(let size): "The log signed no tree head of size \(size); ask for a size a tree head names."
        case .leafOutOfRange(let size): "The tree of \(size) leaves has no such leaf."
        case .badRange: "Give a first size of at least 1 and a second at least as large, or a start no larger than the end."
        }
    }
}

extension RatingLogService {
    public struct BenchmarkResult: Sendable {
        /// Durable one-row transactions per second on the same database, in the same run.
        public let bareCommitsPerSecond: Double
        /// Transactions that each append one leaf, per second.
        public let appendCommitsPerSecond: Double
        /// What one append adds inside a transaction that is open anyway (as a rating's publication is).
        public let microsecondsPerAppendInTransaction: Double
        public let treeSize: Int
    }

    /// Measures appending on this database, which must be a scratch one: it writes benchmark
    /// leaves into the log and rows into a scratch table.
    public func benchmark(appends: Int, progress: (String) -> Void) async throws -> BenchmarkResult {
        let database = store.database
        try await database.transaction { sql in try await sql.raw("CREATE TABLE IF NOT EXISTS log_bench_bare (n BIGINT NOT NULL)").run() }
        let publishedAt = clock.now()
        @Sendable func entry(_ n: Int) -> RatingLogEntry {
            .rating(LoggedRating(
                id: RatingID("rat_bench_\(n)"), orderID: OrderID("ord_bench_\(n)"), raterID: UserID("usr_bench_buyer"), rateeID: UserID("usr_bench_seller"),
                side: .buyerRatesSeller, overall: .positive, detailed: DetailedRatings(itemAsDescribed: 5, serviceAttitude: 4, shippingSpeed: 5),
                comment: "Exactly as described, fast shipping, lovely tea.", publishedAt: publishedAt
            ))
        }
        func rate(_ count: Int, _ body: (Int) async throws -> Void) async throws -> Double {
            let start = ContinuousClock.now
            for n in 0..<count {
                try await body(n)
                if (n + 1) % max(1, count / 4) == 0 { progress("\(n + 1) of \(count)") }
            }
            let elapsed = ContinuousClock.now - start
            return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        progress("bare commits")
        let bare = try await rate(appends) { n in
            try await database.transaction { sql in try await sql.raw("INSERT INTO log_bench_bare (n) VALUES (\(bind: n))").run() }
        }
        progress("one append per commit")
        let now = clock.now()
        let appendCommits = try await rate(appends) { n in
            _ = try await store.write { repositories in try await Self.append(entry(n), in: repositories, now: now) }
        }
        progress("appends inside one transaction")
        let batch = appends * 4
        let start = ContinuousClock.now
        try await store.write { repositories in
            for n in 0..<batch { try await Self.append(entry(appends + n), in: repositories, now: now) }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let size = try await store.read { try await $0.ratingLog.size() }
        return BenchmarkResult(bareCommitsPerSecond: bare, appendCommitsPerSecond: appendCommits, microsecondsPerAppendInTransaction: seconds * 1e6 / Double(batch), treeSize: size)
    }
}
