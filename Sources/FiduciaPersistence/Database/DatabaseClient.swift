import FiduciaDomain
import Logging
import SQLKit

/// Which database engine a client talks to. Repositories use it for the few places where the SQL
/// differs (row locks, upserts).
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// A connection to Fiducia's database, SQLite or PostgreSQL.
///
/// Everything several Fiducia servers share lives behind this protocol. A request reads with
/// `read` and writes with exactly one `transaction`, so no request can leave half-written state.
public protocol DatabaseClient: AnyObject, Sendable {
    var kind: DatabaseKind { get }

    /// Runs `body` on a connection without a transaction. Use it for reads.
    func read<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result

    /// Runs `body` in a read-only transaction that sees one consistent snapshot of the database,
    /// however long it takes and whatever is written meanwhile (for audits and reports).
    func snapshot<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result

    /// Runs `body` in one transaction: committed if `body` returns, rolled back if it throws.
    ///
    /// On PostgreSQL a transaction that fails on a deadlock or a serialization conflict is run
    /// again (a bounded number of times), so `body` must only have effects inside the database.
    func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result

    /// Opens a transaction that stays open until the returned handle commits or rolls it back
    /// (see `UnitOfWork`). The caller must end it, on every path.
    func begin() async throws -> any OpenTransaction

    /// Closes every connection. The client must not be used afterwards.
    func close() async
}

extension DatabaseClient {
    /// True when the database answers a trivial query (for `/ready`).
    public func isReachable() async -> Bool {
        do {
            return try await read { database in
                try await database.raw("SELECT 1 AS one").first() != nil
            }
        } catch {
            return false
        }
    }
}

/// Opens the database a location names.
public enum DatabaseConnector {
    public static func connect(
        to location: DatabaseLocation,
        sqliteWriterWaitSeconds: Int = 30,
        logger: Logger
    ) async throws -> any DatabaseClient {
        switch location {
        case .sqlite(let path):
            try await SQLiteDatabaseClient.open(path: path, writerWaitSeconds: sqliteWriterWaitSeconds, logger: logger)
        case .postgres(let configuration):
            try await PostgresDatabaseClient.connect(configuration, logger: logger)
        }
    }
}
