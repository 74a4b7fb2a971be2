import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Escrow API")
struct EscrowAPITests {
    static func orderBody(_ seller: String) -> String {
        #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"Longjing tea","quantity":2,"unitPriceMinor":2500}]}"#
    }

    @Test(arguments: TestDatabases.kinds)
    func aBuyerAndASellerCompleteATradeThroughTheAPI(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let policy = try await web.request(.put, "/v1/users/me/after-sales-policy", json: #"{"returnWindowDays":15,"genuineGoodsGuarantee":true}"#, token: seller.token)
            #expect(policy.status == .ok)
            #expect(try await web.request(.get, "/v1/sellers/\(seller.id)/after-sales-policy").object["returnWindowDays"] as? Int == 15)

            let created = try await web.request(.post, "/v1/orders", json: Self.orderBody(seller.id), token: buyer.token)
            #expect(created.status == .created)
            let order = created.object
            let id = try #require(order["id"] as? String)
            #expect(order["status"] as? String == "created")
            #expect(order["totalMinor"] as? Int == 5_000)
            #expect(order["buyerId"] as? String == buyer.id)
            #expect((order["policy"] as? [String: Any])?["returnWindowDays"] as? Int == 15)
            #expect((order["escrow"] as? [String: Any])?["state"] as? String == "awaitingPayment")

            let pay = #"{"method":"card","cardToken":"tok_visa"}"#
            let paid = try await web.request(.post, "/v1/orders/\(id)/payment", json: pay, token: buyer.token, headers: ["Idempotency-Key": "pay-1"])
            #expect(paid.status == .ok)
            #expect(paid.object["status"] as? String == "paid")
            #expect((paid.object["escrow"] as? [String: Any])?["state"] as? String == "held")
            let replay = try await web.request(.post, "/v1/orders/\(id)/payment", json: pay, token: buyer.token, headers: ["Idempotency-Key": "pay-1"])
            #expect(replay.text == paid.text)
            #expect(replay.header("Idempotent-Replayed") == "true")
            let again = try await web.request(.post, "/v1/orders/\(id)/payment", json: pay, token: buyer.token, headers: ["Idempotency-Key": "pay-2"])
            #expect(again.status == .conflict)
            #expect(again.problemType == "/problems/illegal-transition")

            let shipped = try await web.request(.post, "/v1/orders/\(id)/shipment", json: #"{"carrier":"SF Express","trackingNumber":"SF100"}"#, token: seller.token)
            #expect(shipped.object["status"] as? String == "shipped")
            #expect(shipped.object["confirmBy"] != nil)
            let tracked = try await web.request(.post, "/v1/orders/\(id)/tracking-events", json: #"{"location":"Hangzhou hub","description":"Departed"}"#, token: seller.token)
            #expect(((tracked.object["shipment"] as? [String: Any])?["events"] as? [Any])?.count == 1)
            let extended = try await web.request(.post, "/v1/orders/\(id)/confirmation-extension", json: #"{"days":3}"#, token: seller.token)
            #expect(extended.object["confirmationExtended"] as? Bool == true)
            #expect(try await web.request(.post, "/v1/orders/\(id)/confirmation-extension", json: #"{"days":3}"#, token: seller.token).problemType == "/problems/extension-already-used")
            // The seller cannot confirm for the buyer.
            let forbidden = try await web.request(.post, "/v1/orders/\(id)/receipt-confirmation", token: seller.token)
            #expect(forbidden.status == .forbidden)

            let completed = try await web.request(.post, "/v1/orders/\(id)/receipt-confirmation", token: buyer.token)
            #expect(completed.object["status"] as? String == "completed")
            let timeline = (completed.object["timeline"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
            #expect(timeline == ["created", "paid", "shipped", "tracking", "confirmationExtended", "receiptConfirmed"])

            let balances = try await web.request(.get, "/v1/balances", token: seller.token)
            let balance = try #require((balances.object["items"] as? [[String: Any]])?.first)
            #expect(balance["availableMinor"] as? Int == 4_900)
            #expect(try await web.request(.get, "/v1/orders/\(id)", token: (try await web.user("eve")).token).status == .notFound)

            let sellerOrders = try await web.request(.get, "/v1/orders?role=seller", token: seller.token)
            #expect((sellerOrders.object["items"] as? [Any])?.count == 1)
            #expect((try await web.request(.get, "/v1/orders?role=buyer", token: seller.token).object["items"] as? [Any])?.count == 0)

            let admin = try await web.administrator()
            let report = try await web.request(.post, "/v1/ledger/verification", token: admin)
            #expect(report.object["clean"] as? Bool == true, "\(report.text)")
            #expect(try await web.request(.post, "/v1/ledger/verification", token: buyer.token).status == .forbidden)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func badOrderRequestsAreRefusedAndWriteNothing(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let notSeller = try await web.user("bob")
            let cases: [(String, Int, String)] = [
                (#"{"sellerId":"\#(seller.id)","currency":"EUR","items":[]}"#, 400, "validation-failed"),
                (#"{"sellerId":"\#(seller.id)","currency":"euro","items":[{"title":"x","quantity":1,"unitPriceMinor":1}]}"#, 400, "validation-failed"),
                (#"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"x","quantity":1,"unitPriceMinor":-1}]}"#, 400, "validation-failed"),
                (#"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"x","quantity":"one","unitPriceMinor":1}]}"#, 400, "validation-failed"),
                (#"{"sellerId":"\#(notSeller.id)","currency":"EUR","items":[{"title":"x","quantity":1,"unitPriceMinor":1}]}"#, 404, "seller-not-found"),
                (#"{"sellerId":"\#(buyer.id)","currency":"EUR","items":[{"title":"x","quantity":1,"unitPriceMinor":1}]}"#, 422, "rule-not-met"),
            ]
            for (body, status, code) in cases {
                let response = try await web.request(.post, "/v1/orders", json: body, token: buyer.token)
                #expect(response.status.code == status, "\(body): \(response.text)")
                #expect(response.problemType == "/problems/\(code)", "\(body): \(response.text)")
            }
            // A seller-only account cannot buy.
            #expect(try await web.request(.post, "/v1/orders", json: Self.orderBody(seller.id), token: seller.token).status == .forbidden)
            let orders = try await web.services.store.read { try await $0.orders.count(.all, status: nil) }
            #expect(orders == 0)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAPIClientBuysForItsUser(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            let key = try #require(try await web.request(.post, "/v1/api-clients", json: #"{"name":"Market"}"#, token: admin).object["apiKey"] as? String)
            let buyerID = try #require(try await web.request(.post, "/v1/users", json: #"{"email":"b@example.com","displayName":"B","roles":["buyer"]}"#, token: key).object["id"] as? String)
            let seller = try await web.user("tea", roles: ["seller"])
            let created = try await web.request(.post, "/v1/orders", json: Self.orderBody(seller.id), token: key, headers: ["Fiducia-On-Behalf-Of": buyerID])
            #expect(created.status == .created)
            #expect(created.object["buyerId"] as? String == buyerID)
            // Without acting for a user, a client cannot buy.
            #expect(try await web.request(.post, "/v1/orders", json: Self.orderBody(seller.id), token: key).status == .forbidden)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func payoutsDepositsAndSignedWebhooksOverHTTP(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("tea", roles: ["seller"])
            let deposit = try await web.request(.post, "/v1/deposits", json: #"{"currency":"EUR","amountMinor":5000,"source":"card","cardToken":"tok_visa"}"#, token: seller.token)
            #expect(deposit.status == .created)
            #expect(deposit.object["depositMinor"] as? Int == 5_000)
            let declined = try await web.request(.post, "/v1/deposits", json: #"{"currency":"EUR","amountMinor":5000,"source":"card","cardToken":"tok_declined"}"#, token: seller.token)
            #expect(declined.problemType == "/problems/payment-declined")
            let broke = try await web.request(.post, "/v1/payouts", json: #"{"currency":"EUR","amountMinor":100,"destination":"DE89"}"#, token: seller.token)
            #expect(broke.status == .unprocessableContent)
            #expect(broke.problemType == "/problems/insufficient-funds")

            // Money arrives (a completed sale), then leaves by payout, settled by a signed webhook.
            let sellerID = UserID(seller.id)
            try await web.services.store.write { repositories in
                try await web.services.ledger.execute([
                    MoneyMovement(debit: .platform(.external), credit: AccountReference(.user(sellerID), .available), amountMinor: 800, mode: .posted, purpose: .cardPayment, reference: "sale"),
                ], currency: Currency("EUR")!, orderID: nil, in: repositories, now: web.clock.now())
            }
            let payout = try await web.request(.post, "/v1/payouts", json: #"{"currency":"EUR","amountMinor":800,"destination":"DE89 3704"}"#, token: seller.token)
            #expect(payout.object["status"] as? String == "pending")
            let payoutID = try #require(payout.object["id"] as? String)
            let body = #"{"id":"evt_http_1","type":"payout.paid","payoutId":"\#(payoutID)","created":0}"#
            let sandbox = try #require(web.services.payments.provider as? SandboxPaymentProvider)
            let signature = try await sandbox.signatureHeader(body: Array(body.utf8), timestamp: Int64(web.clock.now().timeIntervalSince1970))
            let unsigned = try await web.request(.post, "/v1/webhooks/sandbox", json: body)
            #expect(unsigned.status == .unauthorized)
            #expect(unsigned.problemType == "/problems/webhook-signature-invalid")
            let accepted = try await web.request(.post, "/v1/webhooks/sandbox", json: body, headers: ["Fiducia-Signature": signature])
            #expect(accepted.object["duplicate"] as? Bool == false)
            let replayed = try await web.request(.post, "/v1/webhooks/sandbox", json: body, headers: ["Fiducia-Signature": signature])
            #expect(replayed.object["duplicate"] as? Bool == true)
            let payouts = try await web.request(.get, "/v1/payouts", token: seller.token)
            #expect((payouts.object["items"] as? [[String: Any]])?.first?["status"] as? String == "paid")
        }
    }
}

@Suite("Escrow API under concurrency")
struct EscrowConcurrencyTests {
    @Test(arguments: TestDatabases.kinds)
    func manyConcurrentRequestsMoveTheMoneyOnce(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            // The guarantee fund can cover a refund after completion (the seller keeps only 98%).
            try await web.services.ledger.topUpGuaranteeFund(currency: Currency("EUR")!, amountMinor: 100_000, reference: "seed")
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let id = try #require(try await web.request(.post, "/v1/orders", json: EscrowAPITests.orderBody(seller.id), token: buyer.token).object["id"] as? String)

            // Twenty identical payments, all with one Idempotency-Key: one runs, the rest replay it
            // or are told it is in progress; never a second charge.
            let pay = #"{"method":"card","cardToken":"tok_visa"}"#
            let payments = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await web.request(.post, "/v1/orders/\(id)/payment", json: pay, token: buyer.token, headers: ["Idempotency-Key": "pay-once"]).status.code
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(payments.allSatisfy { $0 == 200 || $0 == 409 }, "\(payments)")
            #expect(payments.contains(200))
            let charges = try await web.services.store.database.read { sql in try await sql.raw("SELECT COUNT(*) AS n FROM sandbox_charges").first()!.decode(column: "n", as: Int.self) }
            #expect(charges == 1)

            _ = try await web.request(.post, "/v1/orders/\(id)/shipment", json: #"{"carrier":"X","trackingNumber":"1"}"#, token: seller.token)
            // Twenty confirmations and twenty refunds race: exactly one of the forty wins, because
            // confirming and refunding both resolve the same escrow hold.
            let results = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        if index % 2 == 0 {
                            return ("confirm", try await web.request(.post, "/v1/orders/\(id)/receipt-confirmation", token: buyer.token).status.code)
                        }
                        return ("refund", try await web.request(.post, "/v1/orders/\(id)/refund", json: "{}", token: seller.token).status.code)
                    }
                }
                return try await group.reduce(into: [(String, Int)]()) { $0.append($1) }
            }
            let winners = results.filter { $0.1 == 200 }
            // A refund may still follow a confirmation legitimately (within the return window), so
            // count the escrow resolutions: one confirmation or one pre-completion refund.
            let order = try await web.request(.get, "/v1/orders/\(id)", token: buyer.token).object
            let kinds = (order["timeline"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } ?? []
            #expect(kinds.filter { $0 == "receiptConfirmed" }.count + kinds.filter { $0 == "refunded" }.count == winners.count)
            #expect(kinds.filter { $0 == "receiptConfirmed" }.count <= 1)
            #expect(kinds.filter { $0 == "refunded" }.count <= 1)
            #expect(results.filter { $0.1 != 200 }.allSatisfy { $0.1 == 409 }, "\(results)")
            let report = try await web.services.ledger.verify()
            #expect(report.isClean, "\(report.findings)")
        }
    }
}
