import ArgumentParser
import FiduciaPersistence
import FiduciaServices
import Foundation
import Logging

/// Options every command that touches the database accepts.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "A configuration file of NAME=value lines (default: $FIDUCIA_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The database: a SQLite path or postgres://… (default: $FIDUCIA_DATABASE_URL or fiducia-data/fiducia.sqlite).")
    var database: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    var overrides: [String: String] {
        var values: [String: String] = [:]
        values["FIDUCIA_DATABASE_URL"] = database
        values["FIDUCIA_LOG_LEVEL"] = logLevel
        return values
    }

    /// The configuration from flags, environment and file, with logging set up from it: the first
    /// thing every command does.
    func resolve(extra: [String: String] = [:], defaultLogLevel: Logger.Level? = nil) throws -> Configuration {
        let configuration = try resolveSettings(extra: extra, defaultLogLevel: defaultLogLevel)
        LogSetup.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        return configuration
    }

    private func resolveSettings(extra: [String: String], defaultLogLevel: Logger.Level?) throws -> Configuration {
        var environment = ProcessInfo.processInfo.environment
        if let defaultLogLevel, environment["FIDUCIA_LOG_LEVEL"] == nil { environment["FIDUCIA_LOG_LEVEL"] = defaultLogLevel.rawValue }
        do {
            return try Configuration.resolve(environment: environment, configFile: config, overrides: overrides.merging(extra) { $1 })
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        } catch let error as DatabaseLocationError {
            throw ValidationError(error.description)
        }
    }
}

/// Opening and closing the database and the services around a command.
enum Runtime {
    /// Connects, applies pending migrations when `migrate` is true (otherwise refuses an outdated
    /// schema), runs `body` with the services, and always closes the database.
    static func withServices<Result: Sendable>(
        _ configuration: Configuration,
        migrate: Bool = true,
        logger: Logger,
        _ body: (AppServices) async throws -> Result
    ) async throws -> Result {
        let database = try await DatabaseConnector.connect(to: configuration.database, logger: logger)
        do {
            let migrator = Migrator(database: database)
            if migrate {
                let applied = try await migrator.apply(now: Date()) { migration in
                    logger.info("applied migration \(migration.version): \(migration.name)")
                }
                if !applied.isEmpty { logger.info("database schema is now at version \(applied.last!.version)") }
            } else if try await !migrator.isCurrent() {
                throw ValidationError("The database schema is not current. Run `fiducia migrate` first.")
            }
            let vault = try await PersonalDataVault.open(source: try await keySource(configuration, database: database, logger: logger), database: database)
            let services = AppServices(database: database, vault: vault, settings: configuration.settings)
            if migrate, case let sealed = try await KeyService.sealLegacyData(services), sealed > 0 {
                logger.notice("sealed the personal data of \(sealed) accounts created by an older version")
            }
            let result = try await body(services)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }
}

extension Runtime {
    /// Where the key-encryption keys come from: `FIDUCIA_DATA_KEYS`, else the key file
    /// (`FIDUCIA_KEY_FILE`, by default `fiducia.keys` beside the SQLite database). A missing key file
    /// is created only while the database holds no sealed data; otherwise Fiducia refuses to start.
    static func keySource(_ configuration: Configuration, database: any DatabaseClient, logger: Logger) async throws -> KeyRingSource {
        do {
            if let keys = configuration.dataKeys { return KeyRingSource(fixed: try KeyRing(parsing: keys)) }
            guard let path = configuration.resolvedKeyFile else {
                throw ValidationError(
                    "No key-encryption key is configured. With PostgreSQL, set FIDUCIA_KEY_FILE to a key file (created on first start) "
                        + "or FIDUCIA_DATA_KEYS; every server of the deployment needs the same keys.")
            }
            if FileManager.default.fileExists(atPath: path) { return try KeyRingSource(file: path) }
            if try await PersonalDataVault.databaseHasKeys(database) {
                throw ValidationError(
                    "The database holds personal data sealed with a key-encryption key, but the key file \(path) does not exist. "
                        + "Fiducia will not start without it: restore the key file, or point FIDUCIA_KEY_FILE (or FIDUCIA_DATA_KEYS) at the keys.")
            }
            try KeyRing.generate().write(file: path)
            logger.notice("created a new key-encryption key in \(path) (mode 0600): back it up, without it the personal data cannot be read")
            return try KeyRingSource(file: path)
        } catch let error as KeyRingError {
            throw ValidationError(error.description)
        }
    }
}

/// Writes a line to standard output (what a command reports) and flushes it, so that progress
/// appears at once even when stdout is a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Writes progress to standard error, keeping standard output for results.
func progress(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
