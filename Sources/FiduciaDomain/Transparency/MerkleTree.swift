/// The Merkle tree of the rating log, as RFC 9162 (Certificate Transparency 2.0, §2.1) defines it,
/// with RFC 6962's hashing: a leaf is `H(0x00 ‖ entry)`, an inner node `H(0x01 ‖ left ‖ right)`,
/// the empty tree `H()`, where H is SHA-256. Pure: the hash function is given, and hashes of whole
/// subtrees come from a `MerkleNodes` source, so that a proof costs O(log² n) look-ups however
/// large the tree is.
public typealias MerkleHash = [UInt8]

/// SHA-256 (or any hash), given by the caller: the domain computes no digests itself.
public struct MerkleHasher: Sendable {
    public let digest: @Sendable ([UInt8]) -> MerkleHash

    public init(digest: @escaping @Sendable ([UInt8]) -> MerkleHash) {
        self.digest = digest
    }

    public var emptyTree: MerkleHash { digest([]) }
    public func leaf(_ entry: [UInt8]) -> MerkleHash { digest([0x00] + entry) }
    public func node(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash { digest([0x01] + left + right) }
}

/// The hashes of the tree's complete subtrees: `level` 0 holds the leaf hashes, and the node at
/// (`level`, `index`) covers leaves `index·2^level ..< (index+1)·2^level`.
public protocol MerkleNodes: Sendable {
    func hash(level: Int, index: Int) async throws -> MerkleHash
}

public enum MerkleTree {
    /// The largest power of two smaller than `n` (n ≥ 2): where RFC 9162 splits a tree.
    public static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH(D[start ..< end]). Every range the recursion asks for is either a complete aligned
    /// subtree, read from `nodes`, or split further.
    public static func root(_ start: Int, _ end: Int, nodes: some MerkleNodes, hasher: MerkleHasher) async throws -> MerkleHash {
        let size = end - start
        if size == 0 { return hasher.emptyTree }
        if size & (size - 1) == 0, start % size == 0 {
            return try await nodes.hash(level: size.trailingZeroBitCount, index: start / size)
        }
        let k = split(size)
        let left = try await root(start, start + k, nodes: nodes, hasher: hasher)
        let right = try await root(start + k, end, nodes: nodes, hasher: hasher)
        return hasher.node(left, right)
    }

    /// PATH(m, D[n]): the audit path of leaf `index` in the tree of the first `size` leaves.
    public static func inclusionProof(index: Int, size: Int, nodes: some MerkleNodes, hasher: MerkleHasher) async throws -> [MerkleHash] {
        precondition(index >= 0 && index < size, "the leaf must be in the tree")
        return try await path(index, 0, size, nodes: nodes, hasher: hasher)
    }

    private static func path(_ m: Int, _ start: Int, _ end: Int, nodes: some MerkleNodes, hasher: MerkleHasher) async throws -> [MerkleHash] {
        let n = end - start
        if n <= 1 { return [] }
        let k = split(n)
        if m < k {
            return try await path(m, start, start + k, nodes: nodes, hasher: hasher) + [root(start + k, end, nodes: nodes, hasher: hasher)]
        }
        return try await path(m - k, start + k, end, nodes: nodes, hasher: hasher) + [root(start, start + k, nodes: nodes, hasher: hasher)]
    }

    /// PROOF(m, D[n]): that the tree of the first `first` leaves is a prefix of the tree of `second`.
    public static func consistencyProof(first: Int, second: Int, nodes: some MerkleNodes, hasher: MerkleHasher) async throws -> [MerkleHash] {
        precondition(0 < first && first <= second, "consistency is between a non-empty tree and a larger or equal one")
        return try await subproof(first, 0, second, complete: true, nodes: nodes, hasher: hasher)
    }

    private static func subproof(_ m: Int, _ start: Int, _ end: Int, complete: Bool, nodes: some MerkleNodes, hasher: MerkleHasher) async throws -> [MerkleHash] {
        let n = end - start
        if m == n { return complete ? [] : [try await root(start, end, nodes: nodes, hasher: hasher)] }
        let k = split(n)
        if m <= k {
            return try await subproof(m, start, start + k, complete: complete, nodes: nodes, hasher: hasher)
                + [root(start + k, end, nodes: nodes, hasher: hasher)]
        }
        return try await subproof(m - k, start + k, end, complete: false, nodes: nodes, hasher: hasher)
            + [root(start, start + k, nodes: nodes, hasher: hasher)]
    }

    /// RFC 9162 §2.1.3.2: whether `proof` shows the leaf with `leafHash` at `index` in the tree of
    /// `size` leaves whose root is `root`.
    public static func verifyInclusion(leafHash: MerkleHash, index: Int, size: Int, proof: [MerkleHash], root: MerkleHash, hasher: MerkleHasher) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            r = climb(&fn, &sn) ? hasher.node(p, r) : hasher.node(r, p)
        }
        return sn == 0 && r == root
    }

    /// RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `first` leaves (root `firstRoot`)
    /// is a prefix of the tree of `second` leaves (root `secondRoot`).
    public static func verifyConsistency(
        first: Int, second: Int, firstRoot: MerkleHash, secondRoot: MerkleHash, proof: [MerkleHash], hasher: MerkleHasher
    ) -> Bool {
        guard first > 0, first <= second else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1
        var sn = second - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if climb(&fn, &sn) {
                fr = hasher.node(c, fr)
                sr = hasher.node(c, sr)
            } else {
                sr = hasher.node(sr, c)
            }
        }
        return fr == firstRoot && sr == secondRoot && sn == 0
    }

    /// One step up a path, the walk both verifications share: whether the path's next hash is a
    /// left sibling (`LSB(fn)` set, or `fn == sn`), moving `fn` and `sn` up past the levels where
    /// the node has no right sibling, then one level more.
    private static func climb(_ fn: inout Int, _ sn: inout Int) -> Bool {
        let left = fn & 1 == 1 || fn == sn
        if left, fn & 1 == 0 {
            repeat {
                fn >>= 1
                sn >>= 1
            } while fn & 1 == 0 && fn != 0
        }
        fn >>= 1
        sn >>= 1
        return left
    }

    /// MTH of leaf hashes held in memory, as an auditor with every entry computes it.
    public static func root(leaves: ArraySlice<MerkleHash>, hasher: MerkleHasher) -> MerkleHash {
        switch leaves.count {
        case 0: return hasher.emptyTree
        case 1: return leaves.first!
        default:
            let middle = leaves.startIndex + split(leaves.count)
            return hasher.node(root(leaves: leaves[..<middle], hasher: hasher), root(leaves: leaves[middle...], hasher: hasher))
        }
    }

    /// The complete subtrees that appending leaf `index` finishes, bottom up: (level, index) of
    /// each new node above the leaf, with the (level − 1) children it is made of.
    public static func nodesCompleted(byLeaf index: Int) -> [(level: Int, index: Int)] {
        var completed: [(level: Int, index: Int)] = []
        var level = 0
        var position = index
        while position & 1 == 1 {
            level += 1
            position >>= 1
            completed.append((level, position))
        }
        return completed
    }
}
