import FiduciaDomain
import Foundation
import SQLKit

/// The rating log's storage: append-only leaves, the hashes of complete subtrees (so that a proof
/// reads O(log² n) rows, never the whole log), and the signed tree heads.
public protocol RatingLogRepository: Sendable {
    /// Appends `entry` as the next leaf and stores every subtree it completes; returns its index.
    /// Appends are serialised by the `rating_log_size` counter row, held until the transaction ends.
    func append(_ entry: RatingLogEntry, hasher: MerkleHasher, at now: Date) async throws -> Int
    func size() async throws -> Int
    func nodes() -> any MerkleNodes
    /// Entries `start ..< end` (at most `limit`), with their canonical JSON.
    func entries(from start: Int, to end: Int) async throws -> [(index: Int, entry: String)]
    func latestHead() async throws -> SignedTreeHead?
    func head(size: Int) async throws -> SignedTreeHead?
    func insertHead(_ head: SignedTreeHead) async throws
}

struct SQLRatingLogRepository: RatingLogRepository {
    let sql: any SQLDatabase

    func append(_ entry: RatingLogEntry, hasher: MerkleHasher, at now: Date) async throws -> Int {
        guard let row = try await sql.raw("UPDATE counters SET value = value + 1 WHERE name = 'rating_log_size' RETURNING value").first() else {
            preconditionFailure("the rating log counter exists from the migration")
        }
        let index = Int(try row.int64("value")) - 1
        let bytes = entry.bytes
        try await sql.raw("""
            INSERT INTO rating_log_leaves (leaf_index, rating_id, entry, appended_at)
            VALUES (\(bind: index), \(bind: entry.ratingID.rawValue), \(bind: String(decoding: bytes, as: UTF8.self)), \(bind: now.millisecondsSince1970))
            """).run()
        var hash = hasher.leaf(bytes)
        try await insertNode(level: 0, index: index, hash: hash)
        for (level, nodeIndex) in MerkleTree.nodesCompleted(byLeaf: index) {
            let left = try await SQLRatingLogNodes(sql: sql).hash(level: level - 1, index: nodeIndex * 2)
            hash = hasher.node(left, hash)
            try await insertNode(level: level, index: nodeIndex, hash: hash)
        }
        if case .rating = entry {
            try await sql.raw("UPDATE ratings SET log_index = \(bind: index) WHERE id = \(bind: entry.ratingID.rawValue)").run()
        }
        return index
    }

    private func insertNode(level: Int, index: Int, hash: MerkleHash) async throws {
        try await sql.raw("""
            INSERT INTO rating_log_nodes (level, node_index, hash) VALUES (\(bind: level), \(bind: index), \(bind: Hex.encode(hash)))
            """).run()
    }

    func size() async throws -> Int {
        guard let row = try await sql.raw("SELECT value FROM counters WHERE name = 'rating_log_size'").first() else { return 0 }
        return Int(try row.int64("value"))
    }

    func nodes() -> any MerkleNodes { SQLRatingLogNodes(sql: sql) }

    func entries(from start: Int, to end: Int) async throws -> [(index: Int, entry: String)] {
        try await sql.raw("""
            SELECT leaf_index, entry FROM rating_log_leaves WHERE leaf_index >= \(bind: start) AND leaf_index < \(bind: end) ORDER BY leaf_index
            """).all().map { (Int(try $0.int64("leaf_index")), try $0.string("entry")) }
    }

    func latestHead() async throws -> SignedTreeHead? {
        try await sql.raw("SELECT tree_size, root_hash, signed_at, signature FROM rating_log_heads ORDER BY tree_size DESC LIMIT 1")
            .first().map(Self.head)
    }

    func head(size: Int) async throws -> SignedTreeHead? {
        try await sql.raw("SELECT tree_size, root_hash, signed_at, signature FROM rating_log_heads WHERE tree_size = \(bind: size)")
            .first().map(Self.head)
    }

    func insertHead(_ head: SignedTreeHead) async throws {
        try await sql.raw("""
            INSERT INTO rating_log_heads (tree_size, root_hash, signed_at, signature)
            VALUES (\(bind: head.treeSize), \(bind: Hex.encode(head.rootHash)), \(bind: head.timestamp), \(bind: Hex.encode(head.signature)))
            ON CONFLICT (tree_size) DO NOTHING
            """).run()
    }

    static func bytes(_ hex: String) throws -> [UInt8] {
        guard let bytes = Hex.decode(hex) else { throw RatingLogStorageError.badHex(hex) }
        return bytes
    }

    static func head(_ row: any SQLRow) throws -> SignedTreeHead {
        SignedTreeHead(
            treeSize: Int(try row.int64("tree_size")), rootHash: try Self.bytes(row.string("root_hash")),
            timestamp: try row.int64("signed_at"), signature: try Self.bytes(row.string("signature"))
        )
    }
}

struct SQLRatingLogNodes: MerkleNodes {
    let sql: any SQLDatabase

    func hash(level: Int, index: Int) async throws -> MerkleHash {
        guard let row = try await sql.raw("""
            SELECT hash FROM rating_log_nodes WHERE level = \(bind: level) AND node_index = \(bind: index)
            """).first()
        else { throw RatingLogStorageError.missingNode(level: level, index: index) }
        return try SQLRatingLogRepository.bytes(row.string("hash"))
    }
}

/// The stored log lacks a node it must have: it was damaged outside Fiducia.
public enum RatingLogStorageError: Error, Equatable {
    case missingNode(level: Int, index: Int)
    case badHex(String)
}
