import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Identity: sealed personal data, verifications, invitations, seals, credentials")
struct IdentityAPITests {
    static func pdf(_ marker: String) -> String { "%PDF-1.4\n% \(marker)\n1 0 obj << >> endobj\n%%EOF\n" }

    /// Runs a program and returns its exit status and standard output.
    static func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    /// Everything the database holds, as bytes: the SQLite file with its WAL, or a `pg_dump`.
    static func rawDatabase(_ location: DatabaseLocation) throws -> Data {
        switch location {
        case .sqlite(let path):
            return [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }.reduce(Data(), +)
        case .postgres(let postgres):
            let bin = try #require(
                (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last.map { "/usr/lib/postgresql/\($0)/bin/pg_dump" }
            )
            let url = "postgresql://\(postgres.username)\(postgres.password.map { ":" + $0 } ?? "")@\(postgres.host):\(postgres.port)/\(postgres.database)"
            let dump = try run(bin, ["--dbname=\(url)", "--no-owner"])
            #expect(dump.status == 0)
            return dump.output
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func personalDataNeverReachesTheDatabaseInTheClear(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let created = try await web.request(.post, "/v1/users", json: #"{"email":"quokka.zebra@example.org","password":"correct horse battery","displayName":"Quokka","roles":["buyer","seller"]}"#)
            #expect(created.status == .created)
            #expect(created.text.contains("quokka.zebra@example.org"))
            let session = try await web.request(.post, "/v1/sessions", json: #"{"email":"Quokka.Zebra@example.org","password":"correct horse battery"}"#)
            let token = try #require(session.object["token"] as? String)
            let me = try await web.request(.get, "/v1/users/me", token: token)
            #expect(me.object["email"] as? String == "quokka.zebra@example.org")

            let phone = try await web.request(.post, "/v1/verifications", json: #"{"level":"phone","details":{"phone":"+49 151 99887766"}}"#, token: token)
            #expect(phone.status == .created, "\(phone.text)")
            let person = try await web.request(
                .post, "/v1/verifications", json: #"{"level":"realName","details":{"fullName":"Quentin Zebrowski","documentNumber":"ZX9988776"}}"#, token: token
            )
            let personID = try #require(person.object["verification"] as? [String: Any])["id"] as! String
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(token)"
            headers[.contentType] = "application/octet-stream"
            let upload = try await web.client.executeRequest(
                uri: "/v1/verifications/\(personID)/document", method: .post, headers: headers, body: .init(string: Self.pdf("PASSPORT-MARKER-77"))
            )
            #expect(upload.status == .ok)
            let business = try await web.request(.post, "/v1/verifications", json: #"""
                {"level":"business","details":{"companyName":"Zebrowski Imports GmbH","licenceNumber":"HRB-445566","taxRegistration":"DE998877665"}}
                """#, token: token)
            #expect(business.status == .created)

            let raw = try Self.rawDatabase(try #require(web.location))
            #expect(raw.count > 10_000)
            for secret in ["quokka.zebra@example.org", "4915199887766", "Quentin Zebrowski", "ZX9988776", "PASSPORT-MARKER-77", "HRB-445566", "DE998877665", "Zebrowski Imports"] {
                #expect(raw.range(of: Data(secret.utf8)) == nil, "\(secret) is in the database in the clear")
            }
            // The moderator sees the document, and that view is on the record.
            let admin = try await web.administrator()
            let document = try await web.request(.get, "/v1/verifications/\(personID)/document", token: admin)
            #expect(document.status == .ok)
            #expect(document.text.contains("PASSPORT-MARKER-77"))
            let staff = try await web.services.accounts.authenticate(bearer: admin, onBehalfOf: nil)
            let views = try await web.services.identity.documentViews(VerificationID(personID), by: staff)
            #expect(views.count == 1)
            // The owner cannot fetch documents through the moderators' door.
            #expect(try await web.request(.get, "/v1/verifications/\(personID)/document", token: token).status == .forbidden)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func codesDocumentsAndDecisions(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("lena", roles: ["buyer", "seller"])
            let started = try await web.request(.post, "/v1/verifications", json: #"{"level":"phone","details":{"phone":"+44 7700 900123"}}"#, token: seller.token)
            #expect(started.object["sentTo"] as? String == "+44 *** 23")
            let id = try #require(started.object["verification"] as? [String: Any])["id"] as! String
            // The sandbox gateway kept the text: read the code back the way a phone would.
            let texts = try await web.services.store.read { try await $0.mail.sandboxSMS(to: "+447700900123", limit: 1) }
            let code = try #require(texts.first?.split(separator: " ").dropFirst(2).first.map(String.init))
            // Four wrong codes are counted and refused by name; the right one then verifies.
            for left in [4, 3, 2, 1] {
                let wrong = try await web.request(.post, "/v1/verifications/\(id)/code", json: #"{"code":"000000"}"#, token: seller.token)
                #expect(wrong.problemType == "/problems/verification-code-wrong")
                #expect((wrong.object["detail"] as? String)?.contains("\(left) attempt") == true || code == "000000")
            }
            let right = try await web.request(.post, "/v1/verifications/\(id)/code", json: #"{"code":"\#(code)"}"#, token: seller.token)
            #expect(right.object["state"] as? String == "approved", "\(right.text)")

            // A fifth wrong code rejects a second attempt.
            let email = try await web.request(.post, "/v1/verifications", json: #"{"level":"email"}"#, token: seller.token)
            let emailID = try #require(email.object["verification"] as? [String: Any])["id"] as! String
            for _ in 0..<5 { _ = try await web.request(.post, "/v1/verifications/\(emailID)/code", json: #"{"code":"999999x"}"#, token: seller.token) }
            let mine = try await web.request(.get, "/v1/me/verifications", token: seller.token)
            let states = (mine.object["items"] as? [[String: Any]] ?? []).map { ($0["level"] as! String, $0["state"] as! String) }
            #expect(states.contains { $0 == ("email", "rejected") })

            // A document that is not an image or a PDF is refused and changes nothing.
            let business = try await web.request(.post, "/v1/verifications", json: #"""
                {"level":"business","details":{"companyName":"Lena Ltd","licenceNumber":"L-1","taxRegistration":"GB1"}}
                """#, token: seller.token)
            let businessID = try #require(business.object["verification"] as? [String: Any])["id"] as! String
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(seller.token)"
            headers[.contentType] = "application/octet-stream"
            let bad = try await web.client.executeRequest(uri: "/v1/verifications/\(businessID)/document", method: .post, headers: headers, body: .init(string: "MZ not a pdf"))
            #expect(bad.status == .badRequest)
            let good = try await web.client.executeRequest(uri: "/v1/verifications/\(businessID)/document", method: .post, headers: headers, body: .init(string: Self.pdf("licence")))
            #expect(good.status == .ok)

            // The moderator's queue, a refusal needs a reason, the approval counts in the score.
            let admin = try await web.administrator()
            let queue = try await web.request(.get, "/v1/verifications", token: admin)
            #expect((queue.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [businessID])
            #expect(try await web.request(.get, "/v1/verifications", token: seller.token).status == .forbidden)
            let noReason = try await web.request(.post, "/v1/verifications/\(businessID)/decision", json: #"{"approve":false}"#, token: admin)
            #expect(noReason.problemType == "/problems/reason-required")
            // 2,002 code points that read as 1,001 letters (e + a combining accent): over the
            // document's 2000, refused as it counts, not cut short; the verification still waits.
            let longReason = String(repeating: "e\u{301}", count: 1_001)
            let tooLong = try await web.request(.post, "/v1/verifications/\(businessID)/decision", json: #"{"approve":false,"reason":"\#(longReason)"}"#, token: admin)
            #expect(tooLong.status == .badRequest && tooLong.text.contains("reason"), "\(tooLong.text)")
            #expect(try await web.request(.get, "/v1/verifications", token: admin).text.contains(businessID))
            let approved = try await web.request(.post, "/v1/verifications/\(businessID)/decision", json: #"{"approve":true}"#, token: admin)
            #expect(approved.object["state"] as? String == "approved")
            let profile = try await web.request(.get, "/v1/users/\(seller.id)/trust-profile?role=seller")
            #expect(profile.object["verifiedLevels"] as? [String] == ["phone", "business"])
            let factors = (profile.object["breakdown"] as? [[String: Any]] ?? []).compactMap { $0["factor"] as? String }
            #expect(factors.contains("verified.business") && factors.contains("verified.phone"))
            #expect(!profile.text.contains("Lena Ltd") && !profile.text.contains("447700900123"))

            // A year later the approvals lapse and the head start goes with them.
            web.clock.advance(by: 366 * 86_400)
            _ = try await web.services.jobRunner(logger: TestDatabases.logger).runDueJobs()
            let later = try await web.request(.get, "/v1/users/\(seller.id)/trust-profile?role=seller")
            #expect((later.object["verifiedLevels"] as? [String])?.isEmpty == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func sealsVerifyOfflineAndTheBadgeKnowsWhereItIs(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            let certifierCreated = try await web.request(.post, "/v1/users", json: #"{"email":"audit@example.com","password":"correct horse battery","displayName":"Audit Guild","roles":["certifier"]}"#, token: admin)
            #expect(certifierCreated.status == .created)
            let certifier = try await web.logIn("audit")
            let shop = try await web.user("nora", roles: ["seller"])
            let origins = try await web.request(.put, "/v1/me/shop-origins", json: #"{"origins":["https://Nora.example/","https://shop.nora.example:8443"]}"#, token: shop.token)
            #expect(origins.object["origins"] as? [String] == ["https://nora.example", "https://shop.nora.example:8443"])
            let badOrigin = try await web.request(.put, "/v1/me/shop-origins", json: #"{"origins":["javascript:alert(1)//x"]}"#, token: shop.token)
            #expect(badOrigin.problemType == "/problems/origin-not-accepted")

            let until = Timestamp.string(web.clock.now().addingTimeInterval(180 * 86_400))
            let notCertifier = try await web.request(.post, "/v1/seals", json: #"{"merchantId":"\#(shop.id)","checks":["identity"],"validUntil":"\#(until)"}"#, token: shop.token)
            #expect(notCertifier.problemType == "/problems/not-a-certifier")
            let issued = try await web.request(.post, "/v1/seals", json: #"{"merchantId":"\#(shop.id)","checks":["identity of the owner","returns honoured"],"validUntil":"\#(until)"}"#, token: certifier)
            #expect(issued.status == .created, "\(issued.text)")
            let sealID = try #require(issued.object["id"] as? String)
            let document = try #require(issued.object["document"] as? String)

            let keys = try SignedJSON.parse(Data(try await web.request(.get, "/.well-known/fiducia/keys.json").text.utf8))
            let seal = try SignedJSON.parse(Data(document.utf8))
            guard case .valid(_, let by, _, let named, _) = SealVerifier.verify(seal: seal, keys: keys, now: web.clock.now()) else {
                Issue.record("the seal does not verify")
                return
            }
            #expect(by == "Audit Guild" && named == ["https://nora.example", "https://shop.nora.example:8443"])
            // One changed character, and it no longer verifies.
            let tampered = try SignedJSON.parse(Data(document.replacingOccurrences(of: "returns honoured", with: "returns honoured!").utf8))
            #expect(SealVerifier.verify(seal: tampered, keys: keys, now: web.clock.now()) != SealVerifier.verify(seal: seal, keys: keys, now: web.clock.now()))
            if case .valid = SealVerifier.verify(seal: tampered, keys: keys, now: web.clock.now()) { Issue.record("a tampered seal verified") }
            if case .valid = SealVerifier.verify(seal: seal, keys: keys, now: web.clock.now().addingTimeInterval(200 * 86_400)) { Issue.record("an expired seal verified") }

            // The badge: certified on the shop's own origins, not anywhere else.
            let home = try await web.request(.get, "/seals/\(sealID)/badge.svg", headers: ["Referer": "https://nora.example/products/1"])
            #expect(home.text.contains("Certified by Audit Guild"))
            let copied = try await web.request(.get, "/seals/\(sealID)/badge.svg", headers: ["Origin": "https://n0ra.example"])
            #expect(copied.text.contains("Not verified for this site"))
            #expect(try await web.request(.get, "/seals/\(sealID)/badge.svg").text.contains("Not verified for this site"))
            let page = try await web.request(.get, "/seals/\(sealID)")
            #expect(page.text.contains("https://shop.nora.example:8443") && page.text.contains("Valid"))
            let profile = try await web.request(.get, "/v1/users/\(shop.id)/trust-profile?role=seller")
            #expect((profile.object["breakdown"] as? [[String: Any]] ?? []).contains { $0["factor"] as? String == "seal" })

            // Revoked: the list says so, offline verification with the list refuses it, the badge turns.
            #expect(try await web.request(.post, "/v1/seals/\(sealID)/revocation", json: #"{"reason":"x"}"#, token: certifier).problemType == "/problems/validation-failed")
            let revoked = try await web.request(.post, "/v1/seals/\(sealID)/revocation", json: #"{"reason":"Returns no longer honoured"}"#, token: certifier)
            #expect(revoked.object["status"] as? String == "revoked")
            let list = try SignedJSON.parse(Data(try await web.request(.get, "/.well-known/fiducia/revocations.json").text.utf8))
            if case .valid = SealVerifier.verify(seal: seal, keys: keys, revocations: list, now: web.clock.now()) { Issue.record("a revoked seal verified") }
            #expect(try await web.request(.get, "/seals/\(sealID)/badge.svg", headers: ["Origin": "https://nora.example"]).text.contains("Seal revoked"))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theReputationCredentialVerifiesWithAnIndependentImplementation(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("omar", roles: ["seller"])
            let buyer = try await web.user("pia")
            _ = try await web.completedTrade(buyer: buyer.token, seller: seller)
            let issued = try await web.request(.post, "/v1/me/reputation-credential", token: seller.token)
            #expect(issued.status == .created, "\(issued.text)")
            let credential = try SignedJSON.parse(Data(issued.text.utf8))
            #expect(credential["credentialSubject"]?["completedTrades"]?.integerValue == 1)
            #expect(DataIntegrity.problem(with: credential, now: web.clock.now()) == nil)
            #expect(DataIntegrity.problem(with: credential, now: web.clock.now().addingTimeInterval(31 * 86_400)) == "The credential has expired.")

            let verifier = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/verify_credential.py").path
            let good = try Self.run("/usr/bin/env", ["python3", verifier], input: Data(issued.text.utf8))
            #expect(String(decoding: good.output, as: UTF8.self).hasPrefix("VALID"), "\(String(decoding: good.output, as: UTF8.self))")
            #expect(good.status == 0)
            // Change one byte of the subject: both verifiers refuse it.
            let forged = issued.text.replacingOccurrences(of: #""completedTrades":1"#, with: #""completedTrades":7"#)
            #expect(forged != issued.text)
            let bad = try Self.run("/usr/bin/env", ["python3", verifier], input: Data(forged.utf8))
            #expect(bad.status == 1)
            #expect(DataIntegrity.problem(with: try SignedJSON.parse(Data(forged.utf8)), now: web.clock.now()) != nil)
            #expect(try await web.request(.post, "/v1/me/reputation-credential", token: buyer.token).problemType == "/problems/not-a-seller")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func invitationsVouchAndInviteOnlySignUpNeedsOne(_ kind: TestDatabaseKind) async throws {
        var settings = ServiceSettings.forTests
        settings.inviteOnly = true
        try await WebHarness.run(kind, settings: settings) { web in
            let admin = try await web.administrator()
            // An API client or an administrator still creates accounts; a person alone needs a code.
            let refused = try await web.request(.post, "/v1/users", json: #"{"email":"q@example.com","password":"correct horse battery","displayName":"Q"}"#)
            #expect(refused.problemType == "/problems/invitation-required")
            _ = try await web.request(.post, "/v1/users", json: #"{"email":"veteran@example.com","password":"correct horse battery","displayName":"Veteran","roles":["buyer","seller"]}"#, token: admin)
            var veteran = try await web.logIn("veteran")
            let early = try await web.request(.post, "/v1/invitations", token: veteran)
            #expect(early.problemType == "/problems/invitation-record-too-short")

            let sellerCreated = try await web.request(.post, "/v1/users", json: #"{"email":"shop@example.com","password":"correct horse battery","displayName":"Shop","roles":["seller"]}"#, token: admin)
            web.clock.advance(by: 31 * 86_400)
            // Sessions last 30 days: sign in again.
            let shop = (id: sellerCreated.object["id"] as! String, token: try await web.logIn("shop"))
            veteran = try await web.logIn("veteran")
            for _ in 0..<3 { _ = try await web.completedTrade(buyer: veteran, seller: shop) }
            let created = try await web.request(.post, "/v1/invitations", token: veteran)
            #expect(created.status == .created, "\(created.text)")
            let code = try #require(created.object["code"] as? String)
            let joined = try await web.request(.post, "/v1/users", json: #"{"email":"newbie@example.com","password":"correct horse battery","displayName":"Newbie","invitationCode":"\#(code)"}"#)
            #expect(joined.status == .created)
            let again = try await web.request(.post, "/v1/users", json: #"{"email":"second@example.com","password":"correct horse battery","displayName":"Second","invitationCode":"\#(code)"}"#)
            #expect(again.problemType == "/problems/invitation-invalid")
            #expect(try await web.userCount() == 4)
            let listed = try await web.request(.get, "/v1/invitations", token: veteran)
            #expect((listed.object["items"] as? [[String: Any]])?.first?["status"] as? String == "used")
            #expect(listed.object["remaining"] as? Int == 4)
            let newbie = try #require(joined.object["id"] as? String)
            let profile = try await web.request(.get, "/v1/users/\(newbie)/trust-profile?role=buyer")
            #expect((profile.object["breakdown"] as? [[String: Any]] ?? []).contains { $0["factor"] as? String == "vouched" })
        }
    }
}
