import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation

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
