import FiduciaDomain
import Foundation
import SQLKit

/// One stored value of an exported row, as JSON has it.
public enum ExportValue: Sendable, Equatable, Encodable {
    case null
    case integer(Int64)
    case number(Double)
    case text(String)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}

/// A person's data (G2): the privacy notices they accepted, what the database holds about them
/// (for the export and the "what we hold" page), and the erasure of their account.
public protocol PrivacyRepository: Sendable {
    func accept(_ user: UserID, version: Int, at now: Date) async throws
    /// Every acceptance, oldest first.
    func acceptances(_ user: UserID) async throws -> [(version: Int, at: Date)]
    /// The person's rows of each exported table, in `PrivacyExport.tables` order. Sealed columns
    /// and secrets (token and code hashes) are left out; the service adds the opened details.
    func rows(of user: UserID) async throws -> [(name: String, rows: [[String: ExportValue]])]
    /// How many rows of each exported table are the person's, without reading them.
    func counts(of user: UserID) async throws -> [(name: String, count: Int)]
    /// Their identity documents and uploaded attachments: (file name, sealed id or blob hash, sealed?).
    func files(of user: UserID) async throws -> [(name: String, reference: String, sealed: Bool)]
    func obstacles(to user: UserID) async throws -> DeletionObstacles
    /// Locks the user's row for the rest of the transaction (PostgreSQL; SQLite has one writer).
    func lockAccount(_ user: UserID) async throws
    /// Erases the account's personal data in the caller's transaction (the service also ends its sessions).
    func erase(_ user: UserID, at now: Date) async throws
}

/// The tables a person's export is made of: the file name, the table, which of its rows are the
/// person's (`$u` stands for their id), and the columns left out.
public enum PrivacyExport {
    public struct Table: Sendable {
        public let name, table, condition: String
        public let omitted: Set<String>
    }

    static let ordersOfUser = "SELECT id FROM orders WHERE buyer_id = $u OR seller_id = $u"
    static let disputesOfUser = "SELECT id FROM disputes WHERE buyer_id = $u OR seller_id = $u"

    public static let tables: [Table] = [
        Table(name: "orders", table: "orders", condition: "buyer_id = $u OR seller_id = $u", omitted: []),
        Table(name: "order-messages", table: "order_messages", condition: "order_id IN (\(ordersOfUser))", omitted: []),
        // Ratings they gave, and ratings about them once published (never a blind one before then).
        Table(name: "ratings", table: "ratings", condition: "rater_id = $u OR (ratee_id = $u AND published_at IS NOT NULL)", omitted: []),
        Table(name: "disputes", table: "disputes", condition: "buyer_id = $u OR seller_id = $u", omitted: []),
        Table(name: "dispute-evidence", table: "dispute_evidence", condition: "dispute_id IN (\(disputesOfUser))", omitted: []),
        Table(name: "penalties", table: "penalties", condition: "user_id = $u", omitted: []),
        Table(name: "appeals", table: "appeals", condition: "appellant_id = $u", omitted: []),
        // Reports they made; reports about them are not given out, to protect who reported.
        Table(name: "reports-made", table: "reports", condition: "reporter_id = $u", omitted: []),
        Table(name: "ledger-accounts", table: "ledger_accounts", condition: "owner = $u", omitted: []),
        Table(name: "ledger-transfers", table: "ledger_transfers",
              condition: "debit_account_id IN (SELECT id FROM ledger_accounts WHERE owner = $u) OR credit_account_id IN (SELECT id FROM ledger_accounts WHERE owner = $u)",
              omitted: []),
        Table(name: "payouts", table: "payouts", condition: "user_id = $u", omitted: []),
        Table(name: "statements", table: "statements", condition: "buyer_id = $u", omitted: []),
        Table(name: "payment-card", table: "payment_cards", condition: "user_id = $u", omitted: ["token"]),
        Table(name: "credit-scores", table: "credit_scores", condition: "user_id = $u", omitted: []),
        Table(name: "credit-score-history", table: "credit_score_history", condition: "user_id = $u", omitted: []),
        Table(name: "sessions", table: "sessions", condition: "user_id = $u", omitted: ["token_hash"]),
        Table(name: "verifications", table: "verifications", condition: "user_id = $u", omitted: ["details", "target_hash", "code_hash"]),
        Table(name: "identity-document-views", table: "document_views",
              condition: "document_id IN (SELECT id FROM sealed_documents WHERE owner_id = $u)", omitted: []),
        Table(name: "external-accounts", table: "external_accounts", condition: "user_id = $u", omitted: ["subject_hash"]),
        Table(name: "friends", table: "friendships", condition: "user_id = $u", omitted: []),
        Table(name: "friend-requests", table: "friend_requests", condition: "from_id = $u OR to_id = $u", omitted: []),
        // Whom they blocked; not who blocked them.
        Table(name: "blocks", table: "blocks", condition: "blocker_id = $u", omitted: []),
        Table(name: "trust-lists", table: "trust_list_entries", condition: "owner_id = $u", omitted: []),
        Table(name: "experiences", table: "experiences", condition: "author_id = $u", omitted: []),
        Table(name: "questions", table: "questions", condition: "asker_id = $u", omitted: []),
        Table(name: "answers", table: "answers", condition: "author_id = $u", omitted: []),
        Table(name: "invitations", table: "invitations", condition: "inviter_id = $u", omitted: ["code_hash"]),
        Table(name: "seals", table: "seals", condition: "merchant_id = $u", omitted: []),
        Table(name: "shop-origins", table: "shop_origins", condition: "merchant_id = $u", omitted: []),
        Table(name: "privacy-acceptances", table: "privacy_acceptances", condition: "user_id = $u", omitted: []),
        Table(name: "loyalty-points", table: "loyalty_entries",
              condition: "credit_account = 'member:' || seller_id || ':' || $u OR debit_account = 'member:' || seller_id || ':' || $u", omitted: []),
        Table(name: "loyalty-programme", table: "loyalty_programmes", condition: "seller_id = $u", omitted: []),
        Table(name: "service-commitments", table: "service_commitments", condition: "seller_id = $u", omitted: []),
        // A listing in the fraud feed shared with partner platforms (hashes only); matches found in
        // partners' feeds are not given out while they may be under investigation.
        Table(name: "fraud-feed-listing", table: "fraud_feed_entries", condition: "user_id = $u", omitted: []),
        Table(name: "incidents", table: "incidents", condition: "started_by = $u OR ended_by = $u", omitted: []),
        Table(name: "staff-actions", table: "audit_events", condition: "actor = $u", omitted: []),
    ]
}

