import FiduciaAPI
import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
@testable import FiduciaWeb
import Foundation
import HTTPTypes
import Testing

/// Hardening found by reading the code as an attacker would (issue 15).
@Suite("Hardening: sessions, transport, names, unauthenticated writes")
struct HardeningTests {
    @Test(arguments: TestDatabases.kinds)
    func sessionsEndWhenIdleOrWhenThePasswordChanges(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let day: TimeInterval = 86_400
            let (_, token) = try await web.user("ann")
            // Used every four days: alive after eight, though the idle timeout is seven.
            web.clock.advance(by: 4 * day)
            #expect(try await web.request(.get, "/v1/users/me", token: token).status == .ok)
            web.clock.advance(by: 4 * day)
            #expect(try await web.request(.get, "/v1/users/me", token: token).status == .ok)
            // Then left alone for more than seven days: ended.
            web.clock.advance(by: 7 * day + 1)
            #expect(try await web.request(.get, "/v1/users/me", token: token).status == .unauthorized)

            // A new password ends every session opened with the old one.
            let admin = try await web.administrator()
            #expect(try await web.request(.get, "/v1/users/me", token: admin).status == .ok)
            _ = try await web.services.accounts.ensureAdministrator(email: "root@example.com", password: "a brand new password", displayName: "Root")
            #expect(try await web.request(.get, "/v1/users/me", token: admin).status == .unauthorized)
        }
    }

    @Test
    func hstsIsSentOnlyWhenTheSiteIsServedOverHTTPS() async throws {
        try await WebHarness.run(.sqlite) { web in
            let plain = try await web.request(.get, "/")
            #expect(plain.header("Strict-Transport-Security") == nil)
        }
        var secure = WebConfiguration()
        secure.secureCookies = true
        try await WebHarness.run(.sqlite, configuration: secure) { web in
            let home = try await web.request(.get, "/")
            #expect(home.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains")
            #expect(try await web.request(.get, "/health").header("Strict-Transport-Security") != nil)
        }
    }

    @Test(arguments: ["Ann\u{202E}nnA", "Ann\u{200B}", "\u{2066}Ann", "Ann\u{FEFF}", "Ann\u{00AD}Lee", "Ann\u{E0041}", "Ann\u{0600}"])
    func displayNamesThatHideOrReverseTextAreRefused(_ name: String) async throws {
        try await WebHarness.run(.sqlite) { web in
            let body = try String(decoding: JSONSerialization.data(withJSONObject: [
                "email": "ann@example.com", "password": "correct horse battery", "displayName": name,
            ]), as: UTF8.self)
            let response = try await web.request(.post, "/v1/users", json: body)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.text.contains("displayName"))
            #expect(try await web.userCount() == 0)
        }
    }

    @Test
    func forgedWebhooksNeverTakeTheWriteLock() async throws {
        try await WebHarness.run(.sqlite) { web in
            let sqlite = try #require(web.services.store.database as? SQLiteDatabaseClient)
            let forged = #"{"id":"evt_forged","type":"payout.paid","payoutId":"pay_x","created":0}"#
            // The first one may create the deployment's signing secret, once.
            _ = try await web.request(.post, "/v1/webhooks/sandbox", json: forged, headers: ["Fiducia-Signature": "t=0,v1=00"])
            let before = await sqlite.groupCommitStatistics()
            for _ in 0..<5 {
                let response = try await web.request(.post, "/v1/webhooks/sandbox", json: forged, headers: ["Fiducia-Signature": "t=0,v1=00"])
                #expect(response.problemType == "/problems/webhook-signature-invalid")
            }
            #expect(await sqlite.groupCommitStatistics().groups == before.groups)
        }
    }

    @Test
    func anUndeclaredMethodOnAnAPIPathIsRefusedWith405AndTheMethodsItTakes() async throws {
        try await WebHarness.run(.sqlite) { web in
            let token = try await web.user("ann").token
            for (method, path, allow) in [
                (HTTPRequest.Method.patch, "/v1/orders", "GET, POST"),
                (.delete, "/v1/orders/ord_123", "GET"),
                (.put, "/v1/users/me", "DELETE, GET"),
            ] {
                let signedIn = try await web.request(method, path, token: token)
                #expect(signedIn.status == .methodNotAllowed, "\(method) \(path): \(signedIn.text)")
                #expect(signedIn.header("Allow") == allow, "\(method) \(path)")
                #expect(signedIn.problemType == "/problems/method-not-allowed")
                // Which methods a path takes is public (it is in the document): said before signing in.
                #expect(try await web.request(method, path).status == .methodNotAllowed)
            }
            // A path that does not exist is still 404, and a declared method goes through.
            #expect(try await web.request(.get, "/v1/no-such-thing", token: token).status == .notFound)
            #expect(try await web.request(.get, "/v1/orders", token: token).status == .ok)
        }
    }

    @Test
    func theDocumentsLimitsAreReadFromItAndCountedInCodePoints() throws {
        let operations = try DeclaredOperations(document: OpenAPIDocument.yaml())
        let order = try #require(operations.bodyShape(method: .post, path: "/v1/orders"))
        func violation(_ json: String) throws -> String? {
            order.violation(in: try JSONSerialization.jsonObject(with: Data(json.utf8)))?.fieldErrors.first?.field
        }
        let fits = String(repeating: "x", count: 200)
        #expect(try violation(#"{"items":[{"title":"\#(fits)"}]}"#) == nil)
        // A space that trimming would drop, and letters with combining accents, count as sent.
        #expect(try violation(#"{"items":[{"title":"ok"},{"title":"\#(fits) "}]}"#) == "items[1].title")
        #expect(try violation(#"{"items":[{"title":"\#(String(repeating: "e\u{301}", count: 101))"}]}"#) == "items[0].title")
        // The number of items is the services' to check (with problems named for it).
        #expect(try violation(#"{"items":[]}"#) == nil)
        // The document's pattern: something other than white space (a no-break space is white space).
        #expect(try violation(#"{"items":[{"title":"\u00a0 "}]}"#) == "items[0].title")
        // A value of the wrong type is left to the decoder; a path parameter matches any segment.
        #expect(try violation(#"{"items":"many"}"#) == nil)
        #expect(operations.bodyShape(method: .post, path: "/v1/verifications/ver_1/decision") != nil)
        #expect(operations.bodyShape(method: .get, path: "/v1/orders") == nil)
    }

    @Test(arguments: TestDatabases.kinds)
    func aBodyOverADeclaredLimitIsRefusedBeforeAnythingIsWritten(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann").token
            let seller = try await web.signUp("tea", roles: ["seller"])
            let padded = String(repeating: "x", count: 200) + " "
            let refused = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"\#(padded)","quantity":1,"unitPriceMinor":500}]}"#, token: buyer)
            #expect(refused.status == .badRequest, "\(refused.text)")
            #expect(refused.text.contains("items[0].title"))
            #expect((try await web.request(.get, "/v1/orders", token: buyer).object["items"] as? [Any])?.isEmpty == true)
            let fits = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"\#(padded.dropLast())","quantity":1,"unitPriceMinor":500}]}"#, token: buyer)
            #expect(fits.status == .created, "\(fits.text)")
        }
    }

    @Test
    func aStrangerAskingForAnOrderIsAskedToSignIn() async throws {
        try await WebHarness.run(.sqlite) { web in
            for path in ["/v1/orders/ord_123", "/v1/orders/ord_123/messages", "/v1/orders/ord_123/ratings"] {
                let response = try await web.request(.get, path)
                #expect(response.status == .unauthorized, "\(path): \(response.text)")
            }
        }
    }

    @Test
    func aFloodOfPasswordChecksIsShedInsteadOfQueued() async throws {
        let hasher = BcryptPasswordHasher(cost: 8, threads: 1, maximumQueued: 3)
        let hash = try await hasher.hash("correct horse battery")
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    do {
                        return try await hasher.verify("correct horse battery", hash: hash) ? "checked" : "wrong"
                    } catch is PasswordWorkBusy {
                        return "shed"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        }
        // At most three ever wait or run; the rest are told at once, and nothing else happens.
        #expect(outcomes["checked", default: 0] >= 3)
        #expect(outcomes["shed", default: 0] >= 1)
        #expect(outcomes["checked", default: 0] + outcomes["shed", default: 0] == 24, "\(outcomes)")
        // Once the flood has passed, checks are accepted again.
        #expect(try await hasher.verify("correct horse battery", hash: hash))
    }

    @Test(arguments: TestDatabases.kinds)
    func logInThrottlingCountsPerAccountAndPerAddress(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            try await web.signUp("ann")
            let accounts = web.services.accounts
            // 60 guesses at once from the attacker's address: exactly ten are checked.
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<60 {
                    group.addTask {
                        do {
                            _ = try await accounts.logIn(email: "ann@example.com", password: "wrong password!", kind: .bearer, from: "203.0.113.9")
                            return "in"
                        } catch let error as AccessError {
                            return error.code
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            }
            // On a loaded machine a guess may wait past its turn for SQLite's writer and be refused
            // as busy, having counted nothing: the rest must still keep the limit exactly.
            let busy = outcomes.filter { $0.key.hasPrefix("DatabaseBusy") }.values.reduce(0, +)
            #expect(outcomes["invalid-credentials"] == min(AccountRules.logInFailureLimit, 60 - busy), "\(outcomes)")
            #expect(outcomes["too-many-log-in-attempts", default: 0] + busy == 60 - AccountRules.logInFailureLimit, "\(outcomes)")
            #expect(outcomes.keys.allSatisfy { ["invalid-credentials", "too-many-log-in-attempts"].contains($0) || $0.hasPrefix("DatabaseBusy") }, "\(outcomes)")
            // The attacker is locked out; Ann, at home, is not.
            await #expect(throws: AccessError.tooManyLogInAttempts) {
                _ = try await accounts.logIn(email: "ann@example.com", password: "correct horse battery", kind: .bearer, from: "203.0.113.9")
            }
            _ = try await accounts.logIn(email: "ann@example.com", password: "correct horse battery", kind: .bearer, from: "198.51.100.7")

            // One address trying a password on many accounts is stopped too.
            for index in 0..<AccountRules.logInFailureLimitPerAddress {
                _ = try? await accounts.logIn(email: "nobody\(index)@example.com", password: "summer2026!!", kind: .bearer, from: "192.0.2.1")
            }
            await #expect(throws: AccessError.tooManyLogInAttempts) {
                _ = try await accounts.logIn(email: "someone.else@example.com", password: "summer2026!!", kind: .bearer, from: "192.0.2.1")
            }
        }
    }

    @Test
    func createdResourcesSayWhereTheyCanBeRead() async throws {
        try await WebHarness.run(.sqlite) { web in
            let signUp = try await web.request(.post, "/v1/users", json: #"{"email":"ann@example.com","password":"correct horse battery","displayName":"Ann"}"#)
            let ann = try #require(signUp.object["id"] as? String)
            #expect(signUp.header("Location") == "/v1/users/\(ann)")
            let token = try await web.logIn("ann")
            let seller = try await web.signUp("tea", roles: ["seller"])
            let created = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#, token: token)
            let location = try #require(created.header("Location"))
            #expect(location == "/v1/orders/\(created.object["id"] as? String ?? "?")")
            let read = try await web.request(.get, location, token: token)
            #expect(read.status == .ok)
            #expect(read.object["id"] as? String == created.object["id"] as? String)
        }
    }

    @Test
    func forwardedForIsBelievedOnlyFromTrustedProxies() {
        let proxy: Set<String> = ["10.0.0.2"]
        // Straight from the client: the header is whatever the client wrote.
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: "198.51.100.7", trusted: proxy) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: nil, trusted: []) == "203.0.113.9")
        // Through the proxy: the right-most address the proxy saw, not one the client made up.
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: "198.51.100.7", trusted: proxy) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: "1.2.3.4, 198.51.100.7", trusted: proxy) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: "198.51.100.7, 10.0.0.2", trusted: proxy) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: nil, trusted: proxy) == "10.0.0.2")
    }

    /// Attack: a buyer (or a script on their behalf) fires the same keyed payment many times at
    /// once, hoping that the unit of work lets two of them charge; a colluding second account
    /// replays the buyer's key on the buyer's order.
    @Test(arguments: TestDatabases.kinds)
    func oneKeyedPaymentFiredManyTimesAtOnceChargesOnce(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let accomplice = try await web.user("eve")
            let seller = try await web.signUp("tea", roles: ["seller"])
            let created = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":4200}]}"#, token: buyer.token)
            let order = try #require(created.object["id"] as? String)
            let payment = #"{"method":"card","cardToken":"tok_visa"}"#
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await web.request(.post, "/v1/orders/\(order)/payment", json: payment, token: buyer.token, headers: ["Idempotency-Key": "pay-once"]).status.code
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            // Each is the payment's answer (first or replayed) or "still running": never a second charge.
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
            #expect(statuses.contains(200))
            let replay = try await web.request(.post, "/v1/orders/\(order)/payment", json: payment, token: buyer.token, headers: ["Idempotency-Key": "pay-once"])
            #expect(replay.status == .ok)
            #expect(replay.header("Idempotent-Replayed") == "true")
            // The accomplice's copy of the key is the accomplice's own key: it runs, and is refused.
            let stolen = try await web.request(.post, "/v1/orders/\(order)/payment", json: payment, token: accomplice.token, headers: ["Idempotency-Key": "pay-once"])
            #expect(stolen.status == .notFound)
            let charges = try await web.services.store.database.read { sql in
                try await sql.raw("SELECT amount_minor FROM sandbox_charges WHERE status = 'succeeded'").all()
            }
            #expect(charges.count == 1)
            #expect(try await web.services.ledger.balances(of: UserID(buyer.id)).first?.heldAsBuyerMinor == 4_200)
            #expect(try await web.services.ledger.verify().isClean)
        }
    }
}
