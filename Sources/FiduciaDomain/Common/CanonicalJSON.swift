/// A JSON value, and its canonical form per RFC 8785 (the JSON Canonicalization Scheme): object
/// members sorted by their names' UTF-16 code units, no insignificant white space, strings with the
/// minimal escapes. Signed documents (seals, credentials, tree heads) are signed over this form, so
/// that anyone can re-create the exact bytes from the parsed document.
///
/// Numbers are limited to integers that JavaScript represents exactly (|n| ≤ 2^53), which RFC 8785
/// serialises as plain decimal digits: Fiducia's signed documents never carry fractions.
public indirect enum JSONValue: Sendable, Equatable, Codable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public static let largestExactInteger: Int64 = 1 << 53

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Only strings, integers, booleans, null, arrays and objects.")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// This object without `key` (the form a signature covers).
    public func removing(_ key: String) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = nil
        return .object(members)
    }

    /// This object with `key` set to `value`.
    public func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }
}

/// RFC 8785 serialisation.
public enum CanonicalJSON {
    public enum Failure: Error, Equatable {
        /// An integer outside ±2^53, which JSON parsers in other languages would round.
        case integerOutOfRange(Int64)
    }

    public static func bytes(_ value: JSONValue) throws(Failure) -> [UInt8] {
        var output: [UInt8] = []
        try write(value, into: &output)
        return output
    }

    public static func string(_ value: JSONValue) throws(Failure) -> String {
        String(decoding: try bytes(value), as: UTF8.self)
    }

    private static func write(_ value: JSONValue, into output: inout [UInt8]) throws(Failure) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .integer(let number):
            guard abs(number) <= JSONValue.largestExactInteger else { throw .integerOutOfRange(number) }
            output += Array(String(number).utf8)
        case .string(let text): writeString(text, into: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try write(item, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // RFC 8785 §3.2.3: sort by the names' UTF-16 code units.
            let names = members.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            for (index, name) in names.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(name, into: &output)
                output.append(UInt8(ascii: ":"))
                try write(members[name]!, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// ECMAScript's JSON.stringify escaping: `"` and `\`, the short escapes for the five control
    /// characters that have one, `\u00xx` (lower-case hex) for the other control characters, and
    /// everything else as UTF-8.
    private static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x08: output += [0x5C, UInt8(ascii: "b")]
            case 0x09: output += [0x5C, UInt8(ascii: "t")]
            case 0x0A: output += [0x5C, UInt8(ascii: "n")]
            case 0x0C: output += [0x5C, UInt8(ascii: "f")]
            case 0x0D: output += [0x5C, UInt8(ascii: "r")]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [hex[Int(scalar.value >> 4)], hex[Int(scalar.value & 0xF)]]
            default: output += Array(String(scalar).utf8)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
