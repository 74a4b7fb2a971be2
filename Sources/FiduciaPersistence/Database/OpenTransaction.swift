import FiduciaDomain
import SQLKit

/// A transaction held open across calls, ended by exactly one `commit` or `rollback`.
///
/// Used by a `UnitOfWork`: an API request whose writes and stored answer must commit together
/// opens one at its first write and ends it once its answer is known.
public protocol OpenTransaction: AnyObject, Sendable {
    var sql: any SQLDatabase { get }
    /// Makes the writes durable; returns only once they are (on SQLite, once the group they were
    /// committed with is on disk). Throws if they were not, in which case none of them happened.
    func commit() async throws
    /// Undoes every write of the transaction.
    func rollback() async
}

/// The embedded writer waited too long for its turn: the server is overloaded (or a transaction
/// is stuck). Nothing was written; the same request may succeed a moment later.
public struct DatabaseBusy: DomainError, Equatable {
    public let waitedSeconds: Int

    public init(waitedSeconds: Int) {
        self.waitedSeconds = waitedSeconds
    }

    public var kind: FailureKind { .unavailable }
    public var code: String { "database-busy" }
    public var title: String { "The database is busy" }
    public var detail: String { "Nothing was changed: no write could start within \(waitedSeconds) seconds. Try again in a moment." }
    public var isTransient: Bool { true }
}
