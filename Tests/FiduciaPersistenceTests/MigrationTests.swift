import FiduciaPersistence
import FiduciaTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test(arguments: TestDatabases.kinds)
    func appliesEachMigrationOnceEvenFromSeveralServersAtOnce(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind, migrate: false) { database, location async throws in
            let before = try await Migrator(database: database).status()
            #expect(before.allSatisfy { $0.appliedAt == nil })

            // Three "servers" (separate clients) migrate the same database concurrently.
            let second = try await DatabaseConnector.connect(to: location, logger: TestDatabases.logger)
            let third = try await DatabaseConnector.connect(to: location, logger: TestDatabases.logger)
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in [database, second, third] {
                    group.addTask { try await Migrator(database: client).apply(now: Date()).count }
                }
                return try await group.reduce(0, +)
            }
            await second.close()
            await third.close()
            #expect(applied == SchemaMigrations.all.count)

            let after = try await Migrator(database: database).status()
            #expect(after.allSatisfy { $0.appliedAt != nil })
            #expect(try await Migrator(database: database).apply(now: Date()).isEmpty)
            #expect(try await Migrator(database: database).isCurrent())
        }
    }

    /// `/ready` asks whether the schema is current: that question must not write (not even the
    /// bookkeeping table), so that unauthenticated probes never take the write lock.
    @Test(arguments: TestDatabases.kinds)
    func askingWhetherTheSchemaIsCurrentWritesNothing(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind, migrate: false) { database, _ async throws in
            #expect(try await Migrator(database: database).isCurrent() == false)
            await #expect(throws: (any Error).self) {
                try await database.read { try await $0.raw("SELECT version FROM fiducia_schema_migrations").all() }
            }
            try await Migrator(database: database).apply(now: Date())
            #expect(try await Migrator(database: database).isCurrent())
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func aFailedTransactionWritesNothing(_ kind: TestDatabaseKind) async throws {
        struct Boom: Error {}
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            await #expect(throws: Boom.self) {
                try await database.transaction { sql in
                    try await sql.raw("INSERT INTO server_secrets (name, secret, created_at) VALUES ('a', 'b', 1)").run()
                    throw Boom()
                }
            }
            let count = try await database.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM server_secrets").first()!.decode(column: "n", as: Int.self)
            }
            #expect(count == 0)
        }
    }

    @Test func sqliteRunsInWALModeWithDurableCommits() async throws {
        try await TestDatabases.withDatabase(.sqlite) { database, _ async throws in
            let mode = try await database.transaction { sql in
                try await sql.raw("PRAGMA journal_mode").first()!.decode(column: "journal_mode", as: String.self)
            }
            let synchronous = try await database.transaction { sql in
                try await sql.raw("PRAGMA synchronous").first()!.decode(column: "synchronous", as: Int.self)
            }
            #expect(mode == "wal")
            #expect(synchronous == 2)  // FULL
        }
    }

    @Test func parsesDatabaseURLs() throws {
        #expect(try DatabaseLocation(parsing: "fiducia-data/x.sqlite") == .sqlite(path: "fiducia-data/x.sqlite"))
        #expect(try DatabaseLocation(parsing: "sqlite:///var/lib/f.sqlite") == .sqlite(path: "/var/lib/f.sqlite"))
        let postgres = try DatabaseLocation(parsing: "postgres://me:s%40cret@db.example:6543/fiducia?sslmode=require")
        #expect(postgres == .postgres(.init(host: "db.example", port: 6543, username: "me", password: "s@cret", database: "fiducia", tls: .require)))
        #expect(postgres.description == "postgres://me@db.example:6543/fiducia")
        #expect(throws: DatabaseLocationError.self) { try DatabaseLocation(parsing: "mysql://x@y/z") }
        #expect(throws: DatabaseLocationError.self) { try DatabaseLocation(parsing: "postgres://host/db") }
    }
}
