import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// Platform ledger totals written as a transaction's last statement (`LateTotals`, PostgreSQL):
/// money requests no longer queue on the platform's rows, and the totals still add up.
@Suite("Late platform totals")
struct LateTotalsTests {
    static let euro = Currency("EUR")!

    actor Done {
        var value = false
        func mark() { value = true }
    }

    static func cardPayment(_ minor: Int64, to user: UserID, reference: String) -> MoneyMovement {
        MoneyMovement(debit: .platform(.external), credit: .user(user, .available), amountMinor: minor, mode: .posted, purpose: .cardPayment, reference: reference)
    }

    /// While one transaction that credited the platform is still open, another one crediting the
    /// same platform account commits: nothing waits on the shared row until the first commits.
    @Test(arguments: TestDatabases.kinds.filter { $0 == .postgres })
    func twoPaymentsDoNotWaitForEachOtherOnThePlatformsRow(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (ann, _) = try await services.makeUser("ann", roles: [.buyer])
            let (ben, _) = try await services.makeUser("ben", roles: [.buyer])
            // The platform's account exists, as it does after a marketplace's first payment (a
            // row still being created by an open transaction makes any other creator wait).
            try await services.store.write { repositories in
                try await services.ledger.execute([Self.cardPayment(1, to: ben.id, reference: "first")], currency: Self.euro, orderID: nil, in: repositories, now: clock.now())
            }
            let (opened, release) = AsyncStream.makeStream(of: Void.self)
            let (finished, finish) = AsyncStream.makeStream(of: Void.self)
            let slow = Task {
                try await services.store.write { repositories in
                    try await services.ledger.execute([Self.cardPayment(1_000, to: ann.id, reference: "slow")], currency: Self.euro, orderID: nil, in: repositories, now: clock.now())
                    release.yield()
                    // Stays open (with its change to `external` not yet written) until told.
                    for await _ in finished { break }
                }
            }
            for await _ in opened { break }
            // Before the fix this waited for `slow` (which waits for it): a timeout, not a pass.
            let done = Done()
            let quick = Task {
                try await services.store.write { repositories in
                    try await services.ledger.execute([Self.cardPayment(250, to: ben.id, reference: "quick")], currency: Self.euro, orderID: nil, in: repositories, now: clock.now())
                }
                await done.mark()
            }
            for _ in 0..<100 where await !done.value { try await Task.sleep(for: .milliseconds(50)) }
            let quickFinished = await done.value
            finish.yield()
            finish.finish()
            try await slow.value
            try await quick.value
            #expect(quickFinished, "a second payment waited for the first to commit")
            let report = try await services.ledger.verify()
            #expect(report.isClean, "\(report.findings)")
            let external = try await services.store.read { try await $0.ledger.account(owner: .platform, kind: .external, currency: Self.euro) }
            #expect(external?.balances.debitsPosted == 1_251)
        }
    }

    /// A savepoint that rolls back takes its late change with it; reads in the transaction see
    /// its own late changes; an account locked later has its change written first.
    @Test(arguments: TestDatabases.kinds)
    func lateChangesFollowTheirSavepointAndAreSeenInTheirTransaction(_ kind: TestDatabaseKind) async throws {
        let clock = ManualClock()
        try await TestDatabases.withServices(kind, clock: clock) { services async throws in
            let (ann, _) = try await services.makeUser("ann", roles: [.buyer])
            struct Refused: Error {}
            try await services.store.write { repositories in
                try await services.ledger.execute([Self.cardPayment(700, to: ann.id, reference: "kept")], currency: Self.euro, orderID: nil, in: repositories, now: clock.now())
                _ = try? await repositories.savepoint {
                    try await services.ledger.execute([Self.cardPayment(9_000, to: ann.id, reference: "undone")], currency: Self.euro, orderID: nil, in: repositories, now: clock.now())
                    throw Refused()
                }
                let seen = try await repositories.ledger.account(owner: .platform, kind: .external, currency: Self.euro)
                #expect(seen?.balances.debitsPosted == 700)
                // Locking the account now writes its change first, and shows it.
                let locked = try await repositories.ledger.lockAccounts([.platform(.external)], currency: Self.euro, newID: { LedgerAccountID("acc_x") }, now: clock.now())
                #expect(locked[.platform(.external)]?.balances.debitsPosted == 700)
                try await services.ledger.execute([Self.cardPayment(50, to: ann.id, reference: "after")], currency: Self.euro, orderID: nil, in: repositories, now: clock.now())
            }
            let external = try await services.store.read { try await $0.ledger.account(owner: .platform, kind: .external, currency: Self.euro) }
            #expect(external?.balances.debitsPosted == 750)
            let report = try await services.ledger.verify()
            #expect(report.isClean, "\(report.findings)")
        }
    }
}
