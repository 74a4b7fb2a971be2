import FiduciaDomain

/// One request's writes and its recorded outcome, committed together in one transaction.
///
/// An API request sent with an `Idempotency-Key` must never be done without its stored answer,
/// even if the server dies between the two. So while a request runs inside a unit (`Store.run(in:)`),
/// every `Store.write` it makes joins one transaction, opened at the first write, and the
/// answer is stored in that same transaction before it commits (`finish`). Reads made after the
/// first write go to the same transaction, so they see the request's own writes.
///
/// The transaction is opened lazily, so a request's slow work before its first write (a password
/// hash) holds no lock. Work that must be durable before the request goes on, because something
/// outside the database follows (a payment provider is asked to move money), ends the unit's
/// transaction early with `Store.commitRequestWrites()`; the rest of the request then runs in a
/// second one.
public actor UnitOfWork {
    /// Runs once, in the first transaction the unit opens, before any write: the unit's claim
    /// (for an idempotent request, the key). Throwing abandons the request before it wrote.
    public typealias Prologue = @Sendable (Repositories) async throws -> Void

    let database: any DatabaseClient
    private let sealer: any PersonalDataSealer
    private let prologue: Prologue
    private var open: (any OpenTransaction)?
    /// The prologue ran in a transaction that was committed early (`commitEarly`).
    private var prologueCommitted = false
    /// An early commit failed: none of the request's writes happened, and nothing more may be
    /// written or answered in its name (a caller that swallowed the error must not go on).
    private var broken: (any Error)?

    @TaskLocal static var current: UnitOfWork?

    init(database: any DatabaseClient, sealer: any PersonalDataSealer, prologue: @escaping Prologue) {
        self.database = database
        self.sealer = sealer
        self.prologue = prologue
    }

    /// The unit's transaction is open (the request wrote since its last early commit).
    var isOpen: Bool { open != nil }

    /// True once the request has written (its prologue ran).
    public var hasWritten: Bool { open != nil || prologueCommitted }

    private func repositories(_ transaction: any OpenTransaction) -> Repositories {
        Repositories(sql: transaction.sql, kind: database.kind, sealer: sealer)
    }

    /// The unit's open transaction, opened (with the prologue, the first time) if needed.
    private func transaction() async throws -> any OpenTransaction {
        if let broken { throw broken }
        if let open { return open }
        let transaction = try await database.begin()
        if !prologueCommitted {
            do {
                try await prologue(repositories(transaction))
            } catch {
                await transaction.rollback()
                throw error
            }
        }
        open = transaction
        return transaction
    }

    /// A write of the request: in a savepoint of the unit's transaction, so that a write that
    /// throws leaves nothing behind while the request's earlier writes stay.
    func write<Result: Sendable>(_ body: @Sendable (Repositories) async throws -> Result) async throws -> Result {
        let repositories = repositories(try await transaction())
        var attempt = 1
        while true {
            do {
                return try await repositories.savepoint { try await body(repositories) }
            } catch where DatabaseErrors.isRetryable(error) && attempt < PostgresDatabaseClient.maximumAttempts {
                // A deadlock aborted only the savepoint: run the write again.
                attempt += 1
            }
        }
    }

    /// A read of the request: in the unit's transaction once it wrote, so that it sees its writes.
    func read<Result: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> Result) async throws -> Result {
        if let open { return try await body(repositories(open)) }
        let kind = database.kind
        let sealer = sealer
        return try await database.read { try await body(Repositories(sql: $0, kind: kind, sealer: sealer)) }
    }

    /// Commits what the request wrote so far (its prologue included); later writes open a new
    /// transaction. Nothing to do before the first write.
    func commitEarly() async throws {
        guard let open else { return }
        self.open = nil
        do {
            try await open.commit()
            prologueCommitted = true
        } catch {
            broken = error
            throw error
        }
    }

    /// Ends the request: if it wrote, runs `epilogue` (storing its answer) in its transaction
    /// and commits. Returns whether there was anything to commit.
    @discardableResult
    public func finish(_ epilogue: @Sendable (Repositories) async throws -> Void) async throws -> Bool {
        if let broken { throw broken }
        guard hasWritten else { return false }
        let transaction = try await transaction()
        open = nil
        do {
            try await epilogue(repositories(transaction))
        } catch {
            await transaction.rollback()
            throw error
        }
        try await transaction.commit()
        return true
    }

    /// Undoes what the request wrote since its last early commit. If an early commit kept its
    /// prologue, `cleanup` runs in a transaction of its own (to release the claim).
    public func abandon(cleanup: @escaping @Sendable (Repositories) async throws -> Void) async throws {
        if let open {
            self.open = nil
            await open.rollback()
        }
        if prologueCommitted {
            let sealer = sealer
            let kind = database.kind
            try await database.transaction { try await cleanup(Repositories(sql: $0, kind: kind, sealer: sealer)) }
        }
    }
}
