/// Checks for text that looks different from what it is.
public enum TextRules {
    /// Control characters, bidirectional overrides and isolates (which reorder what a reader sees)
    /// and zero-width characters (which hide differences between two look-alike strings).
    public static func containsInvisibleControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F: true
            case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2069, 0xFEFF: true
            default: false
            }
        }
    }
}

extension String {
    /// How long a text is for every limit we set: in Unicode code points, the unit JSON Schema's
    /// `maxLength` counts, so the API document and the server refuse the same texts. (`count`
    /// counts grapheme clusters: "e" followed by a combining accent is one of them and two code
    /// points, so a text over a documented limit could pass a check made with `count`.)
    public var codePointCount: Int { unicodeScalars.count }

    /// The text cut to at most `limit` code points, never inside a code point.
    public func prefix(codePoints limit: Int) -> String {
        String(String.UnicodeScalarView(unicodeScalars.prefix(limit)))
    }
}
