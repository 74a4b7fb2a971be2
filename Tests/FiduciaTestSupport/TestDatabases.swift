import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import Foundation
import Logging
import SQLKit

/// The databases a test runs against: a real SQLite file and a real PostgreSQL server, which
/// `FIDUCIA_TEST_POSTGRES_URL` names (the test script starts one and sets it). Without it every
/// PostgreSQL test fails, loudly, unless `FIDUCIA_TEST_SKIP_POSTGRES=1` says on purpose to run
/// SQLite only: half the matrix never goes missing in silence.
public enum TestDatabaseKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }
}

public enum TestDatabases {
    /// The admin URL of the test PostgreSQL server, if any.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["FIDUCIA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the run was told to leave PostgreSQL out.
    public static var skipsPostgres: Bool {
        ProcessInfo.processInfo.environment["FIDUCIA_TEST_SKIP_POSTGRES"] == "1"
    }

    /// Every database kind this test run covers.
    public static var kinds: [TestDatabaseKind] {
        skipsPostgres ? [.sqlite] : [.sqlite, .postgres]
    }

    /// Why PostgreSQL tests cannot run.
    public struct PostgresMissing: Error, CustomStringConvertible {
        public var description: String {
            "FIDUCIA_TEST_POSTGRES_URL is not set, so the PostgreSQL half of the tests cannot run. Run scripts/test.sh "
                + "(which starts a PostgreSQL server), set the URL, or set FIDUCIA_TEST_SKIP_POSTGRES=1 to skip PostgreSQL on purpose."
        }
    }

    public static let logger = Logger(label: "fiducia.test") { _ in SwiftLogNoOpLogHandler() }

    /// A fresh, empty database of `kind` (a new SQLite file, or a new PostgreSQL database), deleted
    /// afterwards. Migrations are applied unless `migrate` is false.
    public static func withDatabase<Result: Sendable>(
        _ kind: TestDatabaseKind,
        migrate: Bool = true,
        _ body: (any DatabaseClient, DatabaseLocation) async throws -> Result
    ) async throws -> Result {
        let location = try await create(kind)
        // The whole suite runs its tests at once, each SQLite database with its own threads, on
        // machines with two cores: a writer can wait far longer for its turn than any server
        // should let a request wait. The tests check what happens, not how fast; a server keeps
        // the 30-second limit (`SQLiteWriterWaitTests` checks the refusal with a short one).
        let database = try await DatabaseConnector.connect(to: location, sqliteWriterWaitSeconds: 180, logger: logger)
        do {
            if migrate { try await Migrator(database: database).apply(now: Date()) }
            let result = try await body(database, location)
            await database.close()
            try await destroy(location)
            return result
        } catch {
            await database.close()
            try? await destroy(location)
            throw error
        }
    }

    /// Services over a fresh database, with a manual clock and cheap bcrypt.
    public static func withServices<Result: Sendable>(
        _ kind: TestDatabaseKind,
        clock: ManualClock = ManualClock(),
        settings: ServiceSettings = .forTests,
        provider: (any PaymentProvider)? = nil,
        _ body: (AppServices) async throws -> Result
    ) async throws -> Result {
        try await withDatabase(kind) { database, _ in
            try await body(AppServices(database: database, vault: try await vault(database), settings: settings, clock: clock, provider: provider))
        }
    }

    /// The key-encryption key every test uses (fixed, so that a test can reopen its database).
    public static let keyRing = try! KeyRing(parsing: "kek-test:" + Data(repeating: 7, count: 32).base64EncodedString())

    /// The personal-data vault over a test database.
    public static func vault(_ database: any DatabaseClient) async throws -> PersonalDataVault {
        try await PersonalDataVault.open(source: KeyRingSource(fixed: keyRing), database: database)
    }

    /// A store over a test database, sealing with the test key.
    public static func store(_ database: any DatabaseClient) async throws -> Store {
        Store(database: database, sealer: try await vault(database))
    }

    /// Makes a new empty database and returns where it is.
    public static func create(_ kind: TestDatabaseKind) async throws -> DatabaseLocation {
        let name = "fiducia_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return .sqlite(path: directory.appendingPathComponent("fiducia.sqlite").path)
        case .postgres:
            guard let url = postgresURL, case .postgres(var admin) = try DatabaseLocation(parsing: url) else {
                throw PostgresMissing()
            }
            try await withAdmin(admin) { database in
                try await database.raw("CREATE DATABASE \(ident: String(name))").run()
            }
            admin.database = String(name)
            return .postgres(admin)
        }
    }

    public static func destroy(_ location: DatabaseLocation) async throws {
        switch location {
        case .sqlite(let path):
            try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
        case .postgres(let database):
            guard let url = postgresURL, case .postgres(let admin) = try DatabaseLocation(parsing: url) else { return }
            try await withAdmin(admin) { connection in
                try await connection.raw("DROP DATABASE IF EXISTS \(ident: database.database) WITH (FORCE)").run()
            }
        }
    }

    private static func withAdmin(_ admin: PostgresLocation, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let client = try await PostgresDatabaseClient.connect(admin, maximumConnections: 1, logger: logger)
        do {
            try await client.read(body)
            await client.close()
        } catch {
            await client.close()
            throw error
        }
    }
}

extension ServiceSettings {
    /// Production settings with a cheap bcrypt cost, so tests that sign up many users stay fast.
    public static var forTests: ServiceSettings {
        var settings = ServiceSettings()
        settings.bcryptCost = 4
        // The manual clock stands still: the trust engine must look for new ratings every time.
        settings.trustFreshnessSeconds = 0
        return settings
    }
}

extension AppServices {
    /// Signs up a user through the real service and returns them with a principal acting as them.
    public func makeUser(_ name: String, roles: Set<Role> = [.buyer]) async throws -> (user: User, principal: Principal) {
        let admin = Principal.user(
            User(id: UserID("usr_test_admin"), email: "", displayName: "admin", roles: [.admin], createdAt: clock.now()),
            session: SessionID("ses_test")
        )
        let user = try await accounts.signUp(
            .init(email: "\(name)@example.com", password: "correct horse battery", displayName: name, roles: roles),
            by: admin
        )
        return (user, .user(user, session: SessionID("ses_\(name)")))
    }

    /// A staff principal for tests.
    public func makeStaff(_ name: String = "moderator") async throws -> Principal {
        try await makeUser(name, roles: [.moderator, .admin]).principal
    }
}
