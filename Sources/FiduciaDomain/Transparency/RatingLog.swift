import Foundation

/// One entry of the rating log: a rating as it was published, the rated party's reply, or a
/// moderator hiding a rating. The leaf's bytes are the entry's RFC 8785 canonical JSON, so anyone
/// can rebuild them from what the API shows and check them against the log.
public enum RatingLogEntry: Sendable, Equatable {
    case rating(LoggedRating)
    case reply(ratingID: RatingID, text: String, at: Date)
    case hidden(ratingID: RatingID, reason: String, at: Date)

    public var ratingID: RatingID {
        switch self {
        case .rating(let rating): rating.id
        case .reply(let id, _, _), .hidden(let id, _, _): id
        }
    }

    public var type: String {
        switch self {
        case .rating: "rating"
        case .reply: "reply"
        case .hidden: "rating-hidden"
        }
    }

    public var json: JSONValue {
        switch self {
        case .rating(let rating): rating.json
        case .reply(let id, let text, let at):
            .object(["type": .string(type), "ratingId": .string(id.rawValue), "text": .string(text), "at": .integer(RatingLog.seconds(at))])
        case .hidden(let id, let reason, let at):
            .object(["type": .string(type), "ratingId": .string(id.rawValue), "reason": .string(reason), "at": .integer(RatingLog.seconds(at))])
        }
    }

    /// The leaf's bytes: canonical JSON (timestamps are whole seconds, far inside 2^53).
    public var bytes: [UInt8] { try! CanonicalJSON.bytes(json) }

    /// Reads an entry back from its canonical JSON.
    public init?(json: JSONValue) {
        guard case .object(let members) = json, case .string(let type)? = members["type"], case .string(let id)? = members["ratingId"] else { return nil }
        switch type {
        case "rating":
            guard let rating = LoggedRating(json: json) else { return nil }
            self = .rating(rating)
        case "reply":
            guard case .string(let text)? = members["text"], case .integer(let at)? = members["at"] else { return nil }
            self = .reply(ratingID: RatingID(id), text: text, at: Date(timeIntervalSince1970: TimeInterval(at)))
        case "rating-hidden":
            guard case .string(let reason)? = members["reason"], case .integer(let at)? = members["at"] else { return nil }
            self = .hidden(ratingID: RatingID(id), reason: reason, at: Date(timeIntervalSince1970: TimeInterval(at)))
        default:
            return nil
        }
    }
}

/// What the log keeps of a published rating: what everyone sees of it, nothing staff-only.
public struct LoggedRating: Sendable, Equatable {
    public let id: RatingID
    public let orderID: OrderID
    public let raterID: UserID
    public let rateeID: UserID
    public let side: RatingSide
    public let overall: OverallRating
    public let detailed: DetailedRatings?
    public let comment: String?
    /// Whole seconds since 1970, as the API shows times.
    public let publishedAt: Int64

    public init(
        id: RatingID, orderID: OrderID, raterID: UserID, rateeID: UserID, side: RatingSide, overall: OverallRating,
        detailed: DetailedRatings?, comment: String?, publishedAt: Date
    ) {
        self.id = id
        self.orderID = orderID
        self.raterID = raterID
        self.rateeID = rateeID
        self.side = side
        self.overall = overall
        self.detailed = detailed
        self.comment = comment
        self.publishedAt = RatingLog.seconds(publishedAt)
    }

    public init(_ rating: Rating) {
        self.init(
            id: rating.id, orderID: rating.orderID, raterID: rating.raterID, rateeID: rating.rateeID, side: rating.side,
            overall: rating.overall, detailed: rating.detailed, comment: rating.comment, publishedAt: rating.publishedAt ?? rating.updatedAt
        )
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "type": .string("rating"), "ratingId": .string(id.rawValue), "orderId": .string(orderID.rawValue),
            "raterId": .string(raterID.rawValue), "rateeId": .string(rateeID.rawValue), "side": .string(side.rawValue),
            "overall": .string(overall.rawValue), "publishedAt": .integer(publishedAt),
        ]
        if let detailed {
            members["itemAsDescribed"] = .integer(Int64(detailed.itemAsDescribed))
            members["serviceAttitude"] = .integer(Int64(detailed.serviceAttitude))
            members["shippingSpeed"] = .integer(Int64(detailed.shippingSpeed))
        }
        if let comment { members["comment"] = .string(comment) }
        return .object(members)
    }

    init?(json: JSONValue) {
        guard case .object(let m) = json, case .string(let id)? = m["ratingId"], case .string(let order)? = m["orderId"],
            case .string(let rater)? = m["raterId"], case .string(let ratee)? = m["rateeId"],
            case .string(let sideText)? = m["side"], let side = RatingSide(rawValue: sideText),
            case .string(let overallText)? = m["overall"], let overall = OverallRating(rawValue: overallText),
            case .integer(let publishedAt)? = m["publishedAt"]
        else { return nil }
        var detailed: DetailedRatings?
        if case .integer(let item)? = m["itemAsDescribed"], case .integer(let service)? = m["serviceAttitude"], case .integer(let shipping)? = m["shippingSpeed"] {
            detailed = DetailedRatings(itemAsDescribed: Int(item), serviceAttitude: Int(service), shippingSpeed: Int(shipping))
        }
        var comment: String?
        if case .string(let text)? = m["comment"] { comment = text }
        self.init(
            id: RatingID(id), orderID: OrderID(order), raterID: UserID(rater), rateeID: UserID(ratee), side: side, overall: overall,
            detailed: detailed, comment: comment, publishedAt: Date(timeIntervalSince1970: TimeInterval(publishedAt))
        )
    }
}

/// A signed tree head: the log's size and root at a moment, signed by the instance's Ed25519 key.
public struct SignedTreeHead: Sendable, Equatable {
    public let treeSize: Int
    public let rootHash: MerkleHash
    /// Milliseconds since 1970.
    public let timestamp: Int64
    public let signature: [UInt8]

    public init(treeSize: Int, rootHash: MerkleHash, timestamp: Int64, signature: [UInt8]) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.timestamp = timestamp
        self.signature = signature
    }

    /// The bytes that are signed, laid out as RFC 6962's TreeHeadSignature: version 0 (v1),
    /// signature type 1 (tree_hash), the timestamp and the tree size as big-endian 64-bit
    /// integers, then the 32-byte root hash.
    public static func signedBytes(treeSize: Int, rootHash: MerkleHash, timestamp: Int64) -> [UInt8] {
        var bytes: [UInt8] = [0, 1]
        bytes += withUnsafeBytes(of: UInt64(timestamp).bigEndian, Array.init)
        bytes += withUnsafeBytes(of: UInt64(treeSize).bigEndian, Array.init)
        return bytes + rootHash
    }

    public var signedBytes: [UInt8] { Self.signedBytes(treeSize: treeSize, rootHash: rootHash, timestamp: timestamp) }
}

public enum RatingLog {
    /// A tree head is signed at least this often while leaves are waiting for one.
    public static let treeHeadIntervalSeconds: Double = 60
    /// The most entries one `getLogEntries` call returns.
    public static let entriesPageLimit = 1_000

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
}
