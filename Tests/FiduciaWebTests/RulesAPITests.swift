import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import Testing

/// The shipped rules documents, their pages, and the version an order records.
@Suite("Published rules over HTTP")
struct RulesAPITests {
    @Test
    func theShippedRulesParseAndAnOrderRecordsTheVersionsInForce() async throws {
        // Every shipped file parses, versions count up from 1, and dates only move forward.
        let library = RulesService.shipped
        #expect(library.documents.sorted() == ["after-sales", "trade"])
        for document in library.documents {
            let history = library.history(of: document)
            #expect(history.map(\.version) == Array(1...history.count))
            #expect(history.compactMap(\.effectiveFrom).count == history.count)
            #expect(zip(history, history.dropFirst()).allSatisfy { $0.effective < $1.effective })
        }
        try await WebHarness.run(.sqlite) { web in
            let now = web.clock.now()
            let expected = try #require(RulesVersions.inForce(library, at: now))
            let listed = try await web.request(.get, "/v1/rules").object["items"] as? [[String: Any]] ?? []
            #expect(listed.count == library.versions.count)
            #expect(listed.contains { $0["document"] as? String == "trade" && $0["version"] as? Int == expected.trade && $0["status"] as? String == "in-force" })
            let text = try await web.request(.get, "/v1/rules/trade/versions/\(expected.trade)").object
            #expect((text["text"] as? String)?.contains("escrow") == true)
            #expect(try await web.request(.get, "/v1/rules/trade/versions/99").status == .notFound)

            let seller = try await web.user("tea", roles: ["seller"])
            let buyer = try await web.user("alice")
            let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#, token: buyer.token)
            let recorded = try #require(order.object["rulesVersions"] as? [String: Any])
            #expect(recorded["trade"] as? Int == expected.trade && recorded["afterSales"] as? Int == expected.afterSales)

            // The pages: the index, the text rendered from Markdown, and the changes between versions.
            let index = try await web.request(.get, "/rules")
            #expect(index.text.contains(#"href="/rules/trade""#) && index.text.contains(#"href="/rules/penalties""#))
            let trade = try await web.request(.get, "/rules/trade")
            #expect(trade.text.contains("<h2>Paying</h2>") && trade.text.contains("<strong>escrow</strong>"))
            #expect(trade.text.contains("in force"))
            if library.history(of: "trade").count > 1 {
                let diff = try await web.request(.get, "/rules/trade/diff?from=1&to=2")
                #expect(diff.status == .ok && diff.text.contains(#"class="diff-added""#))
            }
            #expect(try await web.request(.get, "/rules/nothing").status == .notFound)
        }
    }
}
