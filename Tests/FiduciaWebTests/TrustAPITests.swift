import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Ratings and trust API")
struct TrustAPITests {
    static let buyerRating = #"{"overall":"positive","itemAsDescribed":5,"serviceAttitude":4,"shippingSpeed":5,"comment":"Lovely tea"}"#

    @Test(arguments: TestDatabases.kinds)
    func ratingsAreDoubleBlindOverTheAPI(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let order = try await web.completedTrade(buyer: buyer.token, seller: seller)

            let first = try await web.request(.post, "/v1/orders/\(order)/rating", json: Self.buyerRating, token: buyer.token)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.object["published"] as? Bool == false)
            let ratingID = try #require(first.object["id"] as? String)
            // The seller cannot see it yet; nor can the public.
            #expect((try await web.request(.get, "/v1/orders/\(order)/ratings", token: seller.token).object["items"] as? [Any])?.isEmpty == true)
            #expect((try await web.request(.get, "/v1/users/\(seller.id)/ratings").object["items"] as? [Any])?.isEmpty == true)
            // The author sees it among the ratings they gave.
            #expect((try await web.request(.get, "/v1/users/\(buyer.id)/ratings?direction=given", token: buyer.token).object["items"] as? [Any])?.count == 1)
            #expect(try await web.request(.post, "/v1/ratings/\(ratingID)/reply", json: #"{"text":"thanks"}"#, token: seller.token).status == .notFound)

            let second = try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive","comment":"Quick payment"}"#, token: seller.token)
            #expect(second.object["published"] as? Bool == true)
            let published = try await web.request(.get, "/v1/users/\(seller.id)/ratings")
            let items = try #require(published.object["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["itemAsDescribed"] as? Int == 5)
            #expect(items.first?["comment"] as? String == "Lovely tea")
            #expect(items.first?["flags"] as? [String] == [])

