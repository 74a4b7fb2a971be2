import Foundation
import Logging
import SQLKit

/// One versioned change to the schema. Applied once, in order, in its own transaction, on SQLite
/// and PostgreSQL alike; `statements` may differ by engine where their SQL does.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    let statements: @Sendable (DatabaseKind) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (DatabaseKind) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Whether a migration has been applied, and when.
public struct MigrationStatus: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let appliedAt: Date?
}

/// Applies the migrations that have not been applied yet and reports which have.
public struct Migrator: Sendable {
    let database: any DatabaseClient
    let migrations: [Migration]

    public init(database: any DatabaseClient, migrations: [Migration] = SchemaMigrations.all) {
        precondition(
            zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
            "migrations must be listed in increasing version order"
        )
        self.database = database
        self.migrations = migrations
    }

    /// Key of the PostgreSQL advisory lock that serialises migrations between servers starting together.
    static let advisoryLockKey: Int64 = 0x00F1_D0C1_A000_0001

    /// Every known migration with the time it was applied, or nil if pending.
    public func status() async throws -> [MigrationStatus] {
        try await ensureBookkeepingTable()
        let applied = try await database.read { database in
            try await database.raw("SELECT version, applied_at FROM fiducia_schema_migrations").all()
        }
        var appliedAt: [Int: Date] = [:]
        for row in applied {
            appliedAt[try row.decode(column: "version", as: Int.self)] = Date(millisecondsSince1970: try row.decode(column: "applied_at", as: Int64.self))
        }
        return migrations.map { MigrationStatus(version: $0.version, name: $0.name, appliedAt: appliedAt[$0.version]) }
    }

    /// Applies every pending migration; returns those it applied (none if the schema is current).
    @discardableResult
    public func apply(now: Date, progress: @Sendable (Migration) -> Void = { _ in }) async throws -> [Migration] {
        try await ensureBookkeepingTable()
        var applied: [Migration] = []
        for migration in migrations {
            let kind = database.kind
            let didApply = try await database.transaction { database in
                if kind == .postgres {
                    // Two servers starting at once must not both apply the same migration.
                    try await database.raw("SELECT pg_advisory_xact_lock(\(bind: Self.advisoryLockKey))").run()
                }
                let existing = try await database.raw(
                    "SELECT version FROM fiducia_schema_migrations WHERE version = \(bind: migration.version)"
                ).first()
                guard existing == nil else { return false }
                for statement in migration.statements(kind) {
                    try await database.raw(SQLQueryString(statement)).run()
                }
                try await database.raw("""
                    INSERT INTO fiducia_schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now.millisecondsSince1970))
                    """).run()
                return true
            }
            if didApply {
                progress(migration)
                applied.append(migration)
            }
        }
        return applied
    }

    /// True when every known migration has been applied.
    /// Only reads (readiness probes call it, unauthenticated, and must never take the write lock):
    /// a database without the bookkeeping table is simply not current.
    public func isCurrent() async throws -> Bool {
        let rows: [any SQLRow]
        do {
            rows = try await database.read { try await $0.raw("SELECT version FROM fiducia_schema_migrations").all() }
        } catch {
            return false
        }
        let applied = Set(try rows.map { try $0.decode(column: "version", as: Int.self) })
        return migrations.allSatisfy { applied.contains($0.version) }
    }

    /// The bookkeeping table is the one table that cannot itself be created by a migration.
    private func ensureBookkeepingTable() async throws {
        try await database.transaction { database in
            try await database.raw("""
                CREATE TABLE IF NOT EXISTS fiducia_schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """).run()
        }
    }
}

extension SQLQueryString {
    init(_ text: String) {
        self.init(stringLiteral: "")
        self.appendInterpolation(unsafeRaw: text)
    }
}
