import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// The tamper-evident rating log (X2): tree heads, proofs and entries, for anyone.
extension FiduciaAPIHandler {
    func getLogTreeHead(_ input: Operations.GetLogTreeHead.Input) async throws -> Operations.GetLogTreeHead.Output {
        guard let head = try await services.ratingLog.treeHead() else { throw RatingLogError.noTreeHead }
        return .ok(.init(body: .json(.init(
            treeSize: Int64(head.treeSize), rootHash: Self.base64(head.rootHash), timestamp: head.timestamp,
            signature: Self.base64(head.signature), publicKey: Self.base64(services.ratingLog.publicKey)
        ))))
    }

    func getLogInclusionProof(_ input: Operations.GetLogInclusionProof.Input) async throws -> Operations.GetLogInclusionProof.Output {
        guard (input.query.ratingId == nil) != (input.query.leafIndex == nil) else {
            // Parameters cannot say "exactly one of" in the document: 422, as for other such rules.
            throw RuleNotMet(field: "ratingId", "Name either a rating or a leaf index, not both.")
        }
        let proof = try await services.ratingLog.inclusionProof(
            leafIndex: input.query.leafIndex.map { Int(clamping: $0) }, rating: input.query.ratingId.map(RatingID.init),
            treeSize: input.query.treeSize.map { Int(clamping: $0) }
        )
        return .ok(.init(body: .json(.init(
            leafIndex: Int64(proof.leafIndex), treeSize: Int64(proof.treeSize), entry: proof.entry, auditPath: proof.path.map(Self.base64)
        ))))
    }

    func getLogConsistencyProof(_ input: Operations.GetLogConsistencyProof.Input) async throws -> Operations.GetLogConsistencyProof.Output {
        let first = Int(clamping: input.query.first)
        let second = Int(clamping: input.query.second)
        let proof = try await services.ratingLog.consistencyProof(first: first, second: second)
        return .ok(.init(body: .json(.init(first: Int64(first), second: Int64(second), proof: proof.map(Self.base64)))))
    }

    func getLogEntries(_ input: Operations.GetLogEntries.Input) async throws -> Operations.GetLogEntries.Output {
        let entries = try await services.ratingLog.entries(start: Int(clamping: input.query.start), end: Int(clamping: input.query.end))
        return .ok(.init(body: .json(.init(items: entries.map { .init(leafIndex: Int64($0.index), entry: $0.entry) }))))
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
