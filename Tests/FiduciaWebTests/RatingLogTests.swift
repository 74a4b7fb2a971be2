import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import SQLKit
import Testing

/// The tamper-evident rating log through the API, and the auditor (`fiducia log verify`) against
/// an operator who edits the database behind its back.
@Suite("Rating log")
struct RatingLogTests {
    static let buyerRating = #"{"overall":"positive","itemAsDescribed":5,"serviceAttitude":4,"shippingSpeed":5,"comment":"Lovely tea"}"#
    static let sellerRating = #"{"overall":"positive","comment":"Paid at once"}"#

    func auditor(_ web: WebHarness) -> LogAuditor {
        LogAuditor { path in
            let response = try await web.request(.get, "/v1" + path)
            return (Int(response.status.code), Data(response.text.utf8))
        }
    }

    /// A trade both sides rated (so both ratings are published and logged); returns the buyer's rating.
    func ratedTrade(_ web: WebHarness, buyer: (id: String, token: String), seller: (id: String, token: String)) async throws -> String {
        let order = try await web.completedTrade(buyer: buyer.token, seller: seller)
        let rating = try await web.request(.post, "/v1/orders/\(order)/rating", json: Self.buyerRating, token: buyer.token)
        _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: Self.sellerRating, token: seller.token)
        return try #require(rating.object["id"] as? String)
    }

    func sql(_ web: WebHarness, _ statement: String) async throws {
        try await web.services.store.database.transaction { sql in try await sql.raw(SQLQueryString(statement)).run() }
    }

    @Test(arguments: TestDatabases.kinds)
    func publishedRatingsRepliesAndHidingAreLoggedAndProven(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            #expect(try await web.request(.get, "/v1/log/tree-head").problemType == "/problems/no-tree-head")
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let first = try await ratedTrade(web, buyer: buyer, seller: seller)
            _ = try await web.request(.post, "/v1/ratings/\(first)/reply", json: #"{"text":"Thank you!"}"#, token: seller.token)
            // Two ratings published together, then a reply: three leaves.
            let head = try await web.services.ratingLog.signTreeHead()
            #expect(head.treeSize == 3)
            let shown = try await web.request(.get, "/v1/ratings/\(first)")
            #expect(shown.object["logIndex"] as? Int != nil)

            let treeHead = try await web.request(.get, "/v1/log/tree-head").object
            #expect(treeHead["treeSize"] as? Int == 3)
            let entries = try await web.request(.get, "/v1/log/entries?start=0&end=10").object["items"] as? [[String: Any]] ?? []
            #expect(entries.count == 3)
            #expect((entries[2]["entry"] as? String)?.contains(#""type":"reply""#) == true)

            // An inclusion proof for the rating verifies against the signed root.
            let proof = try await web.request(.get, "/v1/log/inclusion-proof?ratingId=\(first)").object
            let path = (proof["auditPath"] as? [String] ?? []).compactMap { Data(base64Encoded: $0).map(Array.init) }
            let root = try #require(Data(base64Encoded: treeHead["rootHash"] as? String ?? "").map(Array.init))
            let leaf = RatingLogService.hasher.leaf(Array((proof["entry"] as? String ?? "").utf8))
            #expect(MerkleTree.verifyInclusion(leafHash: leaf, index: proof["leafIndex"] as? Int ?? -1, size: 3, proof: path, root: root, hasher: RatingLogService.hasher))

            // The auditor agrees, and remembers; more ratings later are consistent with what it saw.
            let (report, state) = try await auditor(web).verify(previous: nil, users: [seller.id, buyer.id])
            #expect(report.isClean, "\(report.problems)")
            #expect(report.ratingsChecked == 2 && report.proofsChecked == 2)
            _ = try await ratedTrade(web, buyer: buyer, seller: seller)
            try await web.services.ratingLog.signTreeHead()
            let (later, laterState) = try await auditor(web).verify(previous: state, users: [seller.id])
            #expect(later.isClean, "\(later.problems)")
            #expect(later.consistentWithPrevious == 3 && laterState.treeSize == 5)
            let consistency = try await web.request(.get, "/v1/log/consistency-proof?first=3&second=5")
            #expect(consistency.status == .ok)
            #expect(try await web.request(.get, "/v1/log/consistency-proof?first=4&second=5").problemType == "/problems/unknown-tree-size")
        }
    }

    /// The attack: an operator edits a published rating, deletes another, and rewrites the log
    /// itself; each is caught by the auditor.
    @Test(arguments: TestDatabases.kinds)
    func theAuditorCatchesEditsDeletionsAndARewrittenLog(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let edited = try await ratedTrade(web, buyer: buyer, seller: seller)
            let deleted = try await ratedTrade(web, buyer: buyer, seller: seller)
            try await web.services.ratingLog.signTreeHead()
            let (clean, state) = try await auditor(web).verify(previous: nil, users: [seller.id])
            #expect(clean.isClean)

            // A rating's words quietly changed; another one taken away and put back under a new id,
            // as if it had never been published through the log.
            try await sql(web, "UPDATE ratings SET comment = 'Best shop ever' WHERE id = '\(edited)'")
            try await sql(web, "UPDATE ratings SET id = 'rat_forged', log_index = NULL WHERE id = '\(deleted)'")
            let (tampered, _) = try await auditor(web).verify(previous: state, users: [seller.id])
            #expect(tampered.problems.contains { $0.contains(edited) && $0.contains("edited after publication") })
            #expect(tampered.problems.contains { $0.contains(deleted) && $0.contains("no moderator action") })
            #expect(tampered.problems.contains { $0.contains("rat_forged") && $0.contains("not in the log") })

            // Editing the log's own entry breaks the signed root.
            try await sql(web, "UPDATE rating_log_leaves SET entry = replace(entry, 'Lovely', 'Lousy') WHERE entry LIKE '%Lovely%'")
            await #expect(throws: LogAuditor.Failure.self) { try await auditor(web).verify(previous: state) }

            // Rewriting history and signing afresh: the auditor remembers the old root.
            try await sql(web, "DELETE FROM rating_log_heads")
            try await sql(web, "DELETE FROM rating_log_nodes")
            try await sql(web, "DELETE FROM rating_log_leaves")
            try await sql(web, "UPDATE counters SET value = 0 WHERE name = 'rating_log_size'")
            _ = try await ratedTrade(web, buyer: buyer, seller: seller)
            _ = try await ratedTrade(web, buyer: buyer, seller: seller)
            _ = try await ratedTrade(web, buyer: buyer, seller: seller)
            try await web.services.ratingLog.signTreeHead()
            let failure = await #expect(throws: LogAuditor.Failure.self) { try await auditor(web).verify(previous: state) }
            #expect(failure?.description.contains("consistent") == true, "\(failure?.description ?? "")")
        }
    }
}
