import Foundation
import OpenAPIRuntime

/// Dates on the wire: RFC 3339 `date-time`, as the API document declares.
///
/// Answers carry whole seconds in UTC (`2026-11-24T09:30:00Z`). Requests may carry any RFC 3339
/// date-time: fractional seconds, any numeric offset the grammar allows (`-23:59` to `+23:59`),
/// lower-case `t` and `z`, a leap second (read as the next second). The runtime's own ISO 8601
/// transcoder accepts fractions or none, never both, and refuses offsets past 18 hours; a client
/// that sends milliseconds is not sending bad JSON.
struct RFC3339DateTranscoder: DateTranscoder {
    private static let utc = Date.ISO8601FormatStyle()

    func encode(_ date: Date) throws -> String {
        Self.utc.format(date)
    }

    func decode(_ text: String) throws -> Date {
        guard let date = Self.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(text) is not an RFC 3339 date-time."))
        }
        return date
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, read by hand: the wall-clock part is parsed as
    /// UTC, then the offset is taken off.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.uppercased().utf8)
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") else { return nil }
        var offsetSeconds = 0
        var end = bytes.count
        if bytes.last == UInt8(ascii: "Z") {
            end -= 1
        } else {
            guard bytes.count >= 25 else { return nil }
            let sign = bytes[end - 6]
            guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), bytes[end - 3] == UInt8(ascii: ":"),
                let hours = digits(bytes[(end - 5)..<(end - 3)]), let minutes = digits(bytes[(end - 2)..<end]), hours <= 23, minutes <= 59
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
            end -= 6
        }
        var fraction = 0.0
        if end > 19 {
            let fractionDigits = bytes[20..<max(20, end)]
            guard bytes[19] == UInt8(ascii: "."), !fractionDigits.isEmpty, fractionDigits.allSatisfy(isDigit) else { return nil }
            let kept = fractionDigits.prefix(9)  // nanoseconds are as fine as a Date goes
            fraction = Double(digits(kept)!) / pow(10, Double(kept.count))
        }
        var wall = Array(bytes[0..<19])
        // A leap second (23:59:60) is read as the first second after it.
        var leap = 0.0
        if wall[17] == UInt8(ascii: "6"), wall[18] == UInt8(ascii: "0") {
            wall[17] = UInt8(ascii: "5")
            wall[18] = UInt8(ascii: "9")
            leap = 1
        }
        guard let base = try? utc.parse(String(decoding: wall, as: UTF8.self) + "Z") else { return nil }
        return base.addingTimeInterval(leap + fraction - Double(offsetSeconds))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func digits(_ slice: ArraySlice<UInt8>) -> Int? {
        guard !slice.isEmpty, slice.allSatisfy(isDigit) else { return nil }
        return slice.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
