import ArgumentParser
import FiduciaPersistence
import Foundation
import Logging

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply or inspect database migrations.",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration (safe to run from several servers at once).")

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            let logger = Logger(label: "fiducia.migrate")
            let database = try await DatabaseConnector.connect(to: configuration.database, logger: logger)
            let applied: [Migration]
            do {
                applied = try await Migrator(database: database).apply(now: Date()) { migration in
                    say("applied \(migration.version): \(migration.name)")
                }
            } catch {
                await database.close()
                throw error
            }
            await database.close()
            say(applied.isEmpty ? "The schema is current; nothing to apply." : "Applied \(applied.count) migration(s).")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List migrations and whether each is applied.")

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            let logger = Logger(label: "fiducia.migrate")
            let database = try await DatabaseConnector.connect(to: configuration.database, logger: logger)
            let status = try await Migrator(database: database).status()
            await database.close()
            say("database: \(configuration.database)")
            for migration in status {
                let state = migration.appliedAt.map { "applied \($0.formatted(.iso8601))" } ?? "pending"
                say("\(migration.version)\t\(state)\t\(migration.name)")
            }
            let pending = status.filter { $0.appliedAt == nil }.count
            say(pending == 0 ? "The schema is current." : "\(pending) migration(s) pending: run `fiducia migrate`.")
        }
    }
}

/// `fiducia backup --output FILE`: a consistent copy while servers keep serving.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a consistent backup of the database while Fiducia keeps serving.",
        discussion: """
            SQLite: VACUUM INTO a new file (one read transaction, the database at one instant). PostgreSQL: \
            pg_dump --format=custom. The key file (or FIDUCIA_DATA_KEYS) is not in the backup: keep it too, \
            apart from the backup, or the sealed personal data cannot be read after a restore.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(name: .long, help: "The backup file to write (must not exist).")
    var output: String

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let start = ContinuousClock.now
        progress("backing up \(configuration.database) …")
        do {
            try await DatabaseBackup.backup(configuration.database, to: output)
        } catch let failure as DatabaseBackup.Failure {
            throw ValidationError(failure.description)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        say("backed up \(configuration.database) to \(output) (\(bytes / 1024) KiB) in \(start.duration(to: .now))")
        if let keys = configuration.resolvedKeyFile { say("keep the key file \(keys) safe as well: the backup does not contain it") }
    }
}

/// `fiducia restore --input FILE --database TARGET`: a backup into a new database.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup made by `fiducia backup` into a new SQLite path or a PostgreSQL database.",
        discussion: "Then check it: `fiducia ledger verify`, `fiducia audit verify`, and `fiducia log verify` against a server on it."
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(name: .long, help: "The backup file.")
    var input: String

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        progress("restoring \(input) into \(configuration.database) …")
        do {
            try await DatabaseBackup.restore(input, into: configuration.database)
        } catch let failure as DatabaseBackup.Failure {
            throw ValidationError(failure.description)
        }
        say("restored \(input) into \(configuration.database)")
    }
}
