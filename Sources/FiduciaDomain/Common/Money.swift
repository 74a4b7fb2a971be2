import Foundation

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
        let divisor = currency.minorUnitsPerMajor
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
        let padded = fraction + String(repeating: "0", count: digits - fraction.count)
        let fractionValue = padded.isEmpty ? 0 : Int64(padded) ?? 0
        return wholeValue.multipliedChecked(by: currency.minorUnitsPerMajor)?.addingChecked(fractionValue)
    }
}
