import PostgresNIO
import SQLiteNIO

/// Recognises the few database errors Fiducia handles on purpose, on both engines.
public enum DatabaseErrors {
    /// A UNIQUE or PRIMARY KEY constraint refused an insert.
    public static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? SQLiteError {
            switch error.reason {
            case .constraintUniqueFailed, .constraintPrimaryKeyFailed: return true
            case .constraint: return error.message.contains("UNIQUE")
            default: return false
            }
        }
        if let error = error as? PSQLError {
            return error.serverInfo?[.sqlState] == "23505"
        }
        return false
    }

    /// Which constraint or index refused a write, when the engine says.
    public static func violatedConstraint(_ error: any Error) -> String? {
        if let error = error as? SQLiteError { return error.message }
        if let error = error as? PSQLError {
            return error.serverInfo?[.constraintName]
        }
        return nil
    }

    /// Deadlocks and serialization failures: PostgreSQL aborted the transaction, and running it
    /// again is the documented remedy.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }
}
