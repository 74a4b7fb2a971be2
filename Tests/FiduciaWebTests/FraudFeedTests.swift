import Crypto
import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import FiduciaWeb
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Two Fiducia instances on loopback share a fraud feed (D6): the first bans a fraudster for
/// good and publishes keyed hashes; the second pulls the signed feed, checks it against the key
/// it pinned, and alerts its moderators to its own account with the same e-mail.
@Suite("Fraud feed between two instances")
struct FraudFeedTests {
    static let sharedKey = "a secret the two marketplaces agreed on, 32+ chars"

    @Test(arguments: TestDatabases.kinds)
    func aFinalBanOnOneInstanceRaisesAnAlertOnItsPartner(_ kind: TestDatabaseKind) async throws {
        var publisherSettings = ServiceSettings.forTests
        publisherSettings.fraudFeed = FraudFeedSettings(key: Self.sharedKey)
        publisherSettings.publicURL = "http://market-a.test"
        let clockA = ManualClock()
        try await TestDatabases.withDatabase(.sqlite) { database, _ in
            // Instance A: Mallory defrauds a buyer, is banned, and does not appeal in time.
            let a = AppServices(database: database, vault: try await TestDatabases.vault(database), settings: publisherSettings, clock: clockA)
            let mallory = try await a.accounts.signUp(.init(email: "Mallory@Example.com", password: "correct horse battery", displayName: "Mallory", roles: [.seller]), by: .anonymous)
            let (admin, _) = try await a.accounts.ensureAdministrator(email: "root@a.test", password: "correct horse battery", displayName: "Root")
            let staff = Principal.user(admin, session: SessionID("ses_test"))
            _ = try await a.penalties.apply(violation: "fraud", to: mallory.id, facts: "Took payment for goods never sent, five times.", by: staff)
            #expect(try await a.fraudFeed.publishProven() == 0, "not final while the appeal window is open")
            clockA.advance(by: 184 * 86_400)
            #expect(try await a.fraudFeed.publishProven() == 1)
            #expect(try await a.fraudFeed.publishProven() == 0, "listed once")

            let application = Application(router: try await buildRouter(services: a, configuration: WebConfiguration()), logger: TestDatabases.logger)
            try await application.test(.live) { client in
                let port = try #require(client.port)
                let feedURL = "http://localhost:\(port)"
                // The feed names nobody: hashes only, signed by A's key.
                let served = try await client.execute(uri: "/v1/fraud-feed", method: .get)
                let body = String(buffer: served.body)
                #expect(served.status == .ok && !body.lowercased().contains("mallory") && body.contains("emailHash"))
                let publicKey = a.vault.signingKey.publicKey.rawRepresentation.base64EncodedString()

                var settings = ServiceSettings.forTests
                settings.fraudFeed = FraudFeedSettings(key: Self.sharedKey, partners: [FraudFeedPartner(name: "Market A", url: feedURL, publicKey: publicKey)])
                let subscriberSettings = settings
                try await WebHarness.run(kind, settings: subscriberSettings) { b in
                    // Instance B: Mallory has an account here too, under the same address written otherwise.
                    let here = try await b.services.accounts.signUp(.init(email: " mallory@example.COM", password: "correct horse battery", displayName: "M.", roles: [.seller]), by: .anonymous)
                    _ = try await b.signUp("honest")
                    let (reports, matches) = try await b.services.fraudFeed.pull()
                    #expect(reports.map(\.partner) == ["Market A"] && reports.first?.problem == nil && reports.first?.entries == 1)
                    #expect(matches.map(\.userID) == [here.id])
                    #expect(matches.first?.kinds == [.email] && matches.first?.reason == "Fraud")
                    // Pulling again finds nothing new.
                    #expect(try await b.services.fraudFeed.pull().matches.isEmpty)

                    // B's moderators see the alert; nobody else does.
                    let bAdmin = try await b.administrator()
                    let listed = try await b.request(.get, "/v1/fraud-feed/matches", token: bAdmin).object["items"] as? [[String: Any]] ?? []
                    #expect(listed.first?["userId"] as? String == here.id.rawValue && listed.first?["partner"] as? String == "Market A")
                    let buyer = try await b.user("bob")
                    #expect(try await b.request(.get, "/v1/fraud-feed/matches", token: buyer.token).status == .forbidden)
                    var page = PageBrowser(web: b)
                    try await page.logIn("root")
                    let alerts = try await page.visit(.get, "/moderation/fraud-alerts")
                    #expect(alerts.text.contains(#"id="partner-matches""#) && alerts.text.contains("Market A"))

                    // A feed signed by any other key than the pinned one is refused, and changes nothing.
                    var impostor = subscriberSettings
                    impostor.fraudFeed.partners = [FraudFeedPartner(name: "Market A?", url: feedURL, publicKey: Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString())]
                    let suspicious = AppServices(database: b.services.store.database, vault: b.services.vault, settings: impostor, clock: b.clock)
                    let refused = try await suspicious.fraudFeed.pull()
                    #expect(refused.reports.first?.problem?.contains("does not verify") == true)
                    #expect(refused.matches.isEmpty)
                    #expect((try await b.request(.get, "/v1/fraud-feed/matches", token: bAdmin).object["items"] as? [Any])?.count == 1)

                    // A partner that cannot be reached withdraws nothing.
                    var unreachable = subscriberSettings
                    unreachable.fraudFeed.partners = [FraudFeedPartner(name: "Market A", url: "http://localhost:1", publicKey: publicKey)]
                    let offline = AppServices(database: b.services.store.database, vault: b.services.vault, settings: unreachable, clock: b.clock)
                    #expect(try await offline.fraudFeed.pull().reports.first?.problem != nil)
                    let standing = try await b.request(.get, "/v1/fraud-feed/matches", token: bAdmin).object["items"] as? [[String: Any]] ?? []
                    #expect(standing.count == 1 && standing.first?["withdrawnAt"] == nil)

                    // A finds it listed Mallory in error and withdraws the entry: it leaves A's feed for
                    // good (the hourly job does not list it again), audited; B's next pull marks its
                    // match withdrawn, and the alert says so.
                    await #expect(throws: (any Error).self) { try await a.fraudFeed.withdraw(user: mallory.id, reason: "no") }
                    let entry = try await a.fraudFeed.withdraw(user: mallory.id, reason: "The ruling was set aside by a court.")
                    #expect(!String(buffer: try await client.execute(uri: "/v1/fraud-feed", method: .get).body).contains(entry))
                    #expect(try await a.fraudFeed.publishProven() == 0, "a withdrawn entry is never listed again")
                    await #expect(throws: (any Error).self) { try await a.fraudFeed.withdraw(user: mallory.id, reason: "twice") }
                    let events = try await a.audit.events(page: try PageRequest(limit: 5), by: staff).items
                    #expect(events.first?.action == "fraud-feed.withdraw" && events.first?.actor == "operator")
                    let after = try await b.services.fraudFeed.pull()
                    #expect(after.reports.first?.entries == 0 && after.matches.isEmpty)
                    let withdrawn = try await b.request(.get, "/v1/fraud-feed/matches", token: bAdmin).object["items"] as? [[String: Any]] ?? []
                    #expect(withdrawn.count == 1 && withdrawn.first?["withdrawnAt"] != nil, "\(withdrawn)")
                    #expect(try await page.visit(.get, "/moderation/fraud-alerts").text.contains("Withdrawn by Market A"))
                }
            }
        }
    }
}
