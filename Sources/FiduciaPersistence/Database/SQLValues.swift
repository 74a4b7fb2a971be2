import Foundation
import SQLKit

extension Date {
    /// Times are stored as integer milliseconds since 1970 on both engines, which keeps SQL identical
    /// and comparisons exact.
    public var millisecondsSince1970: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
    }

    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int64(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try decode(column: column, as: Int64?.self) }
    func int(_ column: String) throws -> Int { Int(try decode(column: column, as: Int64.self)) }
    func double(_ column: String) throws -> Double { try decode(column: column, as: Double.self) }
    func date(_ column: String) throws -> Date { Date(millisecondsSince1970: try int64(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt64(column).map(Date.init(millisecondsSince1970:)) }
}

extension DatabaseKind {
    /// ` FOR UPDATE` on PostgreSQL, where concurrent transactions must lock the rows they are about
    /// to change; nothing on SQLite, where the single writer already serialises transactions.
    var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }
    var forShare: String { self == .postgres ? " FOR SHARE" : "" }
}
