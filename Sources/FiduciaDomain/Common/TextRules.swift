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