            let reply = try await web.request(.post, "/v1/ratings/\(ratingID)/reply", json: #"{"text":"Thank you!"}"#, token: seller.token)
            #expect(reply.object["reply"] as? String == "Thank you!")
            #expect(try await web.request(.post, "/v1/ratings/\(ratingID)/reply", json: #"{"text":"again"}"#, token: seller.token).problemType == "/problems/reply-already-given")
            #expect(try await web.request(.post, "/v1/orders/\(order)/rating", json: Self.buyerRating, token: buyer.token).problemType == "/problems/rating-already-published")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badRatingsAreRefused(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let order = try await web.completedTrade(buyer: buyer.token, seller: seller)
            let cases: [(String, String, Int, String)] = [
                // Detailed ratings are the buyer's: which side the rater is on decides (422).
                (buyer.token, #"{"overall":"positive"}"#, 422, "rule-not-met"),
                (buyer.token, #"{"overall":"positive","itemAsDescribed":6,"serviceAttitude":4,"shippingSpeed":5}"#, 400, "validation-failed"),
                (buyer.token, #"{"overall":"great","itemAsDescribed":5,"serviceAttitude":4,"shippingSpeed":5}"#, 400, "validation-failed"),
                (seller.token, #"{"overall":"positive","itemAsDescribed":5,"serviceAttitude":4,"shippingSpeed":5}"#, 422, "rule-not-met"),
                (try await web.user("eve").token, #"{"overall":"negative"}"#, 404, "not-found"),
            ]
            for (token, body, status, code) in cases {
                let response = try await web.request(.post, "/v1/orders/\(order)/rating", json: body, token: token)
                #expect(response.status.code == status, "\(body): \(response.text)")
                #expect(response.problemType == "/problems/\(code)", "\(body): \(response.text)")
            }
            let open = try await web.request(.post, "/v1/orders", json: EscrowAPITests.orderBody(seller.id), token: buyer.token).object["id"] as? String
            #expect(try await web.request(.post, "/v1/orders/\(open ?? "")/rating", json: Self.buyerRating, token: buyer.token).problemType == "/problems/order-not-finished")
            let count = try await web.services.store.read { try await $0.ratings.ratings(order: OrderID(order)).count }
            #expect(count == 0)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theTrustProfileExplainsTheScore(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            for _ in 0..<2 {
                let order = try await web.completedTrade(buyer: buyer.token, seller: seller)
                _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: Self.buyerRating, token: buyer.token)
                _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive"}"#, token: seller.token)
            }
            let profile = try await web.request(.get, "/v1/users/\(seller.id)/trust-profile")
            #expect(profile.status == .ok, "\(profile.text)")
            let body = profile.object
            #expect(body["tier"] as? String == "new")
            #expect((body["score"] as? Int).map { (0...1000).contains($0) } == true)
            let breakdown = try #require(body["breakdown"] as? [[String: Any]])
            #expect(breakdown.contains { $0["factor"] as? String == "ratings.positive" })
            #expect(abs(breakdown.compactMap { $0["effect"] as? Double }.reduce(0, +) - Double(body["score"] as! Int)) <= Double(breakdown.count))
            #expect(((body["ratingCounts"] as? [String: Any])?["allTime"] as? [String: Any])?["positive"] as? Int == 2)
            #expect((body["detailedAverages"] as? [String: Any])?["count"] as? Int == 2)
            #expect(body["completedTrades"] as? Int == 2)
            #expect((body["tiers"] as? [Any])?.count == 5)
            #expect(body["personalized"] == nil)
            let personal = try await web.request(.get, "/v1/users/\(seller.id)/trust-profile", token: buyer.token)
            #expect((personal.object["personalized"] as? [String: Any])?["probability"] is Double)
            #expect(try await web.request(.get, "/v1/users/\(seller.id)/trust-profile?role=buyer").status == .notFound)
            #expect(try await web.request(.get, "/v1/users/\(buyer.id)/trust-profile?role=buyer").status == .ok)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func fraudAlertsAreForModerators(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            #expect(try await web.request(.get, "/v1/fraud-alerts", token: buyer.token).status == .forbidden)
            #expect(try await web.request(.get, "/v1/fraud-alerts").status == .unauthorized)
            let admin = try await web.administrator()
            #expect(try await web.request(.get, "/v1/fraud-alerts", token: admin).object["items"] as? [Any] != nil)
            // A swarm: ten brand-new accounts each buy once from one seller and praise them within a week.
            let seller = try await web.user("shill-target", roles: ["seller"])
            var puppets: [String] = []
            for index in 0..<10 {
                let puppet = try await web.user("puppet\(index)")
                let order = try await web.completedTrade(buyer: puppet.token, seller: seller, priceMinor: 500)
                _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive","itemAsDescribed":5,"serviceAttitude":5,"shippingSpeed":5}"#, token: puppet.token)
                _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive"}"#, token: seller.token)
                puppets.append(puppet.id)
            }
            let alerts = try await web.request(.get, "/v1/fraud-alerts", token: admin)
            let items = try #require(alerts.object["items"] as? [[String: Any]])
            // Riskiest first: the seller, whose only partners are the ten (an isolated group, 0.9),
            // who was boosted by a swarm (0.3) and whose orders jumped from none to ten in a week
            // (0.5): 1 − 0.1 × 0.7 × 0.5 = 0.965. Then each puppet, for the swarm.
            #expect(items.count == 11)
            #expect(items.first?["userId"] as? String == seller.id)
            #expect(abs((items.first?["risk"] as? Double ?? 0) - 0.965) < 1e-9)
            #expect((items.first?["reasons"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["isolatedRing", "orderVolumeJump", "boostedBySwarm"])
            #expect(Set(items.dropFirst().compactMap { $0["userId"] as? String }) == Set(puppets))
            for item in items.dropFirst() {
                #expect(item["risk"] as? Double == 0.7)
                #expect((item["reasons"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["swarm"], "\(item)")
            }
            // Raise the bar and only the seller remains; every limit is checked in one place.
            let high = try await web.request(.get, "/v1/fraud-alerts?minimumRisk=0.9", token: admin)
            #expect((high.object["items"] as? [[String: Any]])?.compactMap { $0["userId"] as? String } == [seller.id])
            #expect((try await web.request(.get, "/v1/fraud-alerts?limit=3", token: admin).object["items"] as? [Any])?.count == 3)
            for query in ["limit=-1", "limit=0", "limit=101", "minimumRisk=2"] {
                let refused = try await web.request(.get, "/v1/fraud-alerts?\(query)", token: admin)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(refused.problemType == "/problems/validation-failed", "\(query): \(refused.text)")
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func profilePageBadgeAndAlertQueue(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let order = try await web.completedTrade(buyer: buyer.token, seller: seller)
            _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: Self.buyerRating, token: buyer.token)
            // Double-blind on the page too: not even its author sees a hidden rating on the public profile.
            #expect(!(try await web.request(.get, "/merchants/\(seller.id)", token: buyer.token)).text.contains("Lovely tea"))
            _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive"}"#, token: seller.token)
            // The background jobs store the recomputed scores, which make the history chart.
            try await web.services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let page = try await web.request(.get, "/merchants/\(seller.id)")
            #expect(page.status == .ok)
            for text in ["Why the score is", "Ratings from buyers", "Lovely tea", "How tiers work", "badge.svg", "<svg"] {
                #expect(page.text.contains(text), "\(text)")
            }
            let badge = try await web.request(.get, "/merchants/\(seller.id)/badge.svg")
            #expect(badge.headers[.contentType] == "image/svg+xml; charset=utf-8")
            #expect(badge.text.contains("tea"))
            #expect(badge.text.contains("/merchants/\(seller.id)"))
            #expect(try await web.request(.get, "/merchants/usr_nobody").status == .notFound)
            #expect(try await web.request(.get, "/moderation/fraud-alerts").status == .seeOther)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theHomePageRanksProvenSellers(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let proven = try await web.user("tea", roles: ["seller"])
            let newcomer = try await web.user("fresh", roles: ["seller"])
            for _ in 0..<Tier.minimumTrades { _ = try await web.completedTrade(buyer: buyer.token, seller: proven) }
            _ = try await web.completedTrade(buyer: buyer.token, seller: newcomer)
            try await web.services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let home = try await web.request(.get, "/")
            #expect(home.text.contains("<dt>Members</dt><dd>3</dd>"))
            #expect(home.text.contains("href=\"/merchants/\(proven.id)\""), "\(home.text)")
            #expect(!home.text.contains("/merchants/\(newcomer.id)"))
        }
    }
}
