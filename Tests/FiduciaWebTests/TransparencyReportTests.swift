import FiduciaDomain
import FiduciaServices
import FiduciaTestSupport
import Foundation
import HTTPTypes
import SQLKit
import Testing

/// Anonymous feedback and the monthly transparency report (F5).
@Suite("Feedback and transparency reports")
struct TransparencyReportTests {
    @Test(arguments: TestDatabases.kinds)
    func feedbackKeepsNothingAboutItsSenderAndReachesTheModerators(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            web.clock.set(Date(timeIntervalSince1970: 1_800_001_234.567))
            let sent = try await web.request(.post, "/v1/feedback", json: #"{"topic":"fraud","text":"  A shop copies Lotus's photos.  "}"#,
                                             headers: ["X-Forwarded-For": "203.0.113.9"])
            #expect(sent.status == .created, "\(sent.text)")
            #expect(sent.object["text"] as? String == "A shop copies Lotus's photos.")
            // What is stored: the note, its topic and the hour; no address, no account, no exact time.
            let row = try await web.services.store.database.transaction { sql in try await sql.raw("SELECT * FROM feedback").first() }
            #expect(Set(row?.allColumns ?? []) == ["id", "topic", "text", "received_hour", "read_by", "read_at"])
            #expect(try row?.decode(column: "received_hour", as: Int64.self) == 1_800_000_000_000 / 3_600_000 * 3_600_000)
            // The id's time part is the hour too.
            let id = try #require(sent.object["id"] as? String)
            #expect(id.hasPrefix("fbk_"))

            // Whitespace alone, or over the limit counted as sent, is refused.
            #expect(try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"   "}"#).status == .badRequest)
            let padded = String(repeating: " ", count: 3_999) + "xy"
            #expect(try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"\#(padded)"}"#).status == .badRequest)

            // Moderators read the queue; nobody else does.
            let admin = try await web.administrator()
            _ = try await web.request(.post, "/v1/users", json: #"{"email":"mia@example.com","password":"correct horse battery","displayName":"Mia","roles":["moderator"]}"#, token: admin)
            let moderator = try await web.logIn("mia")
            let buyer = try await web.user("bob")
            #expect(try await web.request(.get, "/v1/feedback", token: buyer.token).status == .forbidden)
            #expect(try await web.request(.get, "/v1/feedback").status == .unauthorized)
            let queue = try await web.request(.get, "/v1/feedback?unread=true", token: moderator).object["items"] as? [[String: Any]] ?? []
            #expect(queue.map { $0["id"] as? String } == [id])
            #expect(try await web.request(.post, "/v1/feedback/\(id)/read", token: moderator).object["readBy"] != nil)
            #expect(try await web.request(.post, "/v1/feedback/\(id)/read", token: moderator).status == .conflict)
            #expect((try await web.request(.get, "/v1/feedback?unread=true", token: moderator).object["items"] as? [Any])?.isEmpty == true)

            // However many senders, an hour takes at most the cap; the next waits for the next hour.
            for n in 1..<(Feedback.perHour - 10) {
                try #require(try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"note \#(n)"}"#).status == .created)
            }
            // The last ten places, raced for by 25 senders at once: counted under a lock, never 11.
            let raced = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for n in 0..<25 {
                    group.addTask { try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"race \#(n)"}"#).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            // (A sender refused as busy by a loaded SQLite writer wrote nothing; the rest still keep the cap.)
            let busy = raced.filter { $0 == .serviceUnavailable }.count
            #expect(raced.filter { $0 == .created }.count == min(10, 25 - busy), "\(raced)")
            #expect(raced.filter { $0 == .tooManyRequests }.count == 25 - busy - min(10, 25 - busy), "\(raced)")
            for n in 0..<(10 - min(10, 25 - busy)) {
                try #require(try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"place \#(n)"}"#).status == .created)
            }
            let full = try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"one too many"}"#)
            #expect(full.status == .tooManyRequests && full.problemType == "/problems/feedback-busy")
            web.clock.advance(by: 3_600)
            #expect(try await web.request(.post, "/v1/feedback", json: #"{"topic":"general","text":"next hour"}"#).status == .created)

            // The page form, without an account.
            var browser = PageBrowser(web: web)
            let posted = try await browser.submit(on: "/feedback", to: "/feedback", ["topic": "privacy", "text": "Thanks for the export."])
            #expect(posted.location == "/feedback?notice=feedback-received")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aMonthlyJobReportsTheMonthOnceAndPublishesIt(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            // 2027-01-15: trades, a penalty and feedback in January.
            let seller = try await web.user("tea", roles: ["seller"])
            let buyer = try await web.user("alice")
            _ = try await web.completedTrade(buyer: buyer.token, seller: seller, priceMinor: 2_500)
            _ = try await web.completedTrade(buyer: buyer.token, seller: seller, priceMinor: 1_000)
            let admin = try await web.administrator()
            _ = try await web.request(.post, "/v1/users", json: #"{"email":"mia@example.com","password":"correct horse battery","displayName":"Mia","roles":["moderator"]}"#, token: admin)
            let moderator = try await web.logIn("mia")
            #expect(try await web.request(.post, "/v1/users/\(seller.id)/penalties", json: #"{"violationCode":"fake-rating","facts":"Bought ratings."}"#, token: moderator).status == .created)
            _ = try await web.request(.post, "/v1/feedback", json: #"{"topic":"safety","text":"Good escrow."}"#)

            // January has not ended: no report yet, and none can be forced.
            #expect((try await web.request(.get, "/v1/transparency-reports").object["items"] as? [Any])?.isEmpty == true)
            await #expect(throws: RuleNotMet.self) { try await web.services.transparencyReports.generate(month: "2027-01") }

            // 1 February: the job of the server that claims it makes January's report.
            web.clock.set(Date(timeIntervalSince1970: 1_801_440_000 + 60))   // 2027-02-01T00:01Z
            let runner = web.services.jobRunner(logger: TestDatabases.logger)
            try await runner.runDueJobs()
            let reports = try await web.request(.get, "/v1/transparency-reports").object["items"] as? [[String: Any]] ?? []
            let january = try #require(reports.first { $0["month"] as? String == "2027-01" }, "\(reports)")
            #expect(january["ordersPaid"] as? Int == 2)
            #expect(january["ordersCompleted"] as? Int == 2)
            #expect(january["feedbackReceived"] as? Int == 1)
            let volumes = january["volumes"] as? [[String: Any]] ?? []
            #expect(volumes.first?["paidMinor"] as? Int == 3_500 && volumes.first?["currency"] as? String == "EUR")
            let penalties = january["penalties"] as? [[String: Any]] ?? []
            #expect(penalties.first?["violationCode"] as? String == "fake-rating" && penalties.first?["count"] as? Int == 1)

            // Made once: later passes and a second server's attempt change nothing.
            web.clock.advance(by: 86_400)
            try await runner.runDueJobs()
            let again = try await web.services.transparencyReports.generate(month: "2027-01")
            #expect(again.created == false)
            #expect(try await web.services.transparencyReports.reports().count == 1)

            // CSV for whoever asks for it; the page charts the months.
            let csv = try await web.request(.get, "/v1/transparency-reports", headers: ["Accept": "text/csv"])
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first?.hasPrefix("month,generated_at,orders_placed,orders_paid") == true)
            #expect(lines.count == 2 && lines[1].hasPrefix("2027-01,") && lines[1].hasSuffix("EUR:3500/0"))
            let page = try await web.request(.get, "/transparency")
            #expect(page.text.contains("2027-01") && page.text.contains("<svg") && page.text.contains("Orders paid into escrow"))
        }
    }
}
