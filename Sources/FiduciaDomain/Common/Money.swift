/// An ISO 4217 currency code, such as `EUR` or `CNY`.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let code: String

    /// Accepts three ASCII capital letters; anything else is not a currency.
    public init?(_ code: String) {
        guard code.utf8.count == 3, code.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else { return nil }
        self.code = code
    }

    /// How many digits the minor unit has (2 for EUR: cents; 0 for JPY).
    public var minorUnitDigits: Int {
        switch code {
        case "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF": 0
        case "BHD", "KWD", "OMR", "JOD", "TND": 3
        default: 2
        }
    }

    public var description: String { code }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.code < rhs.code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let currency = Currency(code) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 4217 currency code")
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// An amount of money in integer minor units (cents, fen) of a currency. Never a floating-point number.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public let amountMinor: Int64
    public let currency: Currency

    public init(amountMinor: Int64, currency: Currency) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money { Money(amountMinor: 0, currency: currency) }

    /// "12.50 EUR": for people, not for parsing.
    public var description: String { Money.format(amountMinor, currency) }

    public static func format(_ amountMinor: Int64, _ currency: Currency) -> String {
        let digits = currency.minorUnitDigits
        guard digits > 0 else { return "\(amountMinor) \(currency.code)" }
        var divisor: Int64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let sign = amountMinor < 0 ? "-" : ""
        let magnitude = amountMinor.magnitude
        let whole = magnitude / UInt64(divisor)
        let fraction = String(magnitude % UInt64(divisor))
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return "\(sign)\(whole).\(padded) \(currency.code)"
    }
}
