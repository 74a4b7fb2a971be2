import FiduciaDomain
import Foundation
import SQLKit

/// Bytes stored under their SHA-256 (content-addressed: the same file twice is stored once).
public protocol BlobRepository: Sendable {
    func put(sha256: String, bytes: [UInt8], now: Date) async throws
    func get(sha256: String) async throws -> [UInt8]?
}

/// Where an attachment belongs, which decides who may fetch it.
public struct AttachmentContext: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Uploaded through the API and not yet attached to anything: only its owner sees it.
        case upload
        case message, evidence, report, appeal
        /// A photo of an experience shared with friends (E4): the author's friends see it.
        case experience
    }

    public let kind: Kind
    public let id: String
    /// The order it concerns, if any (its parties may fetch it).
    public let orderID: OrderID?

    public init(kind: Kind, id: String, orderID: OrderID?) {
        self.kind = kind
        self.id = id
        self.orderID = orderID
    }

    public static let upload = AttachmentContext(kind: .upload, id: "", orderID: nil)
}

/// Attachments' metadata: name, type, size, where they belong and who uploaded them.
public protocol AttachmentRepository: Sendable {
    func insert(_ attachment: Attachment, context: AttachmentContext, owner: UserID, now: Date) async throws
    func find(_ id: AttachmentID) async throws -> (attachment: Attachment, context: AttachmentContext, owner: UserID)?
    /// Attaches `owner`'s uploads to `context`; returns those that were still unattached uploads of
    /// theirs (an upload is attached once, and never moves afterwards).
    func claim(_ ids: [AttachmentID], owner: UserID, context: AttachmentContext) async throws -> [Attachment]
    /// Forgets uploads never attached since `before`, and bytes nothing refers to any more.
    func deleteStaleUploads(before: Date) async throws -> Int
}

/// Order messages: appended, listed, never changed.
public protocol MessageRepository: Sendable {
    func insert(_ message: OrderMessage) async throws
    /// An order's messages, oldest first, after `cursor`.
    func messages(order: OrderID, after cursor: OrderMessageID?, limit: Int) async throws -> [OrderMessage]
    /// The messages of every order of `seller` with a message since `since`, oldest first (for the
    /// response time); at most `limit` orders.
    func conversations(seller: UserID, since: Date, limit: Int) async throws -> [OrderID: [OrderMessage]]
}

struct SQLBlobRepository: BlobRepository {
    let sql: any SQLDatabase

    func put(sha256: String, bytes: [UInt8], now: Date) async throws {
        try await sql.raw("""
            INSERT INTO blobs (sha256, byte_count, data, created_at) VALUES (\(bind: sha256), \(bind: bytes.count), \(bind: Data(bytes)), \(bind: now.millisecondsSince1970))
            ON CONFLICT (sha256) DO NOTHING
            """).run()
    }

    func get(sha256: String) async throws -> [UInt8]? {
        try await sql.raw("SELECT data FROM blobs WHERE sha256 = \(bind: sha256)").first().map { [UInt8](try $0.decode(column: "data", as: Data.self)) }
    }
}

struct SQLAttachmentRepository: AttachmentRepository {
    let sql: any SQLDatabase

    func insert(_ attachment: Attachment, context: AttachmentContext, owner: UserID, now: Date) async throws {
        try await sql.raw("""
            INSERT INTO attachments (id, sha256, file_name, content_type, byte_count, context_kind, context_id, order_id, owner_id, created_at)
            VALUES (\(bind: attachment.id.rawValue), \(bind: attachment.sha256), \(bind: attachment.fileName), \(bind: attachment.type.rawValue),
                    \(bind: attachment.byteCount), \(bind: context.kind.rawValue), \(bind: context.id), \(bind: context.orderID?.rawValue),
                    \(bind: owner.rawValue), \(bind: now.millisecondsSince1970))
            """).run()
    }

    func find(_ id: AttachmentID) async throws -> (attachment: Attachment, context: AttachmentContext, owner: UserID)? {
        guard let row = try await sql.raw("""
            SELECT id, sha256, file_name, content_type, byte_count, context_kind, context_id, order_id, owner_id FROM attachments WHERE id = \(bind: id.rawValue)
            """).first()
        else { return nil }
        let attachment = Attachment(
            id: AttachmentID(try row.string("id")), fileName: try row.string("file_name"),
            type: AttachmentType(rawValue: try row.string("content_type")) ?? .pdf, byteCount: try row.int("byte_count"), sha256: try row.string("sha256")
        )
        let context = AttachmentContext(
            kind: AttachmentContext.Kind(rawValue: try row.string("context_kind")) ?? .message, id: try row.string("context_id"),
            orderID: try row.optionalString("order_id").map(OrderID.init)
        )
        return (attachment, context, UserID(try row.string("owner_id")))
    }

