import Foundation

/// An ISO 4217 currency that Fiducia accepts, such as `EUR` or `CNY`.
///
/// Only codes in `Currency.table` exist: three capital letters are not enough, because the
/// minor-unit exponent and the amount limits come from the table.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let code: String

    /// The currency with this ISO 4217 code, or nil when Fiducia does not know the code.
    public init?(_ code: String) {
        guard Self.table[code] != nil else { return nil }
        self.code = code
    }

    /// How many digits the minor unit has (2 for EUR: cents; 0 for JPY; 3 for KWD).
    public var minorUnitDigits: Int { Self.table[code]!.exponent }

    /// The largest amounts Fiducia accepts in this currency.
    public var limits: MoneyLimits { MoneyLimits(exponent: minorUnitDigits, largeUnits: Self.table[code]!.largeUnits) }

    /// 10^exponent: how many minor units make one major unit.
    public var minorUnitsPerMajor: Int64 { MoneyLimits.powerOfTen(minorUnitDigits) }

    public var description: String { code }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.code < rhs.code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let currency = Currency(code) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 4217 currency code Fiducia knows")
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// Every accepted code, sorted (for forms and documentation).
    public static let all: [Currency] = table.keys.sorted().map { Currency(uncheckedCode: $0) }

    private init(uncheckedCode: String) {
        self.code = uncheckedCode
    }

    struct Entry: Sendable {
        /// Digits of the minor unit (ISO 4217 "minor unit").
        let exponent: Int
        /// One major unit is worth very little (under about a US cent), so the limits are a
        /// thousand times higher in major units.
        let largeUnits: Bool
    }

    /// ISO 4217 List One: the active currencies and funds codes with their minor units (precious
    /// metals, SDR and the test codes are left out: nobody trades in them on a marketplace).
    static let table: [String: Entry] = {
        var table: [String: Entry] = [:]
        let exponentZero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
        let exponentThree = "BHD IQD JOD KWD LYD OMR TND"
        let exponentFour = "CLF UYW"
        let exponentTwo = """
            AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW \
            CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS \
            INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN \
            NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC \
            SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
            """
        // Currencies whose major unit is worth less than about one US cent.
        let large = Set("BIF CDF COP GNF IDR IQD IRR KHR KPW KRW LAK LBP MGA MMK MNT MWK PYG RWF SYP TZS UGX UZS VND".split(separator: " ").map(String.init))
        for (codes, exponent) in [(exponentZero, 0), (exponentTwo, 2), (exponentThree, 3), (exponentFour, 4)] {
            for code in codes.split(separator: " ") {
                table[String(code)] = Entry(exponent: exponent, largeUnits: large.contains(String(code)))
            }
        }
        return table
    }()
}

/// The largest amounts Fiducia accepts in one currency (a limit on everything). Expressed in
/// major units so that they mean the same in every currency, and far below `Int64.max`, so that
/// no sum of running totals can overflow in the life of a deployment.
///
/// | limit | major units | ×1 000 for currencies with very small units (VND, KRW, IDR, …) |
/// |---|---|---|
/// | unit price of an item | 1 000 000 | yes |
/// | order total | 10 000 000 | yes |
/// | any user balance (available, deposit, statement) | 1 000 000 000 | yes |
public struct MoneyLimits: Sendable, Equatable {
    public static let maximumQuantity = 10_000
    public static let maximumItems = 50
    public static let unitPriceMajor: Int64 = 1_000_000
    public static let orderTotalMajor: Int64 = 10_000_000
    public static let balanceMajor: Int64 = 1_000_000_000

    public let maximumUnitPriceMinor: Int64
    public let maximumOrderTotalMinor: Int64
    public let maximumBalanceMinor: Int64

    init(exponent: Int, largeUnits: Bool) {
        let scale = Self.powerOfTen(exponent) * (largeUnits ? 1_000 : 1)
        maximumUnitPriceMinor = Self.unitPriceMajor * scale
        maximumOrderTotalMinor = Self.orderTotalMajor * scale
        maximumBalanceMinor = Self.balanceMajor * scale
    }

    static func powerOfTen(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}

extension Int64 {
    /// `self + other`, or nil when the sum does not fit: money is never added with a trapping `+`.
    public func addingChecked(_ other: Int64) -> Int64? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }

    /// `self × other`, or nil when the product does not fit.
    public func multipliedChecked(by other: Int64) -> Int64? {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : product
    }
}

extension Int64 {
    /// `self + other`, clamped to the representable range: for figures shown to people, computed
    /// from data that limits keep far from the edges (a tampered database must not crash a report).
    public func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }
}
