import Foundation

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

extension Money {
    /// Reads an amount a person typed ("12.50", "12", "0.5") as minor units of `currency`.
    /// Returns nil for anything else: signs, letters, more decimals than the currency has, or an
    /// amount too large to hold.
    public static func parseMinor(_ text: String, currency: Currency) -> Int64? {
        let trimmed = text.trimmingWhitespace().replacingOccurrences(of: ",", with: ".")
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2 else { return nil }
        let whole = parts[0].isEmpty ? "0" : String(parts[0])
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        let digits = currency.minorUnitDigits
        guard whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber), fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber),
            fraction.count <= digits, whole.count <= 15, parts.count == 1 || !fraction.isEmpty
        else { return nil }
        guard let wholeValue = Int64(whole) else { return nil }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let padded = fraction + String(repeating: "0", count: digits - fraction.count)
        let fractionValue = padded.isEmpty ? 0 : Int64(padded) ?? 0
        let (scaled, overflow) = wholeValue.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        return scaled + fractionValue
    }
}
