import FiduciaDomain
import FiduciaServices
import Foundation
import Testing

/// The rating log's Merkle tree against RFC 9162: the published test vectors, then every proof
/// of every tree up to 40 leaves, and proofs that must fail.
@Suite("Merkle tree (RFC 9162)")
struct MerkleTreeTests {
    let hasher = RatingLogService.hasher

    /// Subtree hashes computed directly from the leaves: the reference the stored nodes must match.
    struct MemoryNodes: MerkleNodes {
        let leaves: [MerkleHash]
        let hasher: MerkleHasher

        func hash(level: Int, index: Int) async throws -> MerkleHash {
            let size = 1 << level
            let start = index * size
            precondition(start + size <= leaves.count, "only complete subtrees are asked for")
            return MerkleTree.root(leaves: leaves[start..<(start + size)], hasher: hasher)
        }
    }

    func leaves(_ count: Int) -> [MerkleHash] {
        (0..<count).map { hasher.leaf(Array("entry \($0)".utf8)) }
    }

    @Test func matchesTheCertificateTransparencyTestVectors() async throws {
        let data = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map { Hex.decode($0)! }
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4", "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c", "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        let nodes = MemoryNodes(leaves: data.map(hasher.leaf), hasher: hasher)
        for size in 1...8 {
            #expect(Hex.encode(try await MerkleTree.root(0, size, nodes: nodes, hasher: hasher)) == roots[size - 1])
        }
        #expect(Hex.encode(hasher.emptyTree) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func everyInclusionAndConsistencyProofVerifiesAndNoForgedOneDoes() async throws {
        let all = leaves(40)
        let nodes = MemoryNodes(leaves: all, hasher: hasher)
        var roots: [MerkleHash] = [hasher.emptyTree]
        for size in 1...40 { roots.append(try await MerkleTree.root(0, size, nodes: nodes, hasher: hasher)) }
        for size in 1...40 {
            #expect(roots[size] == MerkleTree.root(leaves: all[..<size], hasher: hasher))
            for index in 0..<size {
                let proof = try await MerkleTree.inclusionProof(index: index, size: size, nodes: nodes, hasher: hasher)
                #expect(MerkleTree.verifyInclusion(leafHash: all[index], index: index, size: size, proof: proof, root: roots[size], hasher: hasher))
                // Another leaf, another index, or a changed hash in the path: refused.
                #expect(!MerkleTree.verifyInclusion(leafHash: all[(index + 1) % 40], index: index, size: size, proof: proof, root: roots[size], hasher: hasher))
                if size > 1 {
                    #expect(!MerkleTree.verifyInclusion(leafHash: all[index], index: (index + 1) % size, size: size, proof: proof, root: roots[size], hasher: hasher))
                    var forged = proof
                    forged[forged.count / 2][0] ^= 1
                    #expect(!MerkleTree.verifyInclusion(leafHash: all[index], index: index, size: size, proof: forged, root: roots[size], hasher: hasher))
                }
            }
            for first in 1...size {
                let proof = try await MerkleTree.consistencyProof(first: first, second: size, nodes: nodes, hasher: hasher)
                #expect(MerkleTree.verifyConsistency(first: first, second: size, firstRoot: roots[first], secondRoot: roots[size], proof: proof, hasher: hasher))
                if first < size {
                    // A first tree that is not a prefix (another root) is refused.
                    #expect(!MerkleTree.verifyConsistency(first: first, second: size, firstRoot: roots[first - 1 == 0 ? 2 : first - 1], secondRoot: roots[size], proof: proof, hasher: hasher)
                            || roots[first - 1 == 0 ? 2 : first - 1] == roots[first])
                    var forged = proof
                    forged[0][5] ^= 0x80
                    #expect(!MerkleTree.verifyConsistency(first: first, second: size, firstRoot: roots[first], secondRoot: roots[size], proof: forged, hasher: hasher))
                }
            }
        }
    }

    @Test func appendingLeafIndexCompletesTheRightSubtrees() {
        #expect(MerkleTree.nodesCompleted(byLeaf: 0).isEmpty)
        #expect(MerkleTree.nodesCompleted(byLeaf: 1).map { [$0.level, $0.index] } == [[1, 0]])
        #expect(MerkleTree.nodesCompleted(byLeaf: 2).isEmpty)
        #expect(MerkleTree.nodesCompleted(byLeaf: 7).map { [$0.level, $0.index] } == [[1, 3], [2, 1], [3, 0]])
    }
}
