import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import SQLKit
import Testing

/// A person's data (G2): the privacy notice, the export, and account deletion, played by the
/// person, by a seller they traded with, by staff and by an API client.
@Suite("Data rights")
struct DataRightsTests {
    /// Lists and tests a ZIP with Python's zipfile, a reader written by others: returns the names.
    static func zipNames(_ bytes: [UInt8]) throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).zip")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(z.namelist()))", file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python's zipfile refused the archive")
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test(arguments: TestDatabases.kinds)
    func exportThenDeleteKeepsTheRecordsButNotThePerson(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("tea", roles: ["seller"])
            let alice = try await web.user("alice")
            let orderID = try await web.completedTrade(buyer: alice.token, seller: seller)

            // What is held, and the notice she accepted when she signed up.
            let privacy = try await web.request(.get, "/v1/me/privacy", token: alice.token).object
            #expect(privacy["mustAccept"] as? Bool == false)
            #expect((privacy["accepted"] as? [[String: Any]])?.first?["version"] as? Int == 1)
            let records = (privacy["records"] as? [[String: Any]] ?? []).reduce(into: [String: Int]()) { $0[$1["name"] as! String] = $1["count"] as? Int }
            #expect(records["orders"] == 1)
            #expect(privacy["mayDelete"] as? Bool == true)

            // A file she uploaded under a name that climbs out of folders (an attack on whoever unpacks the export).
            let upload = try await DisputesAPITests.upload(web, DisputesAPITests.png, name: "../../.bashrc/evil.png", token: alice.token)
            #expect(upload.status == .created, "\(upload.text)")

            // The export: a ZIP any unzip reads, with her e-mail opened and no secrets.
            let export = try await web.request(.get, "/v1/me/data-export", token: alice.token)
            #expect(export.status == .ok)
            #expect(export.header("Content-Type") == "application/zip")
            let bytes = Array(export.body.readableBytesView)
            let names = try Self.zipNames(bytes)
            #expect(names.contains("account.json") && names.contains("records/orders.json") && names.contains("README.txt"))
            #expect(names.contains { $0.hasPrefix("attachments/") && $0.hasSuffix("evil.png") })
            #expect(names.allSatisfy { name in
                let parts = name.split(separator: "/", omittingEmptySubsequences: false)
                return !name.hasPrefix("/") && !name.contains("\\") && parts.count <= 2 && !parts.contains { $0 == ".." || $0 == "." || $0.isEmpty }
            })
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains("alice@example.com"))
            #expect(text.contains(orderID))
            #expect(!text.contains("token_hash"))

            // An open order stands in the way; the refusal changes nothing.
            let open = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Cup","quantity":1,"unitPriceMinor":900}]}"#, token: alice.token)
            let openID = try #require(open.object["id"] as? String)
            let refused = try await web.request(.delete, "/v1/users/me", token: alice.token)
            #expect(refused.status == .conflict)
            #expect(refused.problemType == "/problems/unfinished-business")
            #expect(refused.text.contains("1 order not yet completed"))
            #expect(try await web.request(.get, "/v1/users/me", token: alice.token).object["email"] as? String == "alice@example.com")

            // The seller, whose sale left money in his balance, must pay it out first.
            // A security deposit is named for what it is (sellers cannot withdraw one themselves yet).
            #expect(try await web.request(.post, "/v1/deposits", json: #"{"currency":"EUR","amountMinor":500,"source":"balance"}"#, token: seller.token).status == .created)
            let sellerRefused = try await web.request(.delete, "/v1/users/me", token: seller.token)
            #expect(sellerRefused.status == .conflict && sellerRefused.text.contains("a balance of") && sellerRefused.text.contains("a security deposit of 5.00 EUR"))
            let sellerBlockers = try await web.request(.get, "/v1/me/privacy", token: seller.token).object["blockers"] as? [String] ?? []
            // Alice's unpaid order is open for him too.
            #expect(sellerBlockers.count == 3 && sellerBlockers.contains { $0.hasPrefix("a security deposit of 5.00 EUR") })

            // Staff are not deleted this way.
            let admin = try await web.administrator()
            #expect(try await web.request(.delete, "/v1/users/me", token: admin).problemType == "/problems/staff-account")

            #expect(try await web.request(.post, "/v1/orders/\(openID)/cancellation", token: alice.token).status == .ok)
            let deleted = try await web.request(.delete, "/v1/users/me", token: alice.token)
            #expect(deleted.status == .noContent, "\(deleted.text)")

            // She can no longer act or sign in; her name is gone, her order and its money records stay.
            #expect(try await web.request(.get, "/v1/users/me", token: alice.token).status == .unauthorized)
            let logIn = try await web.request(.post, "/v1/sessions", json: #"{"email":"alice@example.com","password":"correct horse battery"}"#)
            #expect(logIn.status == .unauthorized)
            #expect(try await web.request(.get, "/v1/users/\(alice.id)").object["displayName"] as? String == "Deleted account")
            let order = try await web.request(.get, "/v1/orders/\(orderID)", token: seller.token)
            #expect(order.status == .ok && order.object["buyerId"] as? String == alice.id)
            #expect(try await web.services.ledger.verify().isClean)
            // Nothing in her row names her; her data key is gone.
            let row = try await web.services.store.database.transaction { sql in
                try await sql.raw("SELECT email, email_hash, data_key, password_hash, deleted_at FROM users WHERE id = \(bind: alice.id)").first()
            }
            #expect(try row?.decode(column: "email", as: String.self) == "")
            #expect(try row?.decodeNil(column: "email_hash") == true)
            #expect(try row?.decodeNil(column: "data_key") == true)
            #expect(try row?.decodeNil(column: "password_hash") == true)
            #expect(try row?.decodeNil(column: "deleted_at") == false)
            // The address is free again: a new account, not the old one.
            #expect(try await web.signUp("alice") != alice.id)

            // Both the download and the deletion are on the record.
            let events = try await web.request(.get, "/v1/audit-events", token: admin).object["items"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "data.export" && $0["subject"] as? String == alice.id })
            #expect(events.contains { $0["action"] as? String == "account.delete" && $0["actor"] as? String == alice.id })
        }
    }

    /// A buyer orders from a seller at the very moment the seller's account is being deleted: the
    /// order waits for the deletion and is refused, rather than landing on an account with nobody
    /// behind it (on PostgreSQL it used to read the seller before the deletion committed).
    @Test(arguments: TestDatabases.kinds)
    func anOrderRacingTheSellersDeletionIsRefused(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let seller = try await web.user("leaving", roles: ["seller"])
            let buyer = try await web.user("ann")
            let now = web.clock.now()
            let deletion = Task {
                try await web.services.store.write { repositories in
                    try await repositories.privacy.lockAccount(UserID(seller.id))
                    try await repositories.privacy.erase(UserID(seller.id), at: now)
                    try await Task.sleep(for: .milliseconds(600))
                }
            }
            try await Task.sleep(for: .milliseconds(150))
            let order = try await web.request(.post, "/v1/orders", json: #"{"sellerId":"\#(seller.id)","currency":"EUR","items":[{"title":"Tea","quantity":1,"unitPriceMinor":500}]}"#, token: buyer.token)
            try await deletion.value
            #expect(order.status != .created, "\(order.text)")
            #expect((try await web.request(.get, "/v1/orders", token: buyer.token).object["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anAPIClientCannotActForADeletedAccount(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            let key = try #require(try await web.request(.post, "/v1/api-clients", json: #"{"name":"Market"}"#, token: admin).object["apiKey"] as? String)
            let created = try await web.request(.post, "/v1/users", json: #"{"email":"shopper@example.com","displayName":"Shopper","privacyNoticeVersion":1}"#, token: key)
            let id = try #require(created.object["id"] as? String)
            let onBehalf = ["Fiducia-On-Behalf-Of": id]
            #expect(try await web.request(.get, "/v1/me/privacy", token: key, headers: onBehalf).object["mustAccept"] as? Bool == false)
            #expect(try await web.request(.delete, "/v1/users/me", token: key, headers: onBehalf).status == .noContent)
            let after = try await web.request(.get, "/v1/users/me", token: key, headers: onBehalf)
            #expect(after.status == .unauthorized)
            #expect(after.problemType == "/problems/account-deleted")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theNoticeInForceIsAcceptedAndAskedForAgain(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let notice = try await web.request(.get, "/v1/privacy-notice").object
            #expect(notice["version"] as? Int == PrivacyNotice.current.version)
            #expect((notice["items"] as? [Any])?.isEmpty == false)

            // Only the version in force can be accepted, at sign-up or after; a refusal creates nothing.
            let stale = try await web.request(.post, "/v1/users", json: #"{"email":"old@example.com","password":"correct horse battery","displayName":"Old","privacyNoticeVersion":99}"#)
            #expect(stale.status == .unprocessableContent)
            #expect(stale.problemType == "/problems/privacy-notice-not-current")
            #expect(try await web.userCount() == 0)

            // Someone an administrator signed up has accepted nothing yet: sign-in leads to the notice.
            let admin = try await web.administrator()
            #expect(try await web.request(.post, "/v1/users", json: #"{"email":"nia@example.com","password":"correct horse battery","displayName":"Nia"}"#, token: admin).status == .created)
            let nia = try await web.logIn("nia")
            #expect(try await web.request(.get, "/v1/me/privacy", token: nia).object["mustAccept"] as? Bool == true)
            var browser = PageBrowser(web: web)
            let logIn = try await browser.submit(on: "/login", to: "/login", ["email": "nia@example.com", "password": "correct horse battery"])
            #expect(logIn.location == "/privacy?notice=privacy-changed")
            let page = try await browser.visit(.get, "/privacy")
            #expect(page.text.contains(#"id="accept-notice""#))
            #expect(try await browser.submit(on: "/privacy", to: "/privacy/accept", ["version": "1"]).location == "/privacy?notice=privacy-accepted")
            #expect(!(try await browser.visit(.get, "/privacy")).text.contains(#"id="accept-notice""#))
            #expect(try await web.request(.post, "/v1/me/privacy/acceptances", json: #"{"version":2}"#, token: nia).status == .unprocessableContent)
            let accepted = try await web.request(.post, "/v1/me/privacy/acceptances", json: #"{"version":1}"#, token: nia)
            #expect(accepted.status == .ok && accepted.object["mustAccept"] as? Bool == false)
        }
    }
}

extension DataRightsTests {
    /// A staff member leaves: another administrator takes their staff roles away (audited), then
    /// they can delete their account; nobody changes their own roles.
    @Test(arguments: TestDatabases.kinds)
    func staffLeaveOnceAnotherAdministratorRemovesTheirRoles(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let admin = try await web.administrator()
            _ = try await web.request(.post, "/v1/users", json: #"{"email":"mia@example.com","password":"correct horse battery","displayName":"Mia","roles":["moderator","buyer"]}"#, token: admin)
            let mia = try await web.logIn("mia")
            let miaID = try #require(try await web.request(.get, "/v1/users/me", token: mia).object["id"] as? String)
            #expect(try await web.request(.delete, "/v1/users/me", token: mia).problemType == "/problems/staff-account")
            #expect(try await web.request(.put, "/v1/users/\(miaID)/roles", json: #"{"roles":["buyer"]}"#, token: mia).status == .forbidden)
            let rootID = try #require(try await web.request(.get, "/v1/users/me", token: admin).object["id"] as? String)
            #expect(try await web.request(.put, "/v1/users/\(rootID)/roles", json: #"{"roles":["buyer"]}"#, token: admin).status == .forbidden)
            #expect(try await web.request(.put, "/v1/users/\(miaID)/roles", json: #"{"roles":["buyer","buyer"]}"#, token: admin).status == .badRequest)
            let changed = try await web.request(.put, "/v1/users/\(miaID)/roles", json: #"{"roles":["buyer"]}"#, token: admin)
            #expect(changed.status == .ok && changed.object["roles"] as? [String] == ["buyer"])
            #expect(try await web.request(.delete, "/v1/users/me", token: mia).status == .noContent)
            let events = try await web.request(.get, "/v1/audit-events", token: admin).object["items"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "user.set-roles" && ($0["detail"] as? String)?.contains("buyer, moderator → buyer") == true })
        }
    }
}
