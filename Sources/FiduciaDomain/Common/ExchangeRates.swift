import Foundation

/// Configured exchange rates into one reference currency, for the few places where amounts in
/// different currencies must be compared (a seller's deposits in the credit score). Fiducia never
/// converts money on the ledger: each currency is its own ledger.
public struct ExchangeRates: Sendable, Equatable {
    /// The currency everything is valued in.
    public let reference: Currency
    /// Major units of `reference` per major unit of each other currency.
    public let rates: [Currency: Decimal]

    public init(reference: Currency, rates: [Currency: Decimal] = [:]) {
        self.reference = reference
        self.rates = rates.filter { $0.key != reference && $0.value > 0 }
    }

    /// Reads `USD=0.92,GBP=1.17`: major units of the reference currency per major unit of each.
    public init(reference: Currency, parsing text: String) throws(ValidationError) {
        var rates: [Currency: Decimal] = [:]
        for part in text.split(separator: ",") where !String(part).trimmingWhitespace().isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard pair.count == 2, let currency = Currency(pair[0].uppercased()), let rate = Decimal(string: pair[1], locale: Locale(identifier: "en_US_POSIX")), rate > 0 else {
                throw ValidationError(field: "exchangeRates", "Write rates as CODE=rate pairs, e.g. USD=0.92,GBP=1.17.")
            }
            rates[currency] = rate
        }
        self.init(reference: reference, rates: rates)
    }

    /// `money` valued in the reference currency, rounded down to its minor unit; nil when no rate
    /// is configured for its currency.
    public func value(_ money: Money) -> Money? {
        if money.currency == reference { return money }
        guard let rate = rates[money.currency] else { return nil }
        var value = Decimal(money.amountMinor) / Decimal(money.currency.minorUnitsPerMajor) * rate * Decimal(reference.minorUnitsPerMajor)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .down)
        let minor = NSDecimalNumber(decimal: rounded)
        guard minor.compare(NSDecimalNumber(value: Int64.max)) == .orderedAscending else { return nil }
        return Money(amountMinor: minor.int64Value, currency: reference)
    }

    /// The sum of the amounts that can be valued (the others are left out), in the reference currency.
    public func total(_ amounts: [Money]) -> Money {
        var sum: Int64 = 0
        for amount in amounts {
            if let value = value(amount), let next = sum.addingChecked(value.amountMinor) { sum = next }
        }
        return Money(amountMinor: sum, currency: reference)
    }
}
