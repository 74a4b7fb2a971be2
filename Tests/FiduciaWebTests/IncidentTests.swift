import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import Testing

/// Incident mode, played as the administrator who switches it, a thief holding a stolen session,
/// a seller trying to take money out, and a moderator who may not touch the switch.
@Suite("Incident mode")
struct IncidentTests {
    @Test(arguments: TestDatabases.kinds)
    func incidentModeStopsMoneyLeavingAndSignsEveryoneOut(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            _ = try await web.request(.post, "/v1/users", json: #"{"email":"mia@example.com","password":"correct horse battery","displayName":"Mia","roles":["moderator"]}"#, token: admin)
            let moderator = try await web.logIn("mia")
            let seller = try await web.user("tea", roles: ["seller"])
            let buyer = try await web.user("alice")
            let stolen = try await web.logIn("alice")   // a second session of Alice's, in a thief's hands
            let sellerID = UserID(seller.id)
            try await web.services.store.write { repositories in
                try await web.services.ledger.execute([
                    MoneyMovement(debit: .platform(.external), credit: AccountReference(.user(sellerID), .available), amountMinor: 800, mode: .posted, purpose: .cardPayment, reference: "sale"),
                ], currency: Currency("EUR")!, orderID: nil, in: repositories, now: web.clock.now())
            }
            #expect(try await web.request(.get, "/v1/incident").object["active"] as? Bool == false)

            // Only an administrator holds the switch.
            #expect(try await web.request(.post, "/v1/incident", json: #"{"reason":"x"}"#, token: moderator).status == .forbidden)
            let started = try await web.request(.post, "/v1/incident", json: #"{"reason":"We are investigating a possible leak of staff passwords."}"#, token: admin)
            #expect(started.status == .created, "\(started.text)")
            #expect(started.object["sessionsEnded"] as? Int == 4)   // Mia's, the seller's, Alice's two
            #expect(try await web.request(.post, "/v1/incident", json: #"{"reason":"again"}"#, token: admin).problemType == "/problems/incident-already-active")

            // Every other session is gone, the stolen one with the rest; the administrator's stays.
            #expect(try await web.request(.get, "/v1/users/me", token: stolen).status == .unauthorized)
            #expect(try await web.request(.get, "/v1/users/me", token: buyer.token).status == .unauthorized)
            #expect(try await web.request(.get, "/v1/users/me", token: admin).status == .ok)

            // Signing in again works; taking money out or starting an order does not.
            let sellerAgain = try await web.logIn("tea")
            let payout = try await web.request(.post, "/v1/payouts", json: #"{"currency":"EUR","amountMinor":800,"destination":"DE89 3704"}"#, token: sellerAgain)
            #expect(payout.status == .serviceUnavailable && payout.problemType == "/problems/incident-mode")
            let balances = try await web.request(.get, "/v1/balances", token: sellerAgain).object["items"] as? [[String: Any]] ?? []
            #expect(balances.first?["availableMinor"] as? Int == 800)
            let buyerAgain = try await web.logIn("alice")
            let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#, token: buyerAgain)
            #expect(order.status == .serviceUnavailable)
            #expect(order.text.contains("possible leak of staff passwords"))

            // Everyone is told, on every page.
            let home = try await web.request(.get, "/")
            #expect(home.text.contains(#"id="incident-banner""#) && home.text.contains("possible leak of staff passwords"))
            #expect(try await web.request(.get, "/v1/incident").object["active"] as? Bool == true)

            // Switched off: trading resumes, the banner goes; both switches are on the record.
            #expect(try await web.request(.delete, "/v1/incident", token: admin).object["active"] as? Bool == false)
            #expect(try await web.request(.delete, "/v1/incident", token: admin).problemType == "/problems/no-incident")
            web.clock.advance(by: 5)   // past the banner's cache
            #expect(!(try await web.request(.get, "/")).text.contains("incident-banner"))
            #expect(try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#, token: buyerAgain).status == .created)
            #expect(try await web.request(.post, "/v1/payouts", json: #"{"currency":"EUR","amountMinor":800,"destination":"DE89 3704"}"#, token: sellerAgain).status == .created)
            let events = try await web.request(.get, "/v1/audit-events", token: admin).object["items"] as? [[String: Any]] ?? []
            #expect(events.compactMap { $0["action"] as? String }.prefix(2) == ["incident.end", "incident.start"])
        }
    }
}
