import FiduciaDomain
import FiduciaTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Accounts API")
struct AccountsAPITests {
    @Test(arguments: TestDatabases.kinds)
    func signUpLogInCurrentUserLogOut(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let created = try await web.request(.post, "/v1/users", json: #"{"email":"Ann@Example.com","password":"correct horse battery","displayName":"Ann","roles":["buyer","seller"]}"#)
            #expect(created.status == .created)
            let id = try #require(created.object["id"] as? String)
            #expect(id.hasPrefix("usr_"))
            #expect(created.object["email"] as? String == "ann@example.com")
            #expect(created.object["roles"] as? [String] == ["buyer", "seller"])

            let token = try await web.logIn("ann")
            #expect(token.hasPrefix("fs_"))
            let me = try await web.request(.get, "/v1/users/me", token: token)
            #expect(me.status == .ok)
            #expect(me.object["id"] as? String == id)
            #expect(me.object["email"] as? String == "ann@example.com")

            #expect(try await web.request(.delete, "/v1/sessions/current", token: token).status == .noContent)
            let after = try await web.request(.get, "/v1/users/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.problemType == "/problems/invalid-token")
        }
    }

    /// Attack: bcrypt reads 72 bytes, so two long passwords alike in those would be one password.
    /// Longer ones are digested first: every character counts.
    @Test(arguments: TestDatabases.kinds)
    func everyCharacterOfALongPasswordCounts(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let long = String(repeating: "密码", count: 40) + "-the-end"  // 248 bytes, 88 characters
            let created = try await web.request(.post, "/v1/users", json: #"{"email":"lin@example.com","password":"\#(long)","displayName":"Lin"}"#)
            #expect(created.status == .created)
            let right = try await web.request(.post, "/v1/sessions", json: #"{"email":"lin@example.com","password":"\#(long)"}"#)
            #expect(right.status == .created)
            let sameFirst72Bytes = String(repeating: "密码", count: 40) + "-another"
            let wrong = try await web.request(.post, "/v1/sessions", json: #"{"email":"lin@example.com","password":"\#(sameFirst72Bytes)"}"#)
            #expect(wrong.status == .unauthorized)
            let tooLong = String(repeating: "x", count: 201)
            #expect(try await web.request(.post, "/v1/users", json: #"{"email":"max@example.com","password":"\#(tooLong)","displayName":"Max"}"#).status == .badRequest)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func privateFieldsAreHiddenFromOthers(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let ann = try await web.user("ann")
            let bob = try await web.user("bob")
            let asBob = try await web.request(.get, "/v1/users/\(ann.id)", token: bob.token)
            #expect(asBob.status == .ok)
            #expect(asBob.object["displayName"] as? String == "ann")
            #expect(asBob.object["email"] == nil)
            let anonymous = try await web.request(.get, "/v1/users/\(ann.id)")
            #expect(anonymous.object["email"] == nil)
            let asAnn = try await web.request(.get, "/v1/users/\(ann.id)", token: ann.token)
            #expect(asAnn.object["email"] as? String == "ann@example.com")
            #expect(try await web.request(.get, "/v1/users/usr_nobody").problemType == "/problems/not-found")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func wrongCredentialsAreOneAnswerForUnknownEmailAndWrongPassword(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            try await web.signUp("ann")
            let wrongPassword = try await web.request(.post, "/v1/sessions", json: #"{"email":"ann@example.com","password":"not the password"}"#)
            let unknownEmail = try await web.request(.post, "/v1/sessions", json: #"{"email":"zed@example.com","password":"not the password"}"#)
            for response in [wrongPassword, unknownEmail] {
                #expect(response.status == .unauthorized)
                #expect(response.problemType == "/problems/invalid-credentials")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(wrongPassword.object["detail"] as? String == unknownEmail.object["detail"] as? String)
        }
    }

    /// A burst of concurrent guesses gets exactly the allowed number of passwords checked.
    @Test(arguments: TestDatabases.kinds)
    func concurrentGuessesCannotExceedTheLimit(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            try await web.signUp("ann")
            let wrong = #"{"email":"ann@example.com","password":"not the password"}"#
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 {
                    group.addTask { try await web.request(.post, "/v1/sessions", json: wrong).status.code }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count == AccountRules.logInFailureLimit, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 30 - AccountRules.logInFailureLimit, "\(statuses)")
            let right = try await web.request(.post, "/v1/sessions", json: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
            #expect(right.status == .tooManyRequests)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func guessingPasswordsIsThrottledPerAccountForAWhile(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            try await web.signUp("ann")
            try await web.signUp("bob")
            let wrong = #"{"email":"Ann@Example.com ","password":"not the password"}"#
            for _ in 0..<AccountRules.logInFailureLimit {
                #expect(try await web.request(.post, "/v1/sessions", json: wrong).status == .unauthorized)
            }
            // Even the right password is refused now, without being checked.
            let blocked = try await web.request(.post, "/v1/sessions", json: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.problemType == "/problems/too-many-log-in-attempts")
            // Other accounts are not affected.
            _ = try await web.logIn("bob")
            // Once the window has passed, the right password works again; a success clears the count.
            web.clock.advance(by: AccountRules.logInFailureWindowSeconds + 1)
            #expect(try await web.request(.post, "/v1/sessions", json: wrong).status == .unauthorized)
            _ = try await web.logIn("ann")
            #expect(try await web.services.store.read { try await $0.sessions.failedLogIns(email: "ann@example.com", client: "unknown", since: .distantPast).account } == 0)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func onlyAdministratorsGrantStaffRolesAndListUsers(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let forbidden = try await web.request(.post, "/v1/users", json: #"{"email":"m@example.com","password":"correct horse battery","displayName":"M","roles":["moderator"]}"#)
            // The document allows any role; who is asking decides: 422, naming the field.
            #expect(forbidden.status == .unprocessableContent)
            #expect(forbidden.problemType == "/problems/rule-not-met")
            #expect((forbidden.object["errors"] as? [[String: Any]])?.first?["field"] as? String == "roles")

            let admin = try await web.administrator()
            let moderator = try await web.request(.post, "/v1/users", json: #"{"email":"m@example.com","password":"correct horse battery","displayName":"M","roles":["moderator"]}"#, token: admin)
            #expect(moderator.status == .created)

            let buyer = try await web.user("ann")
            #expect(try await web.request(.get, "/v1/users", token: buyer.token).problemType == "/problems/forbidden")
            #expect(try await web.request(.get, "/v1/users").problemType == "/problems/authentication-required")

            for index in 0..<4 { try await web.signUp("user\(index)") }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await web.request(.get, "/v1/users?limit=2\(query)", token: admin)
                #expect(page.status == .ok)
                let items = try #require(page.object["items"] as? [[String: Any]])
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"] as? String }
                cursor = page.object["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 7)  // root, moderator, ann, four users
            #expect(seen == seen.sorted())
            #expect(try await web.request(.get, "/v1/users?limit=500", token: admin).status == .badRequest)
            #expect(try await web.request(.get, "/v1/users?cursor=garbage", token: admin).problemType == "/problems/validation-failed")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func apiClientsCreateUsersAndActOnlyForThem(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            let registered = try await web.request(.post, "/v1/api-clients", json: #"{"name":"Tea Market"}"#, token: admin)
            #expect(registered.status == .created)
            let key = try #require(registered.object["apiKey"] as? String)
            #expect(key.hasPrefix("fk_"))

            let created = try await web.request(.post, "/v1/users", json: #"{"email":"shop@example.com","displayName":"Shop","roles":["seller"],"externalId":"m-42"}"#, token: key)
            #expect(created.status == .created)
            let shopID = try #require(created.object["id"] as? String)
            #expect(created.object["externalId"] as? String == "m-42")

            let duplicate = try await web.request(.post, "/v1/users", json: #"{"email":"shop2@example.com","displayName":"Shop 2","externalId":"m-42"}"#, token: key)
            #expect(duplicate.problemType == "/problems/external-id-taken")

            let acting = try await web.request(.get, "/v1/users/me", token: key, headers: ["Fiducia-On-Behalf-Of": shopID])
            #expect(acting.status == .ok)
            #expect(acting.object["id"] as? String == shopID)

            let stranger = try await web.signUp("ann")
            let refused = try await web.request(.get, "/v1/users/me", token: key, headers: ["Fiducia-On-Behalf-Of": stranger])
            #expect(refused.status == .forbidden)
            #expect(refused.problemType == "/problems/on-behalf-not-allowed")

            let notAdmin = try await web.user("bob")
            #expect(try await web.request(.post, "/v1/api-clients", json: #"{"name":"X"}"#, token: notAdmin.token).status == .forbidden)
            #expect(try await web.request(.get, "/v1/users/me", token: "fk_forged").problemType == "/problems/invalid-token")
        }
    }
}
