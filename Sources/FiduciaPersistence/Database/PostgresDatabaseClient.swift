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

    public func close() async {
        runTask.cancel()
        await runTask.value
    }
}
