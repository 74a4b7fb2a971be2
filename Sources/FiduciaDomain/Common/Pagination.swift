import Foundation

/// A request for one page of a list: how many items and where to continue.
///
/// Cursors are opaque to clients: base64url of the last identifier of the previous page. Lists
/// are ordered by identifier, which is creation order.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 20
    public static let maximumLimit = 100

    public let limit: Int
    /// The identifier after which the page starts, decoded from the cursor.
    public let after: String?

    public init(limit: Int? = nil, cursor: String? = nil) throws(ValidationError) {
        var validator = Validator()
        let limit = limit ?? Self.defaultLimit
        validator.check((1...Self.maximumLimit).contains(limit), field: "limit", "The page size must be between 1 and \(Self.maximumLimit).")
        var after: String?
        if let cursor, !cursor.isEmpty {
            after = Self.decode(cursor)
            validator.check(after != nil, field: "cursor", "The cursor is not of the form this server issues (the nextCursor of a page).")
        }
        try validator.throwIfInvalid()
        self.limit = limit
        self.after = after
    }

    /// Every cursor starts with this: base64url of `c1:`, the version prefix.
    static let prefix = "YzE6"

    public static func encode(_ lastIdentifier: String) -> String {
        Data(("c1:" + lastIdentifier).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The identifier in a cursor. Any text of the documented shape (`^YzE6[A-Za-z0-9_-]{2,86}$`)
    /// decodes, so a client that edits a cursor gets a page, never an error the document does not
    /// announce: a cursor only says where a page starts, so a made-up one reveals nothing.
    static func decode(_ cursor: String) -> String? {
        guard cursor.hasPrefix(prefix) else { return nil }
        let tail = cursor.utf8.dropFirst(prefix.utf8.count)
        guard (2...86).contains(tail.count) else { return nil }
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in tail {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One page of a list, with the cursor of the next page when there is one.
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from `limit + 1` fetched items: the extra item only says that more exist.
    public init(fetched: [Item], limit: Int, identifier: (Item) -> String) {
        if fetched.count > limit {
            let items = Array(fetched.prefix(limit))
            self.init(items: items, nextCursor: items.last.map { PageRequest.encode(identifier($0)) })
        } else {
            self.init(items: fetched, nextCursor: nil)
        }
    }
}
