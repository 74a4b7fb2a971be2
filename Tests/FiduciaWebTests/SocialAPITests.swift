import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Friends, trust lists, the network's view and risk warnings over the API")
struct SocialAPITests {
    /// `from` asks `to`, and `to` accepts.
    func befriend(_ web: WebHarness, _ from: (id: String, token: String), _ to: (id: String, token: String)) async throws {
        let sent = try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(to.id)","message":"We met at the market"}"#, token: from.token)
        try #require(sent.status == .created, "\(sent.text)")
        let id = try #require(sent.object["id"] as? String)
        let answered = try await web.request(.post, "/v1/friend-requests/\(id)/answer", json: #"{"accept":true}"#, token: to.token)
        try #require(answered.object["state"] as? String == "accepted", "\(answered.text)")
    }

    func friendIDs(_ web: WebHarness, _ token: String) async throws -> [String] {
        let circle = try await web.request(.get, "/v1/friends", token: token)
        return (circle.object["friends"] as? [[String: Any]])?.compactMap { $0["userId"] as? String } ?? []
    }

    @Test(arguments: TestDatabases.kinds)
    func friendRequestsFollowTheirRules(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let ann = try await web.user("ann"), bob = try await web.user("bob"), eve = try await web.user("eve")
            let sent = try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(bob.id)"}"#, token: ann.token)
            #expect(sent.status == .created)
            let id = try #require(sent.object["id"] as? String)
            // Twice, or back the other way, is a conflict; to oneself is invalid.
            #expect(try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(bob.id)"}"#, token: ann.token).problemType == "/problems/friend-request-already-sent")
            #expect(try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(ann.id)"}"#, token: bob.token).problemType == "/problems/friend-request-waiting-for-you")
            #expect(try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(ann.id)"}"#, token: ann.token).status == .unprocessableContent)
            // Only the recipient answers; someone else's answer finds nothing.
            #expect(try await web.request(.post, "/v1/friend-requests/\(id)/answer", json: #"{"accept":true}"#, token: eve.token).status == .notFound)
            #expect(try await web.request(.post, "/v1/friend-requests/\(id)/answer", json: #"{"accept":true}"#, token: ann.token).status == .notFound)
            let incoming = try await web.request(.get, "/v1/friends", token: bob.token)
            #expect((incoming.object["incoming"] as? [[String: Any]])?.first?["fromUserId"] as? String == ann.id)
            #expect(try await web.request(.post, "/v1/friend-requests/\(id)/answer", json: #"{"accept":true}"#, token: bob.token).status == .ok)
            #expect(try await web.request(.post, "/v1/friend-requests/\(id)/answer", json: #"{"accept":false}"#, token: bob.token).problemType == "/problems/friend-request-already-answered")
            #expect(try await friendIDs(web, ann.token) == [bob.id])
            #expect(try await friendIDs(web, bob.token) == [ann.id])
            #expect(try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(bob.id)"}"#, token: ann.token).problemType == "/problems/already-friends")
            // Friendship ends for both.
            #expect(try await web.request(.delete, "/v1/friends/\(ann.id)", token: bob.token).status == .noContent)
            #expect(try await friendIDs(web, ann.token).isEmpty)
            #expect(try await web.request(.delete, "/v1/friends/\(ann.id)", token: bob.token).problemType == "/problems/not-friends")
            // A declined request leaves no friendship; the stranger can ask again later.
            let again = try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(eve.id)"}"#, token: ann.token)
            let againID = try #require(again.object["id"] as? String)
            #expect(try await web.request(.post, "/v1/friend-requests/\(againID)/answer", json: #"{"accept":false}"#, token: eve.token).object["state"] as? String == "declined")
            #expect(try await friendIDs(web, eve.token).isEmpty)
            // A request still waiting is withdrawn by its sender only, once.
            let pending = try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(bob.id)"}"#, token: eve.token)
            let pendingID = try #require(pending.object["id"] as? String)
            #expect(try await web.request(.delete, "/v1/friend-requests/\(pendingID)", token: bob.token).status == .notFound)
            #expect(try await web.request(.delete, "/v1/friend-requests/\(pendingID)", token: eve.token).status == .noContent)
            #expect(try await web.request(.delete, "/v1/friend-requests/\(pendingID)", token: eve.token).problemType == "/problems/friend-request-already-answered")
            #expect((try await web.request(.get, "/v1/friends", token: bob.token).object["incoming"] as? [[String: Any]])?.isEmpty == true)
            // Signed out, nothing.
            #expect(try await web.request(.get, "/v1/friends").status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aBlockedUserCanNeitherAskNorMessageNorSeeLists(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let ann = try await web.user("ann"), bob = try await web.user("bob")
            let shop = try await web.user("shop", roles: ["seller"])
            try await befriend(web, ann, bob)
            _ = try await web.completedTrade(buyer: ann.token, seller: shop)
            #expect(try await web.request(.put, "/v1/me/trust-list/\(shop.id)", json: #"{"list":"trusted","note":"Fast and honest"}"#, token: ann.token).status == .ok)
            #expect(try await web.request(.put, "/v1/me/trust-list-visibility", json: #"{"list":"trusted","visibility":"public"}"#, token: ann.token).status == .noContent)
            #expect(try await web.request(.get, "/v1/users/\(ann.id)/trust-list", token: bob.token).status == .ok)

            // The shop's buyer blocks the shop: the friendship-free block still stops its messages.
            let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(shop.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":900}]}"#, token: ann.token)
            let orderID = try #require(order.object["id"] as? String)
            #expect(try await web.request(.put, "/v1/blocks/\(shop.id)", token: ann.token).status == .noContent)
            let message = try await web.request(.post, "/v1/orders/\(orderID)/messages", json: #"{"text":"Pay me by bank transfer"}"#, token: shop.token)
            #expect(message.status == .forbidden)
            #expect(message.problemType == "/problems/messages-refused")
            // The buyer, who blocked, can still write about their own order.
            #expect(try await web.request(.post, "/v1/orders/\(orderID)/messages", json: #"{"text":"Please ship"}"#, token: ann.token).status == .created)

            // Blocking a friend ends the friendship; the blocked person cannot ask again, and sees
            // no list at all, not even a public one: a 404, as if there were none.
            #expect(try await web.request(.put, "/v1/blocks/\(bob.id)", token: ann.token).status == .noContent)
            #expect(try await friendIDs(web, bob.token).isEmpty)
            let refused = try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(ann.id)"}"#, token: bob.token)
            #expect(refused.status == .forbidden)
            #expect(refused.problemType == "/problems/not-accepting-requests")
            #expect(try await web.request(.get, "/v1/users/\(ann.id)/trust-list", token: bob.token).problemType == "/problems/trust-list-not-found")
            // Everyone else sees the public list; unblocking restores Bob's view.
            #expect(try await web.request(.get, "/v1/users/\(ann.id)/trust-list").status == .ok)
            #expect(try await web.request(.delete, "/v1/blocks/\(bob.id)", token: ann.token).status == .noContent)
            #expect(try await web.request(.get, "/v1/users/\(ann.id)/trust-list", token: bob.token).status == .ok)
            // The one who blocked cannot ask either, until they unblock.
            #expect(try await web.request(.post, "/v1/friend-requests", json: #"{"userId":"\#(shop.id)"}"#, token: ann.token).problemType == "/problems/you-blocked-this-person")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func listsHoldOnlyTradePartnersAndShowOnlyToWhomTheyMay(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let ann = try await web.user("ann"), bob = try await web.user("bob"), stranger = try await web.user("stranger")
            let shop = try await web.user("shop", roles: ["seller"]), rival = try await web.user("rival", roles: ["seller"])
            try await befriend(web, ann, bob)
            // No trade with the rival: it cannot be warned about (a list cannot be stuffed).
            let refused = try await web.request(.put, "/v1/me/trust-list/\(rival.id)", json: #"{"list":"warned"}"#, token: ann.token)
            #expect(refused.status == .forbidden)
            #expect(refused.problemType == "/problems/not-a-trade-partner")
            _ = try await web.completedTrade(buyer: ann.token, seller: shop)
            let long = String(repeating: "x", count: 281)
            #expect(try await web.request(.put, "/v1/me/trust-list/\(shop.id)", json: #"{"list":"warned","note":"\#(long)"}"#, token: ann.token).status == .badRequest)
            let entry = try await web.request(.put, "/v1/me/trust-list/\(shop.id)", json: #"{"list":"warned","note":"Sent a fake"}"#, token: ann.token)
            #expect(entry.object["merchantName"] as? String == "shop")

            // Friends (the default): the owner and friends see it; a stranger and the signed-out do not.
            // (nil notes: the warn list is not shown at all.)
            func warned(_ token: String?) async throws -> (status: HTTPResponse.Status, notes: [String]?) {
                let response = try await web.request(.get, "/v1/users/\(ann.id)/trust-list", token: token)
                let lists = response.object["lists"] as? [[String: Any]] ?? []
                let entries = lists.first { $0["list"] as? String == "warned" }?["entries"] as? [[String: Any]]
                return (response.status, entries?.compactMap { $0["note"] as? String })
            }
            #expect(try await warned(ann.token).notes == ["Sent a fake"])
            #expect(try await warned(bob.token).notes == ["Sent a fake"])
            #expect(try await warned(stranger.token).status == .notFound)
            #expect(try await warned(nil).status == .notFound)
            // Private: the owner alone; a friend sees the (empty) trusted list, and no warn list.
            #expect(try await web.request(.put, "/v1/me/trust-list-visibility", json: #"{"list":"warned","visibility":"private"}"#, token: ann.token).status == .noContent)
            #expect(try await warned(ann.token).notes == ["Sent a fake"])
            #expect(try await warned(bob.token).status == .ok)
            #expect(try await warned(bob.token).notes == nil)
            // Both lists private: nothing for the friend, as for a stranger.
            #expect(try await web.request(.put, "/v1/me/trust-list-visibility", json: #"{"list":"trusted","visibility":"private"}"#, token: ann.token).status == .noContent)
            #expect(try await warned(bob.token).status == .notFound)
            // Public: everyone.
            #expect(try await web.request(.put, "/v1/me/trust-list-visibility", json: #"{"list":"warned","visibility":"public"}"#, token: ann.token).status == .noContent)
            #expect(try await warned(nil).notes == ["Sent a fake"])
            #expect(try await warned(stranger.token).notes == ["Sent a fake"])
            // Removing, then removing again.
            #expect(try await web.request(.delete, "/v1/me/trust-list/\(shop.id)", token: ann.token).status == .noContent)
            #expect(try await web.request(.delete, "/v1/me/trust-list/\(shop.id)", token: ann.token).problemType == "/problems/not-on-trust-list")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theNetworkViewAndTheWarningsShowWhatFriendsKnow(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let ann = try await web.user("ann"), bob = try await web.user("bob"), cat = try await web.user("cat"), dan = try await web.user("dan")
            let shop = try await web.user("shop", roles: ["seller"])
            try await befriend(web, ann, bob)
            try await befriend(web, bob, cat)
            // Without a network, the view is everyone's.
            let alone = try await web.request(.get, "/v1/users/\(shop.id)/network-view", token: dan.token)
            #expect(alone.object["personalizedTrust"] as? Double == alone.object["globalTrust"] as? Double)
            #expect((alone.object["voices"] as? [Any])?.isEmpty == true)

            // Bob (a friend) and Cat (a friend of a friend) traded, rated well and list the shop as
            // trusted, each to their friends only.
            for friend in [bob, cat] {
                let order = try await web.completedTrade(buyer: friend.token, seller: shop)
                let rated = try await web.request(.post, "/v1/orders/\(order)/rating", json: TrustAPITests.buyerRating, token: friend.token)
                #expect(rated.status == .ok, "\(rated.text)")
                #expect(try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive"}"#, token: shop.token).status == .ok)
                #expect(try await web.request(.put, "/v1/me/trust-list/\(shop.id)", json: #"{"list":"trusted"}"#, token: friend.token).status == .ok)
            }
            // Ann sees Bob's list; of Cat she sees only the public rating, not the friends-only list.
            let before = try await web.request(.get, "/v1/users/\(shop.id)/network-view", token: ann.token)
            #expect((before.object["voices"] as? [[String: Any]])?.map { $0["verdict"] as? String } == ["listedTrusted", "tradedWell"])
            #expect(try await web.request(.put, "/v1/me/trust-list-visibility", json: #"{"list":"trusted","visibility":"public"}"#, token: cat.token).status == .noContent)
            let view = try await web.request(.get, "/v1/users/\(shop.id)/network-view", token: ann.token)
            let voices = try #require(view.object["voices"] as? [[String: Any]])
            #expect(voices.map { $0["displayName"] as? String } == ["bob", "cat"])
            #expect(voices.map { $0["hops"] as? Int } == [1, 2])
            #expect(voices.allSatisfy { $0["verdict"] as? String == "listedTrusted" })
            let personal = try #require(view.object["personalizedTrust"] as? Double)
            let global = try #require(view.object["globalTrust"] as? Double)
            #expect(personal > global)
            #expect((view.object["summary"] as? [String])?.contains("1 friend lists them as trusted.") == true)
            // Cat's own view has Bob as a friend (and not herself).
            let catView = try await web.request(.get, "/v1/users/\(shop.id)/network-view", token: cat.token)
            #expect((catView.object["voices"] as? [[String: Any]])?.map { $0["displayName"] as? String } == ["bob"])

            // Bob now warns against the shop: Ann sees it before paying, with the article.
            #expect(try await web.request(.put, "/v1/me/trust-list/\(shop.id)", json: #"{"list":"warned","note":"Second order never came"}"#, token: bob.token).status == .ok)
            let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(shop.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":2500}]}"#, token: ann.token)
            let orderID = try #require(order.object["id"] as? String)
            #expect(try await web.request(.post, "/v1/orders/\(orderID)/messages", json: #"{"text":"Cheaper if you pay me directly by bank transfer"}"#, token: shop.token).status == .created)
            let warnings = try await web.request(.get, "/v1/orders/\(orderID)/risk-warnings", token: ann.token)
            let items = try #require(warnings.object["items"] as? [[String: Any]], "\(warnings.text)")
            let kinds = items.compactMap { $0["kind"] as? String }
            #expect(kinds.contains("friendWarned"))
            #expect(kinds.contains("outsideEscrow"))
            #expect(kinds.contains("newAccount"))
            #expect(items.allSatisfy { ($0["learnMore"] as? String)?.contains("/learn/") == true })
            #expect(items.first { $0["kind"] as? String == "friendWarned" }?["message"] as? String == "Your friend bob would not trade with this seller again.")
            // Nobody else's order: not found.
            #expect(try await web.request(.get, "/v1/orders/\(orderID)/risk-warnings", token: dan.token).status == .notFound)
            // Once Bob makes his warn list private, Ann no longer sees it.
            #expect(try await web.request(.put, "/v1/me/trust-list-visibility", json: #"{"list":"warned","visibility":"private"}"#, token: bob.token).status == .noContent)
            let after = try await web.request(.get, "/v1/orders/\(orderID)/risk-warnings", token: ann.token)
            #expect((after.object["items"] as? [[String: Any]])?.contains { $0["kind"] as? String == "friendWarned" } == false)
        }
    }

    /// The network view is served from the cache while nothing it depends on changed, and never
    /// after: a published rating, a list entry, a hidden rating or an ended friendship shows at once.
    @Test(arguments: TestDatabases.kinds)
    func networkViewsAreCachedUntilAnEdgeChanges(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let ann = try await web.user("ann"), bob = try await web.user("bob")
            let shop = try await web.user("shop", roles: ["seller"])
            let admin = try await web.administrator()
            try await befriend(web, ann, bob)
            func verdicts() async throws -> [String] {
                let view = try await web.request(.get, "/v1/users/\(shop.id)/network-view", token: ann.token)
                return (view.object["voices"] as? [[String: Any]])?.compactMap { $0["verdict"] as? String } ?? []
            }
            func hits() async -> Int { await web.services.social.networkViewCacheStatistics().hits }

            #expect(try await verdicts().isEmpty)
            #expect(try await verdicts().isEmpty)
            #expect(await hits() == 1)
            // Bob's rating is published (both rated): seen at once, then cached again.
            let order = try await web.completedTrade(buyer: bob.token, seller: shop)
            #expect(try await web.request(.post, "/v1/orders/\(order)/rating", json: TrustAPITests.buyerRating, token: bob.token).status == .ok)
            // An unpublished rating changes nothing: still served from the cache.
            #expect(try await verdicts().isEmpty, "hidden until both have rated")
            #expect(await hits() == 2)
            #expect(try await web.request(.post, "/v1/orders/\(order)/rating", json: #"{"overall":"positive"}"#, token: shop.token).status == .ok)
            #expect(try await verdicts() == ["tradedWell"])
            #expect(try await verdicts() == ["tradedWell"])
            #expect(await hits() == 3)
            // A moderator hides Bob's rating: it no longer speaks.
            let ratings = try await web.request(.get, "/v1/orders/\(order)/ratings", token: bob.token)
            let ratingID = try #require((ratings.object["items"] as? [[String: Any]])?.first { $0["raterId"] as? String == bob.id }?["id"] as? String, "\(ratings.text)")
            let report = try await web.request(.post, "/v1/reports", json: #"{"targetKind":"rating","targetId":"\#(ratingID)","category":"fakeRating","text":"Bought"}"#, token: ann.token)
            let reportID = try #require(report.object["id"] as? String, "\(report.text)")
            #expect(try await web.request(.post, "/v1/reports/\(reportID)/resolution", json: #"{"outcome":"hideRating","reasons":"Bought rating"}"#, token: admin).status == .ok)
            #expect(try await verdicts().isEmpty)
            // His list entry speaks instead; ending the friendship silences him.
            #expect(try await web.request(.put, "/v1/me/trust-list/\(shop.id)", json: #"{"list":"warned"}"#, token: bob.token).status == .ok)
            #expect(try await verdicts() == ["listedWarned"])
            #expect(try await web.request(.delete, "/v1/friends/\(bob.id)", token: ann.token).status == .noContent)
            #expect(try await verdicts().isEmpty)
            #expect(await hits() == 3)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aTenfoldJumpInOrdersReachesTheModeratorsQueue(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let shop = try await web.user("shop", roles: ["seller"])
            // One order a month ago, then twelve this week (after a new log-in: an idle session ends).
            _ = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(shop.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":900}]}"#, token: buyer.token)
            web.clock.advance(by: 25 * 86_400)
            let admin = try await web.administrator()
            let token = try await web.logIn("ann")
            for _ in 0..<12 {
                let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(shop.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":900}]}"#, token: token)
                #expect(order.status == .created)
            }
            let alerts = try await web.request(.get, "/v1/fraud-alerts", token: admin)
            let items = try #require(alerts.object["items"] as? [[String: Any]], "\(alerts.text)")
            let shopAlert = try #require(items.first { $0["userId"] as? String == shop.id }, "\(alerts.text)")
            let reasons = shopAlert["reasons"] as? [[String: Any]] ?? []
            #expect(reasons.contains { $0["kind"] as? String == "orderVolumeJump" && ($0["explanation"] as? String)?.hasPrefix("12 orders in the last 7 days") == true })
            #expect(try await web.request(.get, "/v1/fraud-alerts", token: token).status == .forbidden)
        }
    }

    /// A seller who blocks a buyer with money in escrow silences the buyer's order messages, and
    /// nothing else: the buyer still disputes, and the money stays where escrow keeps it.
    @Test(arguments: TestDatabases.kinds)
    func aSellerCannotBlockABuyerOutOfTheirProtection(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("shop", roles: ["seller"])
            let order = try await DisputesAPITests.shippedOrder(web, buyer: buyer, seller: seller)
            #expect(try await web.request(.put, "/v1/blocks/\(buyer.id)", token: seller.token).status == .noContent)
            #expect(try await web.request(.post, "/v1/orders/\(order)/messages", json: #"{"text":"Where is my parcel?"}"#, token: buyer.token).problemType == "/problems/messages-refused")
            let dispute = try await web.request(.post, "/v1/orders/\(order)/disputes", json: #"{"reason":"notReceived","description":"Nothing arrived."}"#, token: buyer.token)
            #expect(dispute.status == .created, "\(dispute.text)")
            let shown = try await web.request(.get, "/v1/orders/\(order)", token: buyer.token)
            #expect((shown.object["escrow"] as? [String: Any])?["state"] as? String == "frozen", "\(shown.text)")
            // Receipt was never confirmed, so nothing was released to the seller.
            let ledger = try await web.services.store.read { try await $0.ledger.account(owner: .user(UserID(seller.id)), kind: .available, currency: Currency("EUR")!) }
            #expect((ledger?.balances.spendable ?? 0) == 0)
        }
    }
}
