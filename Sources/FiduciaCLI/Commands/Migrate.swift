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
