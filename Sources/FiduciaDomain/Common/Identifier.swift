/// A typed, opaque identifier: `Identifier<User>` and `Identifier<Order>` cannot be mixed up.
///
/// Identifiers are strings with a short prefix naming the kind of thing (`usr_`, `ord_`) followed
/// by a time-ordered random part, so that sorting by identifier is sorting by creation time. Clients
/// must treat them as opaque.
public struct Identifier<Entity>: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Identifier: Codable {
    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Something that has a short identifier prefix, like `usr` for users.
public protocol IdentifierPrefixed {
    static var identifierPrefix: String { get }
}

/// Makes identifiers from a time in milliseconds and random bytes, both supplied by the caller so
/// that the domain stays free of clocks and randomness.
///
/// The layout is Crockford base32 of 48 bits of milliseconds then 80 random bits (like a ULID),
/// so identifiers made later sort later.
public enum IdentifierFormat {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    public static func make(prefix: String, milliseconds: Int64, random: [UInt8]) -> String {
        precondition(random.count >= 10, "an identifier needs 80 random bits")
        var characters: [UInt8] = []
        characters.reserveCapacity(26)
        var time = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        var timeCharacters = [UInt8](repeating: 0, count: 10)
        for index in stride(from: 9, through: 0, by: -1) {
            timeCharacters[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        characters.append(contentsOf: timeCharacters)
        // 80 random bits become 16 base32 characters.
        var buffer: UInt64 = 0
        var bits = 0
        for byte in random.prefix(10) {
            buffer = (buffer << 8) | UInt64(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                characters.append(alphabet[Int((buffer >> UInt64(bits)) & 31)])
            }
        }
        return prefix + "_" + String(decoding: characters, as: UTF8.self)
    }

    /// Whether a string looks like an identifier with the given prefix (used to reject garbage early).
    public static func isWellFormed(_ value: String, prefix: String) -> Bool {
        let utf8 = Array(value.utf8)
        let head = Array((prefix + "_").utf8)
        guard utf8.count == head.count + 26, utf8.starts(with: head) else { return false }
        return utf8.dropFirst(head.count).allSatisfy { alphabet.contains($0) }
    }
}
