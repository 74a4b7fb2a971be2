import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL, the production database: many stateless Fiducia servers can share one.
public final class PostgresDatabaseClient: DatabaseClient {
    public let kind = DatabaseKind.postgres
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger
    /// How many times a transaction is attempted when PostgreSQL aborts it for a deadlock or a
    /// serialization conflict (both are safe to retry).
    static let maximumAttempts = 5

    private init(client: PostgresClient, runTask: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runTask = runTask
        self.logger = logger
    }

    /// Connects and checks that the server answers.
    public static func connect(_ location: PostgresLocation, maximumConnections: Int = 20, logger: Logger) async throws -> PostgresDatabaseClient {
        let tls: PostgresClient.Configuration.TLS =
            switch location.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // Lease connections only once run() has started (PostgresNIO warns otherwise).
        let (started, signal) = AsyncStream<Void>.makeStream()
        let runTask = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        await Task.yield()
        let database = PostgresDatabaseClient(client: client, runTask: runTask, logger: logger)
        do {
            _ = try await database.read { try await $0.raw("SELECT 1 AS one").first() }
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    public func read<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: .trace))
        }
    }

    public func snapshot<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let result = try await body(connection.sql(queryLogLevel: .trace))
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    public func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await client.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        let result = try await body(connection.sql(queryLogLevel: .trace))
                        try await connection.query("COMMIT", logger: logger)
                        return result
                    } catch {
                        do {
                            try await connection.query("ROLLBACK", logger: logger)
                        } catch let rollbackError {
                            logger.error("PostgreSQL rollback failed", metadata: ["error": "\(rollbackError)"])
                        }
                        throw error
                    }
                }
            } catch where DatabaseErrors.isRetryable(error) && attempt < Self.maximumAttempts {
                logger.debug("retrying transaction", metadata: ["attempt": "\(attempt)", "error": "\(String(reflecting: error))"])
                attempt += 1
            }
        }
    }

    public func begin() async throws -> any OpenTransaction {
        // PostgresNIO lends connections only for the length of a closure: a task holds the
        // closure open until the handle says how the transaction ends.
        let (connections, lend) = AsyncThrowingStream.makeStream(of: PostgresConnection.self)
        let (decisions, decide) = AsyncStream.makeStream(of: Bool.self)
        let logger = logger
        let holder = Task {
            do {
                try await client.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    lend.yield(connection)
                    lend.finish()
                    var keep = false
                    for await decision in decisions {
                        keep = decision
                        break
                    }
                    if keep {
                        try await connection.query("COMMIT", logger: logger)
                    } else {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                    }
                }
            } catch {
                lend.finish(throwing: error)
                throw error
            }
        }
        for try await connection in connections {
            return PostgresOpenTransaction(sql: connection.sql(queryLogLevel: .trace), decide: decide, holder: holder)
        }
        // The stream ended without a connection or an error: only when the task was cancelled.
        throw CancellationError()
    }

    public func close() async {
        runTask.cancel()
        await runTask.value
    }
}

/// A transaction on a connection lent by PostgresNIO's pool until `commit` or `rollback`.
private final class PostgresOpenTransaction: OpenTransaction {
    let sql: any SQLDatabase
    private let decide: AsyncStream<Bool>.Continuation
    private let holder: Task<Void, any Error>

    init(sql: any SQLDatabase, decide: AsyncStream<Bool>.Continuation, holder: Task<Void, any Error>) {
        self.sql = sql
        self.decide = decide
        self.holder = holder
    }

    func commit() async throws {
        decide.yield(true)
        decide.finish()
        try await holder.value
    }

    func rollback() async {
        decide.yield(false)
        decide.finish()
        _ = try? await holder.value
    }

    deinit {
        // A handle dropped without an ending (a bug) rolls back and gives its connection back.
        decide.finish()
    }
}
