import FiduciaDomain
import Foundation

/// The limits a request body's schema declares on its texts (`maxLength`, `minLength`, the "not
/// only white space" `pattern`), read from the OpenAPI document and checked on every JSON body
/// before it is decoded, in lists and nested objects too.
///
/// The generated decoder checks types and enumerations but no limit; the services check their own
/// limits, and each was found once disagreeing with the document in a way a contract run could
/// trip over: a count of grapheme clusters where the document counts code points, a limit checked
/// after trimming, a reason cut short instead of refused. Checking the declared limits here, once,
/// makes the server refuse every text its document calls invalid; the services still check what
/// their rules need (for the pages' forms as much as for the API), and they alone check the
/// number of items in a list, refusing with problems named for what is wrong (`too-many-photos`).
indirect enum DeclaredShape: Sendable, Equatable {
    case text(minLength: Int?, maxLength: Int?, notBlank: Bool)
    case list(item: DeclaredShape)
    case object([String: DeclaredShape])
    /// Nothing to check (numbers, booleans, schemas that say nothing of length).
    case free

    /// The shape of `schema`, following `$ref`s into `components` (at most 16 deep, so a schema
    /// that refers to itself ends as `free`).
    init(schema: Any?, components: [String: Any], depth: Int = 0) {
        guard depth < 16, let schema = schema as? [String: Any] else {
            self = .free
            return
        }
        if let reference = schema["$ref"] as? String {
            let name = reference.split(separator: "/").last.map(String.init) ?? ""
            self = DeclaredShape(schema: components[name], components: components, depth: depth + 1)
            return
        }
        let types: Set<String> = switch schema["type"] {
        case let one as String: [one]
        case let many as [String]: Set(many)
        default: []
        }
        if let properties = schema["properties"] as? [String: Any] {
            let shapes = properties.mapValues { DeclaredShape(schema: $0, components: components, depth: depth + 1) }
            self = .object(shapes.filter { $0.value != .free })
        } else if types.contains("array") || schema["items"] != nil {
            self = .list(item: DeclaredShape(schema: schema["items"], components: components, depth: depth + 1))
        } else if types.contains("string"), schema["minLength"] != nil || schema["maxLength"] != nil || schema["pattern"] as? String == Self.notBlank {
            // Other patterns (addresses, phone numbers, names) are the services' to check, which
            // refuse them with problems named for what is wrong.
            self = .text(minLength: schema["minLength"] as? Int, maxLength: schema["maxLength"] as? Int, notBlank: schema["pattern"] as? String == Self.notBlank)
        } else {
            self = .free
        }
    }

    /// The document's pattern for a text that must say something: at least one character that
    /// is not white space (the explicit U+0085 because regular expression engines disagree on
    /// whether `\s` covers it).
    static let notBlank = #"[^\s\u0085]"#

    /// White space as the narrowest common engine reads `\s` (ICU: tab, line feed, form feed,
    /// return and the separator categories), plus U+0085. Python's `\s`, which schema checkers
    /// such as schemathesis use, also covers vertical tab and U+001C–U+001F: so a text blank here is
    /// blank for them too, and the edge never refuses a text the document allows. The services
    /// (which trim all of Unicode's white space) refuse what is left.
    static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0C}", "\r", "\u{85}": true
        default: [.spaceSeparator, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory)
        }
    }

    /// Whether anything in this shape has a limit to check.
    var hasLimits: Bool {
        switch self {
        case .text: true
        case .list(let item): item.hasLimits
        case .object(let properties): properties.values.contains { $0.hasLimits }
        case .free: false
        }
    }

    /// The first place where `value` (decoded by `JSONSerialization`) breaks a declared limit, as
    /// a validation error naming the field (`items[2].title`); nothing when it keeps them all.
    /// A value of another type than declared is left to the decoder, which refuses it.
    func violation(in value: Any, at path: String = "") -> ValidationError? {
        switch self {
        case .text(let minLength, let maxLength, let notBlank):
            guard let text = value as? String else { return nil }
            // Code points, as JSON Schema counts them (and as the services now measure too).
            let length = text.codePointCount
            if let maxLength, length > maxLength {
                return ValidationError(field: path, "At most \(maxLength) characters (this has \(length)).")
            }
            if let minLength, length < minLength {
                return ValidationError(field: path, "At least \(minLength) character\(minLength == 1 ? "" : "s").")
            }
            if notBlank, text.unicodeScalars.allSatisfy(Self.isBlank) {
                return ValidationError(field: path, "Write something other than spaces.")
            }
            return nil
        case .list(let item):
            guard let elements = value as? [Any] else { return nil }
            for (index, element) in elements.enumerated() {
                if let found = item.violation(in: element, at: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let properties):
            guard let fields = value as? [String: Any] else { return nil }
            for (name, shape) in properties.sorted(by: { $0.key < $1.key }) {
                guard let field = fields[name] else { continue }
                if let found = shape.violation(in: field, at: path.isEmpty ? name : "\(path).\(name)") { return found }
            }
            return nil
        case .free:
            return nil
        }
    }
}

