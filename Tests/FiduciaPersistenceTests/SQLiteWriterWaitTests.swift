import FiduciaPersistence
import FiduciaTestSupport
import Foundation
import SQLKit
import Testing

/// A transaction that cannot get SQLite's writer within the limit is refused, having written
/// nothing, while the one holding the writer goes on undisturbed.
@Suite("SQLite writer wait")
struct SQLiteWriterWaitTests {
    @Test
    func aWriterWaitingPastTheLimitIsRefusedAsBusyAndWritesNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-wait-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseClient.open(path: directory.appendingPathComponent("wait.sqlite").path, writerWaitSeconds: 1, logger: TestDatabases.logger)
        try await database.transaction { try await $0.raw("CREATE TABLE notes (text TEXT NOT NULL)").run() }
        let (holding, held) = AsyncStream.makeStream(of: Void.self)
        let slow = Task {
            try await database.transaction { sql in
                try await sql.raw("INSERT INTO notes (text) VALUES ('slow')").run()
                held.yield()
                try await Task.sleep(for: .seconds(3))
            }
        }
        for await _ in holding { break }
        await #expect(throws: DatabaseBusy.self) {
            try await database.transaction { try await $0.raw("INSERT INTO notes (text) VALUES ('refused')").run() }
        }
        try await slow.value
        let texts = try await database.read { try await $0.raw("SELECT text FROM notes").all().map { try $0.decode(column: "text", as: String.self) } }
        #expect(texts == ["slow"])
        await database.close()
    }
}
