import FiduciaPersistence
import FiduciaTestSupport
import Foundation
import SQLKit
import Testing

/// PostgreSQL aborts one of two deadlocked transactions; the client runs it again, so both commit.
@Suite("PostgreSQL transactions")
struct PostgresTransactionTests {
    actor Attempts {
        var count = 0
        var locked = 0
        func add() { count += 1 }
        /// Both transactions hold their first row before either asks for the second.
        func holdingFirstRow() async throws {
            locked += 1
            for _ in 0..<500 where locked < 2 { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    @Test(arguments: TestDatabases.kinds.filter { $0 == .postgres })
    func aDeadlockedTransactionIsRunAgainAndBothCommit(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind, migrate: false) { database, _ in
            try await database.transaction { sql in
                try await sql.raw("CREATE TABLE deadlock_test (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)").run()
                try await sql.raw("INSERT INTO deadlock_test (id, value) VALUES (1, 0), (2, 0)").run()
            }
            let attempts = Attempts()
            // Each locks one row, waits, then wants the other's: a deadlock PostgreSQL breaks by
            // aborting one of them (40P01).
            func crossing(first: Int, second: Int, add amount: Int) async throws {
                try await database.transaction { sql in
                    await attempts.add()
                    try await sql.raw("UPDATE deadlock_test SET value = value + \(bind: amount) WHERE id = \(bind: first)").run()
                    try await attempts.holdingFirstRow()
                    try await sql.raw("UPDATE deadlock_test SET value = value + \(bind: amount) WHERE id = \(bind: second)").run()
                }
            }
            async let one: Void = crossing(first: 1, second: 2, add: 1)
            async let two: Void = crossing(first: 2, second: 1, add: 10)
            _ = try await (one, two)
            let values = try await database.read { sql in
                try await sql.raw("SELECT value FROM deadlock_test ORDER BY id").all().map { try $0.decode(column: "value", as: Int.self) }
            }
            #expect(values == [11, 11])
            #expect(await attempts.count == 3, "the deadlock victim runs once more")
        }
    }
}