struct SQLPrivacyRepository: PrivacyRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    func accept(_ user: UserID, version: Int, at now: Date) async throws {
        try await sql.raw("""
            INSERT INTO privacy_acceptances (user_id, version, accepted_at) VALUES (\(bind: user.rawValue), \(bind: version), \(bind: now.millisecondsSince1970))
            ON CONFLICT (user_id, version) DO NOTHING
            """).run()
    }

    func acceptances(_ user: UserID) async throws -> [(version: Int, at: Date)] {
        try await sql.raw("SELECT version, accepted_at FROM privacy_acceptances WHERE user_id = \(bind: user.rawValue) ORDER BY version").all().map {
            (try $0.int("version"), try $0.date("accepted_at"))
        }
    }

    /// `condition` with the person's id bound wherever it says `$u`.
    private func query(_ head: String, _ table: PrivacyExport.Table, _ user: UserID) -> SQLQueryString {
        var query = SQLQueryString("\(unsafeRaw: head) FROM \(unsafeRaw: table.table) WHERE ")
        let parts = table.condition.components(separatedBy: "$u")
        for (index, part) in parts.enumerated() {
            query.appendInterpolation(unsafeRaw: part)
            if index < parts.count - 1 { query.appendInterpolation(bind: user.rawValue) }
        }
        return query
    }

    func rows(of user: UserID) async throws -> [(name: String, rows: [[String: ExportValue]])] {
        var result: [(name: String, rows: [[String: ExportValue]])] = []
        for table in PrivacyExport.tables {
            let rows = try await sql.raw(query("SELECT *", table, user)).all()
            result.append((table.name, try rows.map { row in
                var object: [String: ExportValue] = [:]
                for column in row.allColumns where !table.omitted.contains(column) {
                    object[column] = try Self.value(row, column)
                }
                return object
            }))
        }
        return result
    }

    /// A column's value whatever its type: integers are never read from text on either engine, so
    /// the first decoding that succeeds is the stored type.
    static func value(_ row: any SQLRow, _ column: String) throws -> ExportValue {
        if try row.decodeNil(column: column) { return .null }
        if let integer = try? row.decode(column: column, as: Int64.self) { return .integer(integer) }
        if let number = try? row.decode(column: column, as: Double.self) { return .number(number) }
        if let text = try? row.decode(column: column, as: String.self) { return .text(text) }
        return .null
    }

    func counts(of user: UserID) async throws -> [(name: String, count: Int)] {
        var result: [(name: String, count: Int)] = []
        for table in PrivacyExport.tables {
            let count = try await sql.raw(query("SELECT COUNT(*) AS n", table, user)).first()?.int("n") ?? 0
            result.append((table.name, count))
        }
        return result
    }

    func files(of user: UserID) async throws -> [(name: String, reference: String, sealed: Bool)] {
        let documents = try await sql.raw("SELECT id, content_type FROM sealed_documents WHERE owner_id = \(bind: user.rawValue) ORDER BY id").all().map { row in
            let id = try row.string("id")
            let type = try row.string("content_type")
            let fileExtension = type == "application/pdf" ? "pdf" : (type.split(separator: "/").last.map(String.init) ?? "bin")
            return (name: "identity-documents/\(id).\(fileExtension)", reference: id, sealed: true)
        }
        let uploads = try await sql.raw("SELECT id, sha256, file_name FROM attachments WHERE owner_id = \(bind: user.rawValue) ORDER BY id").all().map { row in
            (name: "attachments/\(try row.string("id"))-\(Self.safeFileName(try row.string("file_name")))", reference: try row.string("sha256"), sealed: false)
        }
        return documents + uploads
    }

    /// A name someone gave a file, made safe to unpack: no folder separators (slash, backslash),
    /// no leading dots, no control characters, so that no unzip writes outside its folder.
    static func safeFileName(_ name: String) -> String {
        var safe = String(name.unicodeScalars.map { scalar -> Character in
            scalar == "/" || scalar == "\\" || scalar.properties.generalCategory == .control ? "_" : Character(scalar)
        })
        while safe.hasPrefix(".") { safe.removeFirst() }
        return safe.isEmpty ? "file" : String(safe.prefix(120))
    }

    func obstacles(to user: UserID) async throws -> DeletionObstacles {
        let u = user.rawValue
        var obstacles = DeletionObstacles()
        obstacles.openOrders = try await count("""
            SELECT COUNT(*) AS n FROM orders WHERE (buyer_id = \(bind: u) OR seller_id = \(bind: u)) AND status NOT IN ('completed', 'cancelled', 'refunded')
            """)
        obstacles.openDisputes = try await count("""
            SELECT COUNT(*) AS n FROM disputes WHERE (buyer_id = \(bind: u) OR seller_id = \(bind: u)) AND status <> 'resolved'
            """)
        obstacles.pendingAppeals = try await count("SELECT COUNT(*) AS n FROM appeals WHERE appellant_id = \(bind: u) AND status = 'pending'")
        obstacles.openStatements = try await count("SELECT COUNT(*) AS n FROM statements WHERE buyer_id = \(bind: u) AND status <> 'settled'")
        obstacles.pendingPayouts = try await count("SELECT COUNT(*) AS n FROM payouts WHERE user_id = \(bind: u) AND status = 'pending'")
        return obstacles
    }

    func lockAccount(_ user: UserID) async throws {
        _ = try await sql.raw("SELECT id FROM users WHERE id = \(bind: user.rawValue)\(unsafeRaw: kind.forUpdate)").first()
    }

    private func count(_ query: SQLQueryString) async throws -> Int {
        try await sql.raw(query).first()?.int("n") ?? 0
    }

    func erase(_ user: UserID, at now: Date) async throws {
        let u = user.rawValue
        // The row stays so that orders, ratings and ledger records keep their party, but nothing in
        // it names a person any more. Without its data key, whatever was sealed for the person
        // (verification details, identity documents) can no longer be opened by anyone; the rows
        // themselves go too.
        try await sql.raw("""
            UPDATE users SET email = '', email_hash = NULL, data_key = NULL, display_name = 'Deleted account', password_hash = NULL,
                roles = ',', external_id = NULL, deleted_at = \(bind: now.millisecondsSince1970)
            WHERE id = \(bind: u)
            """).run()
        for statement: SQLQueryString in [
            "DELETE FROM document_views WHERE document_id IN (SELECT id FROM sealed_documents WHERE owner_id = \(bind: u))",
            "DELETE FROM verifications WHERE user_id = \(bind: u)",
            "DELETE FROM sealed_documents WHERE owner_id = \(bind: u)",
            "DELETE FROM payment_cards WHERE user_id = \(bind: u)",
            "DELETE FROM external_accounts WHERE user_id = \(bind: u)",
            "DELETE FROM friendships WHERE user_id = \(bind: u) OR friend_id = \(bind: u)",
            "DELETE FROM friend_requests WHERE from_id = \(bind: u) OR to_id = \(bind: u)",
            "DELETE FROM blocks WHERE blocker_id = \(bind: u) OR blocked_id = \(bind: u)",
            "DELETE FROM trust_list_entries WHERE owner_id = \(bind: u) OR merchant_id = \(bind: u)",
            "DELETE FROM trust_list_visibility WHERE owner_id = \(bind: u)",
            "DELETE FROM shop_origins WHERE merchant_id = \(bind: u)",
        ] {
            try await sql.raw(statement).run()
        }
    }
}
