import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

@Suite("Monthly jobs")
struct MonthlyJobTests {
    /// The commendation job reads every seller's month from a snapshot, outside its transaction,
    /// and its transaction only writes: it still runs once per month, on the first, on both engines.
    @Test(arguments: TestDatabases.kinds)
    func theCommendationJobRunsOnceOnTheFirstOfTheMonth(_ kind: TestDatabaseKind) async throws {
        // 2027-03-15 12:00 UTC.
        let clock = ManualClock(Date(timeIntervalSince1970: 1_805_112_000))
        try await TestDatabases.withServices(kind, clock: clock) { services in
            _ = try await services.makeUser("tea", roles: [.seller])
            let runner = services.jobRunner(logger: TestDatabases.logger)
            try await runner.runDueJobs()
            clock.advance(by: 17 * 86_400 + 60)  // 2027-04-01 12:01
            try await runner.runDueJobs()
            let job = try await services.store.read { try await $0.jobs.find(uniqueKey: "commendations.monthly:2027-03") }
            #expect(job?.state == .done)
            // A seller with no sales that month earned nothing.
            let seller = try #require(try await services.store.read { try await $0.users.list(role: .seller, after: nil, limit: 10) }.first)
            #expect(try await services.store.read { try await $0.credit.commendations(seller: seller.id) }.isEmpty)
        }
    }
}
