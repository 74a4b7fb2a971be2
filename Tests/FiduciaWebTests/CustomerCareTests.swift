import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import Testing

/// Service commitments measured against what happened, and loyalty points kept in their own
/// double-entry ledger (F6), played by the seller, the buyer, and a buyer who gets a refund.
@Suite("Customer care: commitments and loyalty")
struct CustomerCareTests {
    static func paidOrder(_ web: WebHarness, buyer: String, seller: String, priceMinor: Int) async throws -> String {
        let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":\#(priceMinor)}]}"#, token: buyer)
        let id = try #require(order.object["id"] as? String, "\(order.text)")
        try #require(try await web.request(.post, "/v1/orders/\(id)/payment", json: #"{"method":"card","cardToken":"tok_visa"}"#, token: buyer).status == .ok)
        return id
    }

    static func ship(_ web: WebHarness, _ id: String, seller: String) async throws {
        try #require(try await web.request(.post, "/v1/orders/\(id)/shipment", json: #"{"carrier":"X","trackingNumber":"1"}"#, token: seller).status == .ok)
    }

    @Test(arguments: TestDatabases.kinds)
    func commitmentsAreMeasuredAgainstWhatHappened(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("tea", roles: ["seller"])
            let buyer = try await web.user("alice")
            #expect(try await web.request(.put, "/v1/users/me/service-commitments", json: #"{"shipWithinHours":24}"#, token: buyer.token).status == .forbidden)
            #expect(try await web.request(.put, "/v1/users/me/service-commitments", json: #"{"shipWithinHours":0}"#, token: seller.token).status == .badRequest)
            #expect(try await web.request(.put, "/v1/users/me/service-commitments", json: "{}", token: seller.token).status == .badRequest)
            // null is no value in this API: it is refused, not read as a field left out; inside a string it is just text.
            let null = try await web.request(.put, "/v1/users/me/service-commitments", json: #"{"answerWithinHours":1,"shipWithinHours":null}"#, token: seller.token)
            #expect(null.status == .badRequest && null.text.contains("No field takes null"))
            let inText = try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"null \"null\" null"}"#)
            #expect(inText.status == .created, "\(inText.text)")
            #expect(try await web.request(.get, "/v1/sellers/\(seller.id)/service-commitments").status == .notFound)
            let set = try await web.request(.put, "/v1/users/me/service-commitments", json: #"{"answerWithinHours":12,"shipWithinHours":24}"#, token: seller.token)
            #expect(set.status == .ok, "\(set.text)")

            // Order A: asked about and answered in 2 hours, shipped in 1: both kept.
            let a = try await Self.paidOrder(web, buyer: buyer.token, seller: seller.id, priceMinor: 1_000)
            _ = try await web.request(.post, "/v1/orders/\(a)/messages", json: #"{"text":"When will it ship?"}"#, token: buyer.token)
            web.clock.advance(by: 3_600)
            try await Self.ship(web, a, seller: seller.token)
            web.clock.advance(by: 3_600)
            _ = try await web.request(.post, "/v1/orders/\(a)/messages", json: #"{"text":"It is on its way."}"#, token: seller.token)
            // Order B: two questions in a row, never answered; shipped after 30 hours: both broken.
            let b = try await Self.paidOrder(web, buyer: buyer.token, seller: seller.id, priceMinor: 1_000)
            _ = try await web.request(.post, "/v1/orders/\(b)/messages", json: #"{"text":"Hello?"}"#, token: buyer.token)
            _ = try await web.request(.post, "/v1/orders/\(b)/messages", json: #"{"text":"Anyone there?"}"#, token: buyer.token)
            // Order C: paid just now, within its time: not counted yet.
            web.clock.advance(by: 30 * 3_600)
            try await Self.ship(web, b, seller: seller.token)
            _ = try await Self.paidOrder(web, buyer: buyer.token, seller: seller.id, priceMinor: 1_000)

            let report = try await web.request(.get, "/v1/sellers/\(seller.id)/service-commitments").object
            let shipping = report["shipping"] as? [String: Any] ?? [:]
            let answering = report["answering"] as? [String: Any] ?? [:]
            #expect(shipping["kept"] as? Int == 1 && shipping["total"] as? Int == 2 && shipping["percent"] as? Int == 50)
            #expect(answering["kept"] as? Int == 1 && answering["total"] as? Int == 2 && answering["percent"] as? Int == 50)
            let profile = try await web.request(.get, "/merchants/\(seller.id)")
            #expect(profile.text.contains("Ships paid orders within 24 hours") && profile.text.contains("kept 50% of the time in the last 90 days (1 of 2)"))

            // A new promise starts a new record: the old orders no longer count against it.
            _ = try await web.request(.put, "/v1/users/me/service-commitments", json: #"{"shipWithinHours":48}"#, token: seller.token)
            let fresh = try await web.request(.get, "/v1/sellers/\(seller.id)/service-commitments").object
            #expect((fresh["shipping"] as? [String: Any])?["total"] as? Int == 0)
            #expect(fresh["answering"] == nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func pointsAreEarnedOnCompletionAndTakenBackWithARefund(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("tea", roles: ["seller"])
            let buyer = try await web.user("alice")
            let levels = #"[{"name":"Member","minimumPoints":0,"benefit":"A thank-you note"},{"name":"Silver","minimumPoints":50,"benefit":"Free shipping"}]"#
            // Rules of a programme: the first level from 0, rising thresholds.
            let bad = try await web.request(.put, "/v1/users/me/loyalty-programme",
                                            json: #"{"pointsPerUnit":2,"levels":[{"name":"Silver","minimumPoints":10,"benefit":"x"}]}"#, token: seller.token)
            #expect(bad.status == .unprocessableContent && bad.problemType == "/problems/rule-not-met")
            #expect(try await web.request(.put, "/v1/users/me/loyalty-programme", json: #"{"pointsPerUnit":2,"levels":\#(levels)}"#, token: buyer.token).status == .forbidden)
            #expect(try await web.request(.put, "/v1/users/me/loyalty-programme", json: #"{"pointsPerUnit":2,"levels":\#(levels)}"#, token: seller.token).status == .ok)

            // 25.00 EUR completed at 2 points per euro: 50 points, Silver.
            let order = try await web.completedTrade(buyer: buyer.token, seller: seller, priceMinor: 2_500)
            var mine = try await web.request(.get, "/v1/me/loyalty", token: buyer.token).object["items"] as? [[String: Any]] ?? []
            #expect(mine.first?["points"] as? Int == 50 && mine.first?["level"] as? String == "Silver")
            #expect(try await web.request(.get, "/v1/sellers/\(seller.id)/loyalty-programme", token: buyer.token).object["myPoints"] as? Int == 50)

            // The seller raises the rate; the points already earned keep theirs. A refund of 10.00
            // after completion takes back what those 10 euros earned: 20 points, at the old rate.
            _ = try await web.request(.put, "/v1/users/me/loyalty-programme", json: #"{"pointsPerUnit":10,"levels":\#(levels)}"#, token: seller.token)
            let refund = try await web.request(.post, "/v1/orders/\(order)/refund", json: #"{"amountMinor":1000,"reason":"One tin was dented."}"#, token: seller.token)
            #expect(refund.status == .ok, "\(refund.text)")
            mine = try await web.request(.get, "/v1/me/loyalty", token: buyer.token).object["items"] as? [[String: Any]] ?? []
            #expect(mine.first?["points"] as? Int == 30 && mine.first?["level"] as? String == "Member")
            #expect(mine.first?["pointsToNextLevel"] as? Int == 20)

            // Points are not money: the money ledger holds nothing of them, and both ledgers verify.
            #expect(try await web.services.ledger.verify().isClean)
            #expect(try await web.services.customerCare.verify().isEmpty)
            let issued = try await web.services.store.read { try await $0.customerCare.balance(.issued(seller: UserID(seller.id))) }
            #expect(issued == -30)
            let page = try await web.request(.get, "/merchants/\(seller.id)")
            #expect(page.text.contains(#"id="loyalty-levels""#) && page.text.contains("Free shipping"))
        }
    }
}
