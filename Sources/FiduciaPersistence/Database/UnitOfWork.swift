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
    /// The open transaction's repositories (one set, so that its late ledger totals are one).
    private var openRepositories: Repositories?
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

    /// The unit's open transaction and its repositories, opened (with the prologue, the first
    /// time) if needed.
    private func transaction() async throws -> (transaction: any OpenTransaction, repositories: Repositories) {
        if let broken { throw broken }
        if let open, let openRepositories { return (open, openRepositories) }
        let transaction = try await database.begin()
        let repositories = Repositories.forWriting(sql: transaction.sql, kind: database.kind, sealer: sealer)
        if !prologueCommitted {
            do {
                try await prologue(repositories)
            } catch {
                await transaction.rollback()
                throw error
            }
        }
        open = transaction
        openRepositories = repositories
        return (transaction, repositories)
    }

    /// Forgets the open transaction (committed or rolled back by the caller).
    private func close() {
        open = nil
        openRepositories = nil
    }

    /// A write of the request: in a savepoint of the unit's transaction, so that a write that
    /// throws leaves nothing behind while the request's earlier writes stay.
    func write<Result: Sendable>(_ body: @Sendable (Repositories) async throws -> Result) async throws -> Result {
        let repositories = try await transaction().repositories
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
        if let openRepositories { return try await body(openRepositories) }
        let kind = database.kind
        let sealer = sealer
        return try await database.read { try await body(Repositories(sql: $0, kind: kind, sealer: sealer)) }
    }

    /// Commits what the request wrote so far (its prologue included); later writes open a new
    /// transaction. Nothing to do before the first write.
    func commitEarly() async throws {
        guard let open, let openRepositories else { return }
        close()
        do {
            try await openRepositories.finishWrites()
        } catch {
            await open.rollback()
            broken = error
            throw error
        }
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
        let (transaction, repositories) = try await transaction()
        close()
        do {
            try await epilogue(repositories)
            try await repositories.finishWrites()
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
            close()
            await open.rollback()
        }
        if prologueCommitted {
            let sealer = sealer
            let kind = database.kind
            try await database.transaction { try await cleanup(Repositories(sql: $0, kind: kind, sealer: sealer)) }
        }
    }
}
