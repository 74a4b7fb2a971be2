import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Disputes, messages, reports, penalties, appeals and outbound webhooks over HTTP, through the
/// real application, on SQLite and PostgreSQL.
@Suite("Disputes API")
struct DisputesAPITests {
    typealias Party = MoneySafetyTests.Party

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 64)
    static let pdf: [UInt8] = Array("%PDF-1.7\n%fake evidence\n".utf8)

    static func upload(_ web: WebHarness, _ bytes: [UInt8], name: String, token: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.authorization] = "Bearer \(token)"
        let path = "/v1/attachments?fileName=" + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "."))) ?? name)
        return try await web.client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    static func shippedOrder(_ web: WebHarness, buyer: Party, seller: Party, priceMinor: Int64 = 10_000) async throws -> String {
        let order = try await MoneySafetyTests.order(web, buyer: buyer, seller: seller, priceMinor: priceMinor)
        try #require(try await MoneySafetyTests.pay(web, order, buyer: buyer).status == .ok)
        try #require(try await web.request(.post, "/v1/orders/\(order)/shipment", json: #"{"carrier":"DHL","trackingNumber":"JJD1"}"#, token: seller.token).status == .ok)
        return order
    }

    /// The bad inputs the issue names each get a named problem and write nothing.
    @Test(arguments: TestDatabases.kinds)
    func badDisputeInputIsRefusedByName(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            let claim = #"{"reason":"notReceived","description":"Nothing arrived."}"#

            let unknown = try await web.request(.post, "/v1/orders/ord_nothing/disputes", json: claim, token: buyer.token)
            #expect(unknown.status == .notFound)
            #expect(unknown.problemType == "/problems/not-found")

            let unpaid = try await MoneySafetyTests.order(web, buyer: buyer, seller: seller, priceMinor: 5_000)
            let early = try await web.request(.post, "/v1/orders/\(unpaid)/disputes", json: claim, token: buyer.token)
            #expect(early.status == .conflict, "\(early.text)")
            #expect(early.problemType == "/problems/illegal-transition")

            // A PDF named .png lies about its type; a GIF is not accepted at all.
            let liar = try await Self.upload(web, Self.pdf, name: "photo.png", token: buyer.token)
            #expect(liar.status == .badRequest)
            #expect(liar.problemType == "/problems/attachment-type-mismatch")
            let gif = try await Self.upload(web, Array("GIF89a....".utf8), name: "cat.gif", token: buyer.token)
            #expect(gif.problemType == "/problems/attachment-type-not-allowed")
            let huge = try await Self.upload(web, Self.png + Array(repeating: 0, count: AttachmentRules.maximumBytes), name: "big.png", token: buyer.token)
            #expect(huge.status == .contentTooLarge)

            let order = try await Self.shippedOrder(web, buyer: buyer, seller: seller)
            var ids: [String] = []
            for index in 0..<6 {
                let uploaded = try await Self.upload(web, Self.png, name: "photo\(index).png", token: buyer.token)
                try #require(uploaded.status == .created, "\(uploaded.text)")
                ids.append(try #require(uploaded.object["id"] as? String))
            }
            let idList = ids.map { "\"\($0)\"" }.joined(separator: ",")
            let six = try await web.request(.post, "/v1/orders/\(order)/disputes",
                                            json: #"{"reason":"damaged","description":"Broken.","attachmentIds":[\#(idList)]}"#, token: buyer.token)
            #expect(six.status == .badRequest, "\(six.text)")
            #expect(six.problemType == "/problems/too-many-attachments")
            // Someone else's upload cannot be attached.
            let stranger = try await web.user("eve")
            let stolen = try await web.request(.post, "/v1/orders/\(order)/messages", json: #"{"text":"hi","attachmentIds":["\#(ids[0])"]}"#, token: stranger.token)
            #expect(stolen.status == .notFound)
            // Nothing of the refused attempts was written.
            let none = try await web.request(.get, "/v1/disputes", token: buyer.token)
            #expect((none.object["items"] as? [Any])?.isEmpty == true)
            let asBuyer = try await web.request(.get, "/v1/orders/\(order)", token: buyer.token)
            #expect((asBuyer.object["escrow"] as? [String: Any])?["state"] as? String == "held")

            let opened = try await web.request(.post, "/v1/orders/\(order)/disputes",
                                               json: #"{"reason":"damaged","description":"Broken.","attachmentIds":["\#(ids[0])"]}"#, token: buyer.token)
            #expect(opened.status == .created, "\(opened.text)")
            #expect(opened.object["status"] as? String == "awaitingSeller")
            let second = try await web.request(.post, "/v1/orders/\(order)/disputes", json: claim, token: buyer.token)
            #expect(second.status == .conflict)
            #expect(second.problemType == "/problems/dispute-already-open")
            // The upload is attached once.
            let reused = try await web.request(.post, "/v1/orders/\(order)/messages", json: #"{"text":"again","attachmentIds":["\#(ids[0])"]}"#, token: buyer.token)
            #expect(reused.problemType == "/problems/attachment-not-found")
            // The escrow is frozen: no confirmation, no seller refund to release the rest.
            let frozen = try await web.request(.get, "/v1/orders/\(order)", token: buyer.token)
            #expect((frozen.object["escrow"] as? [String: Any])?["state"] as? String == "frozen")
            #expect(frozen.object["allowedActions"] as? [String] == [])
            // The seller cannot play the moderator.
            let disputeID = try #require(opened.object["id"] as? String)
            let selfRuling = try await web.request(.post, "/v1/disputes/\(disputeID)/resolution", json: #"{"outcome":"release","reasons":"mine"}"#, token: seller.token)
            #expect(selfRuling.status == .forbidden)
            try await MoneySafetyTests.expectCleanLedger(web)
        }
    }

    /// The whole loop over the API: messages, a dispute escalated and ruled, the money moved, the
    /// seller penalised, an appeal decided by a second moderator, and every change delivered,
    /// signed, to a real HTTP receiver on loopback that fails its first two attempts.
    @Test(arguments: TestDatabases.kinds)
    func aDisputeIsRuledAppealedAndDeliveredToTheMarketplace(_ kind: TestDatabaseKind) async throws {
        let receiver = WebhookReceiver(failFirst: 2)
        try await receiver.serve { port in
            try await WebHarness.run(kind) { web in
                let admin = try await web.administrator()
                _ = try await web.services.accounts.ensureAdministrator(email: "second@example.com", password: "correct horse battery", displayName: "Second")
                let second = try await web.logIn("second")
                let endpoint = try await web.request(.post, "/v1/webhook-endpoints",
                                                     json: #"{"url":"http://127.0.0.1:\#(port)/hook","events":["dispute.changed","penalty.applied","appeal.decided"]}"#, token: admin)
                try #require(endpoint.status == .created, "\(endpoint.text)")
                let secret = try #require(endpoint.object["secret"] as? String)

                let buyer = try await web.user("ann")
                let seller = try await web.user("tea", roles: ["seller"])
                let order = try await Self.shippedOrder(web, buyer: buyer, seller: seller, priceMinor: 10_000)

                // Messages are evidence: the seller answers after an hour.
                #expect(try await web.request(.post, "/v1/orders/\(order)/messages", json: #"{"text":"Where is it?"}"#, token: buyer.token).status == .created)
                web.clock.advance(by: 3_600)
                #expect(try await web.request(.post, "/v1/orders/\(order)/messages", json: #"{"text":"On its way."}"#, token: seller.token).status == .created)
                let messages = try await web.request(.get, "/v1/orders/\(order)/messages", token: buyer.token)
                #expect((messages.object["items"] as? [[String: Any]])?.map { $0["role"] as? String } == ["buyer", "seller"])
                let profile = try await web.request(.get, "/v1/users/\(seller.id)/trust-profile", token: buyer.token)
                #expect(profile.object["responseTimeSeconds"] as? Int == 3_600)

                let evidence = try await Self.upload(web, Self.png, name: "box.png", token: buyer.token)
                let evidenceID = try #require(evidence.object["id"] as? String)
                let opened = try await web.request(.post, "/v1/orders/\(order)/disputes",
                                                   json: #"{"reason":"notAsDescribed","description":"Green, not black tea.","attachmentIds":["\#(evidenceID)"]}"#, token: buyer.token)
                let dispute = try #require(opened.object["id"] as? String, "\(opened.text)")
                #expect((opened.object["deadline"] as? [String: Any])?["kind"] as? String == "sellerResponse")
                // The seller sees the buyer's file; a stranger does not.
                #expect(try await web.request(.get, "/v1/attachments/\(evidenceID)", token: seller.token).status == .ok)
                let eve = try await web.user("eve")
                #expect(try await web.request(.get, "/v1/attachments/\(evidenceID)", token: eve.token).status == .notFound)

                // The seller stays silent; the buyer asks a moderator, who takes it and rules.
                #expect(try await web.request(.post, "/v1/disputes/\(dispute)/escalation", token: buyer.token).status == .ok)
                let queue = try await web.request(.get, "/v1/disputes?scope=queue", token: admin)
                #expect((queue.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [dispute])
                #expect(try await web.request(.get, "/v1/disputes?scope=queue", token: buyer.token).status == .forbidden)
                #expect(try await web.request(.post, "/v1/disputes/\(dispute)/assignment", token: admin).status == .ok)
                let workspace = try await web.request(.get, "/v1/disputes/\(dispute)", token: admin)
                #expect((workspace.object["records"] as? [[String: Any]])?.count == 2)
                #expect(workspace.object["allowedActions"] as? [String] == ["requestEvidence", "propose", "rule"])
                let ruled = try await web.request(.post, "/v1/disputes/\(dispute)/resolution",
                                                  json: #"{"outcome":"refund","refundMinor":4000,"reasons":"The photos show green tea; the listing said black."}"#, token: admin)
                #expect(ruled.status == .ok, "\(ruled.text)")
                #expect((ruled.object["resolution"] as? [String: Any])?["how"] as? String == "ruling")

                // The money moved in the same transaction: 40.00 back to the card, the rest to the seller.
                let after = try await web.request(.get, "/v1/orders/\(order)", token: buyer.token)
                #expect(after.object["refundedMinor"] as? Int == 4_000)
                #expect(after.object["heldMinor"] as? Int == 0)
                #expect(try await MoneySafetyTests.balance(web, seller)["availableMinor"] as? Int ?? 0 > 0)
                try await MoneySafetyTests.expectCleanLedger(web)

                // The lost dispute put points on the seller's public record, with its reasons.
                let record = try await web.request(.get, "/v1/users/\(seller.id)/violations")
                let penalties = try #require(record.object["items"] as? [[String: Any]])
                #expect(penalties.map { $0["violationCode"] as? String } == ["dispute-lost"])
                #expect(((penalties.first?["reasons"] as? [String: Any])?["appeal"] as? String)?.isEmpty == false)
                let penaltyID = try #require(penalties.first?["id"] as? String)

                // Only the penalised may appeal; the moderator who ruled may not review it.
                #expect(try await web.request(.post, "/v1/penalties/\(penaltyID)/appeals", json: #"{"statement":"not mine"}"#, token: buyer.token).status == .forbidden)
                let appeal = try await web.request(.post, "/v1/penalties/\(penaltyID)/appeals", json: #"{"statement":"The listing said green tea; see its history."}"#, token: seller.token)
                let appealID = try #require(appeal.object["id"] as? String, "\(appeal.text)")
                let again = try await web.request(.post, "/v1/penalties/\(penaltyID)/appeals", json: #"{"statement":"again"}"#, token: seller.token)
                #expect(again.problemType == "/problems/appeal-pending")
                let sameModerator = try await web.request(.post, "/v1/appeals/\(appealID)/decision", json: #"{"outcome":"upheld","reasons":"I stand by it."}"#, token: admin)
                #expect(sameModerator.problemType == "/problems/different-moderator-required")
                #expect((try await web.request(.get, "/v1/appeals", token: second).object["items"] as? [Any])?.count == 1)
                let overturned = try await web.request(.post, "/v1/appeals/\(appealID)/decision", json: #"{"outcome":"overturned","reasons":"The listing history shows green tea."}"#, token: second)
                #expect(overturned.object["status"] as? String == "overturned", "\(overturned.text)")
                let cleared = try await web.request(.get, "/v1/users/\(seller.id)/violations")
                #expect((cleared.object["items"] as? [[String: Any]])?.first?["status"] as? String == "overturned")
                #expect(cleared.object["points"] as? Int == 0)
                try await MoneySafetyTests.expectCleanLedger(web)

                // Deliveries: the first two attempts fail, the receiver gets everything after the backoff.
                for _ in 0..<8 {
                    try await MoneySafetyTests.runJobs(web)
                    web.clock.advance(by: 120)
                }
                let log = try await web.request(.get, "/v1/webhook-deliveries?limit=50", token: admin)
                let deliveries = try #require(log.object["items"] as? [[String: Any]])
                #expect(!deliveries.isEmpty)
                #expect(deliveries.allSatisfy { $0["status"] as? String == "delivered" }, "\(deliveries)")
                #expect(deliveries.contains { ($0["attempts"] as? Int ?? 0) >= 2 })
                let received = await receiver.accepted
                #expect(received.count == deliveries.count)
                let types = Set(received.compactMap { ($0.json["type"] as? String) })
                #expect(types == ["dispute.changed", "penalty.applied", "appeal.decided"])
                for event in received {
                    // The signature is HMAC-SHA256 of "t.body" with the endpoint's secret.
                    let timestamp = try #require(event.signature.split(separator: ",").first.flatMap { Int64($0.dropFirst(2)) })
                    #expect(event.signature == WebhookService.signature(body: event.body, secret: secret, timestamp: timestamp))
                }
            }
        }
    }

    /// A real HTTP server on a loopback port that answers 500 to its first `failFirst` requests.
    actor WebhookReceiver {
        struct Event: Sendable {
            let body: String
            let signature: String
            var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        }

        let failFirst: Int
        private var seen = 0
        private(set) var accepted: [Event] = []

        init(failFirst: Int) {
            self.failFirst = failFirst
        }

        func receive(_ event: Event) -> Bool {
            seen += 1
            guard seen > failFirst else { return false }
            accepted.append(event)
            return true
        }

        func serve(_ body: @Sendable (Int) async throws -> Void) async throws {
            let router = Router()
            router.post("/hook") { request, _ -> HTTPResponse.Status in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                let event = Event(body: String(buffer: bytes), signature: request.headers[HTTPField.Name("Fiducia-Signature")!] ?? "")
                return await self.receive(event) ? .ok : .internalServerError
            }
            let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let application = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
                logger: TestDatabases.logger
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await application.run() }
                var ports = portStream.makeAsyncIterator()
                let port = try #require(await ports.next())
                try await body(port)
                group.cancelAll()
            }
        }
    }
}