    func claim(_ ids: [AttachmentID], owner: UserID, context: AttachmentContext) async throws -> [Attachment] {
        guard !ids.isEmpty else { return [] }
        let rows = try await sql.raw("""
            UPDATE attachments SET context_kind = \(bind: context.kind.rawValue), context_id = \(bind: context.id), order_id = \(bind: context.orderID?.rawValue)
            WHERE id IN (\(binds: ids.map(\.rawValue))) AND owner_id = \(bind: owner.rawValue) AND context_kind = 'upload'
            RETURNING id, sha256, file_name, content_type, byte_count
            """).all()
        let claimed = try Dictionary(uniqueKeysWithValues: rows.map { row in
            (AttachmentID(try row.string("id")), Attachment(
                id: AttachmentID(try row.string("id")), fileName: try row.string("file_name"),
                type: AttachmentType(rawValue: try row.string("content_type")) ?? .pdf, byteCount: try row.int("byte_count"), sha256: try row.string("sha256")
            ))
        })
        // In the order the caller gave.
        return ids.compactMap { claimed[$0] }
    }

    func deleteStaleUploads(before: Date) async throws -> Int {
        let cutoff = before.millisecondsSince1970
        let deleted = try await sql.raw("""
            DELETE FROM attachments WHERE context_kind = 'upload' AND created_at < \(bind: cutoff) RETURNING id
            """).all().count
        try await sql.raw("""
            DELETE FROM blobs WHERE created_at < \(bind: cutoff) AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = blobs.sha256)
            """).run()
        return deleted
    }
}

/// JSON for attachment lists kept beside a message, evidence, a report or an appeal.
enum AttachmentsJSON {
    static func encode(_ attachments: [Attachment]) throws -> String { try JSONCoding.string(attachments) }
    static func decode(_ text: String) throws -> [Attachment] { try JSONCoding.decode([Attachment].self, text) }
}

struct SQLMessageRepository: MessageRepository {
    let sql: any SQLDatabase

    static let columns = "id, order_id, author_id, role, body, attachments, created_at"

    func insert(_ message: OrderMessage) async throws {
        try await sql.raw("""
            INSERT INTO order_messages (\(unsafeRaw: Self.columns)) VALUES (\(bind: message.id.rawValue), \(bind: message.orderID.rawValue),
                \(bind: message.authorID.rawValue), \(bind: message.role.rawValue), \(bind: message.body), \(bind: try AttachmentsJSON.encode(message.attachments)),
                \(bind: message.createdAt.millisecondsSince1970))
            """).run()
    }

    func messages(order: OrderID, after cursor: OrderMessageID?, limit: Int) async throws -> [OrderMessage] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM order_messages WHERE order_id = \(bind: order.rawValue) AND id > \(bind: cursor?.rawValue ?? "")
            ORDER BY id LIMIT \(bind: limit)
            """).all().map(Self.message)
    }

    func conversations(seller: UserID, since: Date, limit: Int) async throws -> [OrderID: [OrderMessage]] {
        let rows = try await sql.raw("""
            SELECT m.id, m.order_id, m.author_id, m.role, m.body, m.attachments, m.created_at FROM order_messages m
            WHERE m.order_id IN (
                SELECT o.id FROM orders o WHERE o.seller_id = \(bind: seller.rawValue)
                  AND EXISTS (SELECT 1 FROM order_messages x WHERE x.order_id = o.id AND x.created_at >= \(bind: since.millisecondsSince1970))
                ORDER BY o.id DESC LIMIT \(bind: limit)
            )
            ORDER BY m.order_id, m.id
            """).all()
        var byOrder: [OrderID: [OrderMessage]] = [:]
        for row in rows {
            let message = try Self.message(row)
            byOrder[message.orderID, default: []].append(message)
        }
        return byOrder
    }

    static func message(_ row: any SQLRow) throws -> OrderMessage {
        OrderMessage(
            id: OrderMessageID(try row.string("id")), orderID: OrderID(try row.string("order_id")), authorID: UserID(try row.string("author_id")),
            role: OrderMessage.Role(rawValue: try row.string("role")) ?? .buyer, body: try row.string("body"),
            attachments: try AttachmentsJSON.decode(try row.string("attachments")), createdAt: try row.date("created_at")
        )
    }
}
