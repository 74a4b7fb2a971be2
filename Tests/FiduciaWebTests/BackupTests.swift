import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// `fiducia backup` while money moves and staff act, restored into a new database: the ledger,
/// the audit chain and the rating log come back whole.
@Suite("Backup and restore")
struct BackupTests {
    @Test(arguments: TestDatabases.kinds)
    func aBackupTakenUnderLoadRestoresWhole(_ kind: TestDatabaseKind) async throws {
        try await WebHarness.run(kind) { web in
            let buyer = try await web.user("ann")
            let seller = try await web.user("tea", roles: ["seller"])
            for _ in 0..<3 {
                let order = try await web.completedTrade(buyer: buyer.token, seller: seller)
                _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: RatingLogTests.buyerRating, token: buyer.token)
                _ = try await web.request(.post, "/v1/orders/\(order)/rating", json: RatingLogTests.sellerRating, token: seller.token)
            }
            let head = try await web.services.ratingLog.signTreeHead()
            let location = try #require(web.location)
            let services = web.services

            _ = try await services.accounts.ensureAdministrator(email: "root@example.com", password: "correct horse battery", displayName: "Root")

            // The load: the guarantee fund topped up again and again, administrators appointed. The
            // backup starts once the load is under way, and the load goes on while it runs.
            let (started, signal) = AsyncStream<Void>.makeStream()
            async let load: Int = {
                var done = 0
                for n in 0..<60 {
                    try await services.ledger.topUpGuaranteeFund(currency: Currency("EUR")!, amountMinor: 100, reference: "load-\(n)")
                    if n % 20 == 0 {
                        _ = try await services.accounts.ensureAdministrator(email: "ops\(n)@example.com", password: "correct horse battery", displayName: "Ops")
                    }
                    if n == 5 { signal.finish() }
                    done += 1
                }
                return done
            }()
            for await _ in started {}
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-backup-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let backup = folder.appendingPathComponent("backup").path
            try await DatabaseBackup.backup(location, to: backup)
            #expect(try await load == 60)
            await #expect(throws: DatabaseBackup.Failure.self) { try await DatabaseBackup.backup(location, to: backup) }

            func check(_ restored: DatabaseLocation) async throws {
                let database = try await DatabaseConnector.connect(to: restored, logger: TestDatabases.logger)
                do {
                    let copy = AppServices(database: database, vault: try await TestDatabases.vault(database), settings: .forTests)
                    #expect(try await copy.ledger.verify().isClean)
                    let audit = try await copy.audit.verify()
                    #expect(audit.problems.isEmpty && audit.checked >= 2, "\(audit)")
                    let restoredHead = try #require(try await copy.ratingLog.treeHead())
                    #expect(restoredHead == head)
                    let root = try await copy.store.read { repositories in
                        try await MerkleTree.root(0, restoredHead.treeSize, nodes: repositories.ratingLog.nodes(), hasher: RatingLogService.hasher)
                    }
                    #expect(root == head.rootHash)
                    await database.close()
                } catch {
                    await database.close()
                    throw error
                }
            }
            switch kind {
            case .sqlite:
                let target = DatabaseLocation.sqlite(path: folder.appendingPathComponent("restored/fiducia.sqlite").path)
                try await DatabaseBackup.restore(backup, into: target)
                try await check(target)
                // Never over an existing database.
                await #expect(throws: DatabaseBackup.Failure.self) { try await DatabaseBackup.restore(backup, into: target) }
            case .postgres:
                try await TestDatabases.withDatabase(.postgres, migrate: false) { _, target in
                    try await DatabaseBackup.restore(backup, into: target)
                    try await check(target)
                }
            }
        }
    }
}
