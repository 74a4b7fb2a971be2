import Crypto
import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import SQLKit
import Testing

/// The hash-chained audit log of privileged actions: what is recorded, who may read it, and the
/// attack: an operator rewriting or removing an event is caught.
@Suite("Audit log")
struct AuditLogTests {
    func sql(_ web: WebHarness, _ statement: String) async throws {
        try await web.services.store.database.transaction { sql in try await sql.raw(SQLQueryString(statement)).run() }
    }

    @Test(arguments: TestDatabases.kinds)
    func privilegedActionsAreChainedAndTamperingIsCaught(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            // An administrator grants a staff role; a moderator penalises a user: both on the record,
            // with the address they came from.
            let created = try await web.request(.post, "/v1/users", json: #"{"email":"mia@example.com","password":"correct horse battery","displayName":"Mia","roles":["moderator"]}"#, token: admin)
            #expect(created.status == .created)
            let moderator = try await web.logIn("mia")
            let seller = try await web.user("tea", roles: ["seller"])
            let penalty = try await web.request(.post, "/v1/users/\(seller.id)/penalties", json: #"{"violationCode":"fake-rating","facts":"Bought ratings."}"#, token: moderator)
            #expect(penalty.status == .created, "\(penalty.text)")

            let page = try await web.request(.get, "/v1/audit-events", token: admin).object["items"] as? [[String: Any]] ?? []
            // Newest first: the penalty, Mia's role, and the administrator made at the command line.
            #expect(page.map { $0["action"] as? String } == ["penalty.impose", "user.grant-roles", "user.grant-roles"])
            #expect(page.first?["actor"] as? String == (try await web.request(.get, "/v1/users/me", token: moderator).object["id"] as? String))
            #expect(page.last?["previousHash"] as? String == AuditChain.genesis)
            #expect(page[0]["previousHash"] as? String == page[1]["hash"] as? String)
            // Staff other than administrators do not read it; nor does anyone else.
            #expect(try await web.request(.get, "/v1/audit-events", token: moderator).status == .forbidden)
            #expect(try await web.request(.get, "/v1/audit-events", token: seller.token).status == .forbidden)

            var (checked, problems) = try await web.services.audit.verify()
            #expect(checked == 3 && problems.isEmpty)

            // The attack: the operator softens what a moderator did, then removes the event.
            try await sql(web, "UPDATE audit_events SET detail = 'nothing happened' WHERE sequence = 3")
            (_, problems) = try await web.services.audit.verify()
            #expect(problems == ["event 3 was changed after it was written"])
            try await sql(web, "DELETE FROM audit_events WHERE sequence = 3")
            (_, problems) = try await web.services.audit.verify()
            #expect(problems.contains { $0.contains("missing") })
            // An event removed from the middle breaks the link of the one after it.
            try await sql(web, "DELETE FROM audit_events")
            try await sql(web, "UPDATE counters SET value = 0 WHERE name = 'audit_sequence'")
            for n in 1...3 {
                _ = try await web.request(.post, "/v1/users", json: #"{"email":"m\#(n)@example.com","password":"correct horse battery","displayName":"M\#(n)","roles":["moderator"]}"#, token: admin)
            }
            try await sql(web, "DELETE FROM audit_events WHERE sequence = 2")
            (_, problems) = try await web.services.audit.verify()
            #expect(problems.contains("event 2 is missing (the next one is 3)"))
            #expect(problems.contains("event 3 does not follow the event before it"))
        }
    }

    /// A head published to outsiders catches what the chain alone cannot: an operator who rewrites
    /// the whole log from its first event, consistently.
    @Test(arguments: TestDatabases.kinds)
    func aPublishedHeadCatchesALogRewrittenFromTheStart(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            for n in 1...2 {
                _ = try await web.request(.post, "/v1/users", json: #"{"email":"m\#(n)@example.com","password":"correct horse battery","displayName":"M\#(n)","roles":["moderator"]}"#, token: admin)
            }
            let head = try await web.request(.get, "/v1/audit-head").object
            let sequence = try #require(head["sequence"] as? Int)
            let hash = try #require(head["hash"] as? String)
            #expect(sequence == 3)
            // Anyone can check the signature with the published key.
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: Data(base64Encoded: try #require(head["publicKey"] as? String))!)
            let signed = AuditService.headBytes(sequence: sequence, hash: hash, atMilliseconds: Int64(try #require(head["at"] as? Int)))
            #expect(key.isValidSignature(Data(base64Encoded: try #require(head["signature"] as? String))!, for: signed))
            #expect(try await web.services.audit.verify(published: [(sequence, hash)]).problems.isEmpty)

            // The operator wipes the log and writes a new, internally perfect one.
            try await sql(web, "DELETE FROM audit_events")
            try await sql(web, "UPDATE counters SET value = 0 WHERE name = 'audit_sequence'")
            for n in 1...3 {
                _ = try await web.request(.post, "/v1/users", json: #"{"email":"x\#(n)@example.com","password":"correct horse battery","displayName":"X\#(n)","roles":["moderator"]}"#, token: admin)
            }
            #expect(try await web.services.audit.verify().problems.isEmpty, "the chain alone cannot tell")
            let caught = try await web.services.audit.verify(published: [(sequence, hash)]).problems
            #expect(caught == ["event 3 is not the one published (\(hash.prefix(16))…): the log was rewritten since"])
            #expect(try await web.services.audit.verify(published: [(9, hash)]).problems == ["event 9 was published but the log no longer holds it"])
        }
    }
}
