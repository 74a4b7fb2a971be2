import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit

/// The embedded database: one SQLite file, in WAL mode with durable commits.
///
/// SQLite allows one writer at a time, so all transactions go through a single writer connection,
/// where concurrent transactions are committed in groups that share one fsync (`SQLiteGroupCommit`);
/// several reader connections serve reads in parallel (WAL readers never block the writer). This
/// is the right shape for one Fiducia server. Several servers need PostgreSQL.
public final class SQLiteDatabaseClient: DatabaseClient {
    public let kind = DatabaseKind.sqlite
    public let path: String
    private let writerConnection: SQLiteConnection
    private let writer: SQLiteGroupCommit
    private let readers: ConnectionPool<SQLiteConnection>
    private let threadPool: NIOThreadPool

    private init(
        path: String,
        writer: SQLiteConnection,
        readers: ConnectionPool<SQLiteConnection>,
        threadPool: NIOThreadPool,
        writerWaitSeconds: Int
    ) {
        self.path = path
        self.writerConnection = writer
        self.writer = SQLiteGroupCommit(connection: writer, waitLimitSeconds: writerWaitSeconds)
        self.readers = readers
        self.threadPool = threadPool
    }

    /// Opens (and creates, with its folder, if needed) the SQLite file at `path`.
    /// A transaction waits at most `writerWaitSeconds` for its turn on the writer, then fails with
    /// `DatabaseBusy` (503 `database-busy`) having written nothing: a server sheds load rather
    /// than queueing requests without end.
    public static func open(path: String, readerCount: Int = 4, writerWaitSeconds: Int = 30, logger: Logger) async throws -> SQLiteDatabaseClient {
        precondition(readerCount > 0)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // SQLite calls block their thread (while waiting for a lock, too), so each client has its
        // own threads, one per connection: a connection waiting for a lock can never starve the
        // connection that holds it.
        let threadPool = NIOThreadPool(numberOfThreads: readerCount + 1)
        threadPool.start()
        var opened: [SQLiteConnection] = []
        do {
            let writer = try await openConnection(path: path, threadPool: threadPool, logger: logger)
            opened.append(writer)
            // WAL lets readers proceed while a write is in progress; FULL makes each commit durable
            // (synced to disk) before it is acknowledged, which a ledger needs.
            try await execute(writer, "PRAGMA journal_mode = WAL")
            try await execute(writer, "PRAGMA synchronous = FULL")
            var readers: [SQLiteConnection] = []
            for _ in 0..<readerCount {
                let reader = try await openConnection(path: path, threadPool: threadPool, logger: logger)
                opened.append(reader)
                // Readers cannot write, so a read path can never bypass the single writer by mistake.
                try await execute(reader, "PRAGMA query_only = ON")
                readers.append(reader)
            }
            return SQLiteDatabaseClient(
                path: path,
                writer: writer,
                readers: ConnectionPool(readers),
                threadPool: threadPool,
                writerWaitSeconds: writerWaitSeconds
            )
        } catch {
            for connection in opened { try? await connection.close() }
            try? await threadPool.shutdownGracefully()
            throw error
        }
    }

    private static func openConnection(path: String, threadPool: NIOThreadPool, logger: Logger) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path),
            threadPool: threadPool,
            logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any()
        )
        do {
            try await execute(connection, "PRAGMA foreign_keys = ON")
            // Another process (say `fiducia demo` beside `fiducia serve`) may hold the write lock
            // for a moment: wait up to 30 seconds for it, then fail instead of spinning forever.
            try await execute(connection, "PRAGMA busy_timeout = 30000")
            return connection
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func execute(_ connection: SQLiteConnection, _ sql: String) async throws {
        try await connection.query(sql, []) { _ in }
    }

    public func read<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await readers.withConnection { connection in
            try await body(connection.sql(queryLogLevel: .trace))
        }
    }

    public func snapshot<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await readers.withConnection { connection in
            // In WAL mode a read transaction sees the database as of its first read, to its end.
            try await Self.execute(connection, "BEGIN")
            do {
                let result = try await body(connection.sql(queryLogLevel: .trace))
                try await Self.execute(connection, "COMMIT")
                return result
            } catch {
                try? await Self.execute(connection, "ROLLBACK")
                throw error
            }
        }
    }

    public func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await writer.enter()
        let result: Result
        do {
            result = try await body(writerConnection.sql(queryLogLevel: .trace))
        } catch {
            // The body's own error is the answer; its writes are undone whatever the group does.
            try? await writer.leave(keep: false)
            throw error
        }
        try await writer.leave(keep: true)
        return result
    }

    public func begin() async throws -> any OpenTransaction {
        try await writer.enter()
        return SQLiteOpenTransaction(sql: writerConnection.sql(queryLogLevel: .trace), writer: writer)
    }

    /// How many physical commits carried how many transactions, since the database was opened.
    public func groupCommitStatistics() async -> (groups: Int, transactions: Int) {
        (await writer.groupsCommitted, await writer.transactionsCommitted)
    }

    public func close() async {
        for connection in [writerConnection] + readers.all {
            try? await connection.close()
        }
        try? await threadPool.shutdownGracefully()
    }
}

/// A caller's savepoint in the writer's open group (see `SQLiteGroupCommit`).
private final class SQLiteOpenTransaction: OpenTransaction {
    let sql: any SQLDatabase
    private let writer: SQLiteGroupCommit
    private let ended = NIOLockedValueBox(false)

    init(sql: any SQLDatabase, writer: SQLiteGroupCommit) {
        self.sql = sql
        self.writer = writer
    }

    /// True the first time only: a transaction ends once.
    private func end() -> Bool {
        ended.withLockedValue { ended in
            defer { ended = true }
            return !ended
        }
    }

    func commit() async throws {
        guard end() else { return }
        try await writer.leave(keep: true)
    }

    func rollback() async {
        guard end() else { return }
        try? await writer.leave(keep: false)
    }

    deinit {
        // A handle dropped without an ending (a bug) must not keep the writer forever.
        if end() {
            let writer = writer
            Task { try? await writer.leave(keep: false) }
        }
    }
}
