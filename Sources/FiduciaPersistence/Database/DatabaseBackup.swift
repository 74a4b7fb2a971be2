import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// Consistent backups taken while servers keep serving, and their restoration (G4).
///
/// - SQLite: `VACUUM INTO` a new file, from a connection of its own: one read transaction, so the
///   copy is the database at one instant (WAL readers do not block the writer, nor it them).
/// - PostgreSQL: `pg_dump --format=custom` (a snapshot in one repeatable-read transaction), restored
///   with `pg_restore --clean --if-exists` into the database named.
public enum DatabaseBackup {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func backup(_ location: DatabaseLocation, to output: String) async throws {
        guard !FileManager.default.fileExists(atPath: output) else { throw Failure(description: "\(output) exists already; name a new file.") }
        switch location {
        case .sqlite(let path):
            guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "there is no SQLite database at \(path)") }
            let threadPool = NIOThreadPool(numberOfThreads: 1)
            threadPool.start()
            defer { threadPool.shutdownGracefully { _ in } }
            let connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: Logger(label: "fiducia.backup"), on: MultiThreadedEventLoopGroup.singleton.any()
            )
            do {
                try await connection.query("PRAGMA busy_timeout = 30000", []) { _ in }
                try await connection.query("VACUUM INTO ?", [.text(output)]) { _ in }
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        case .postgres(let server):
            try run("pg_dump", ["--format=custom", "--no-owner", "--file", output] + arguments(server), password: server.password)
        }
    }

    /// Restores `input` into `location`: a SQLite path that does not exist yet, or an existing
    /// (empty or to be overwritten) PostgreSQL database.
    public static func restore(_ input: String, into location: DatabaseLocation) async throws {
        guard FileManager.default.fileExists(atPath: input) else { throw Failure(description: "there is no backup at \(input)") }
        switch location {
        case .sqlite(let path):
            guard !FileManager.default.fileExists(atPath: path) else {
                throw Failure(description: "\(path) exists: restore into a new path, then point FIDUCIA_DATABASE_URL at it")
            }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: input, toPath: path)
        case .postgres(let server):
            try run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction"] + arguments(server) + [input], password: server.password)
        }
    }

    private static func arguments(_ server: PostgresLocation) -> [String] {
        ["--host", server.host, "--port", String(server.port), "--username", server.username, "--dbname", server.database]
    }

    /// Runs a PostgreSQL client tool found on PATH or under /usr/lib/postgresql/*/bin.
    private static func run(_ tool: String, _ arguments: [String], password: String?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try locate(tool))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        if let password { environment["PGPASSWORD"] = password }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure(description: "\(tool) failed (exit \(process.terminationStatus)): \(text.prefix(500))")
        }
    }

    private static func locate(_ tool: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var candidates = path.split(separator: ":").map { "\($0)/\(tool)" }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin/\(tool)" }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "\(tool) was not found (install the PostgreSQL client tools)")
        }
        return found
    }
}
