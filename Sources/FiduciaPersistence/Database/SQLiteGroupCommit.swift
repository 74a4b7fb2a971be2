import SQLiteNIO

/// Group commit for SQLite's single writer connection: concurrent transactions share one fsync.
///
/// SQLite has one writer, and a durable commit (`synchronous=FULL`) costs an fsync, so one
/// transaction per commit caps a server at the disk's fsync rate. Here the writer connection runs
/// one *physical* transaction at a time, and each caller's transaction is a savepoint inside it:
///
/// 1. `enter` waits for the connection (callers take turns, first come first served), opens the
///    physical transaction if none is open (`BEGIN IMMEDIATE`), and opens the caller's savepoint.
/// 2. The caller runs its statements.
/// 3. `leave` releases the savepoint (keeping its writes) or rolls back to it (undoing only them).
///    If another caller is waiting and the group is not full, the connection passes to it and the
///    physical transaction stays open; otherwise the group is committed with one `COMMIT`.
/// 4. Every member's `leave` returns only after that `COMMIT`: nobody is answered before the fsync
///    that makes their writes durable. If the commit fails, every member gets the error and none
///    of their writes happened (the retry of an idempotent request is then safe).
///
/// A member whose savepoint cannot be closed (SQLite rolled the whole transaction back on an I/O
/// error) fails its whole group the same way. The group grows only while callers are already
/// waiting, so a lone request commits at once, as before; under load the fsync is shared.
actor SQLiteGroupCommit {
    private let connection: SQLiteConnection
    private let maximumGroup: Int
    private let waitLimitSeconds: Int

    /// A caller holds the connection (between `enter` and `leave`), or a group is committing.
    private var busy = false
    private var waiting: [(id: Int, turn: CheckedContinuation<Void, any Error>, timeout: Task<Void, Never>)] = []
    private var nextWaiterID = 0
    /// The physical transaction is open.
    private var groupOpen = false
    private var groupSize = 0
    /// Members of the open group whose writes are kept (the others rolled back to their savepoint).
    private var groupKept = 0
    /// Members that left and wait for the group's commit.
    private var committed: [CheckedContinuation<Void, any Error>] = []
    /// Why the open group can no longer commit.
    private var failure: (any Error)?

    private(set) var groupsCommitted = 0
    private(set) var transactionsCommitted = 0

    init(connection: SQLiteConnection, maximumGroup: Int = 256, waitLimitSeconds: Int = 30) {
        precondition(maximumGroup > 0)
        self.connection = connection
        self.maximumGroup = maximumGroup
        self.waitLimitSeconds = waitLimitSeconds
    }

    /// Waits for the connection and opens the caller's savepoint. Throws `DatabaseBusy` after
    /// waiting `waitLimitSeconds` without a turn (nothing was written).
    func enter() async throws {
        if busy {
            try await waitForTurn()
        }
        busy = true
        do {
            if !groupOpen {
                try await execute("BEGIN IMMEDIATE")
                groupOpen = true
                groupSize = 0
                groupKept = 0
                failure = nil
            }
            try await execute("SAVEPOINT fiducia_transaction")
            groupSize += 1
        } catch {
            // Nothing of this caller's is in the group: let the others' group go on without it,
            // or commit it if nobody else is waiting to.
            if groupOpen, groupSize > 0 {
                if let next = nextWaiter() { next.resume() } else { try? await commitGroup() }
            } else {
                if groupOpen { try? await execute("ROLLBACK") }
                groupOpen = false
                await passOn()
            }
            throw error
        }
    }

    /// Ends the caller's savepoint (`keep`: its writes stay; otherwise they are undone) and
    /// returns once the group it belongs to is committed. Throws if the group failed to commit.
    func leave(keep: Bool) async throws {
        if failure == nil {
            do {
                if !keep { try await execute("ROLLBACK TO fiducia_transaction") }
                try await execute("RELEASE fiducia_transaction")
                if keep { groupKept += 1 }
            } catch {
                failure = error
            }
        }
        if failure == nil, groupSize < maximumGroup, let next = nextWaiter() {
            // The next caller continues the group; this one waits for its commit.
            try await withCheckedThrowingContinuation { (member: CheckedContinuation<Void, any Error>) in
                committed.append(member)
                next.resume()
            }
            return
        }
        try await commitGroup()
    }

    private func commitGroup() async throws {
        let outcome: Result<Void, any Error>
        if let failure {
            try? await execute("ROLLBACK")
            outcome = .failure(failure)
        } else {
            do {
                try await execute("COMMIT")
                outcome = .success(())
                groupsCommitted += 1
                transactionsCommitted += groupKept
            } catch {
                try? await execute("ROLLBACK")
                outcome = .failure(error)
            }
        }
        groupOpen = false
        failure = nil
        let members = committed
        committed = []
        for member in members { member.resume(with: outcome) }
        await passOn()
        try outcome.get()
    }

    /// Gives the connection to the next waiting caller, or marks it free.
    private func passOn() async {
        if let next = nextWaiter() {
            next.resume()
        } else {
            busy = false
        }
    }

    private func nextWaiter() -> CheckedContinuation<Void, any Error>? {
        guard !waiting.isEmpty else { return nil }
        let next = waiting.removeFirst()
        next.timeout.cancel()
        return next.turn
    }

    private func waitForTurn() async throws {
        let id = nextWaiterID
        nextWaiterID += 1
        let limit = waitLimitSeconds
        try await withCheckedThrowingContinuation { (turn: CheckedContinuation<Void, any Error>) in
            let timeout = Task { [weak self] in
                guard (try? await Task.sleep(for: .seconds(limit))) != nil else { return }
                await self?.expire(id)
            }
            waiting.append((id, turn, timeout))
        }
    }

    private func expire(_ id: Int) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).turn.resume(throwing: DatabaseBusy(waitedSeconds: waitLimitSeconds))
    }

    private func execute(_ sql: String) async throws {
        try await connection.query(sql, []) { _ in }
    }
}

extension CheckedContinuation where T == Void, E == any Error {
    fileprivate func resume() { resume(returning: ()) }
}
