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
            validator.check(after != nil, field: "cursor", "The cursor is not one this server issued.")
        }
        try validator.throwIfInvalid()
        self.limit = limit
        self.after = after
    }

    public static func encode(_ lastIdentifier: String) -> String {
        Data(("c1:" + lastIdentifier).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> String? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8), text.hasPrefix("c1:") else {
            return nil
        }
        let identifier = String(text.dropFirst(3))
        return identifier.isEmpty || identifier.count > 64 ? nil : identifier
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
