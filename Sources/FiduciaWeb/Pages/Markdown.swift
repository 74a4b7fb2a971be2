import Foundation

/// The Markdown our rules documents use, as HTML: `#` headings, paragraphs, `-` and `1.` lists,
/// `**strong**` and `` `code` ``. Everything is escaped first, so a document cannot carry markup.
enum Markdown {
    static func html(_ text: String) -> String {
        var html = ""
        var paragraph: [String] = []
        var list: String?
        func flushParagraph() {
            if !paragraph.isEmpty { html += "<p>\(inline(paragraph.joined(separator: " ")))</p>\n" }
            paragraph = []
        }
        func closeList() {
            if let open = list { html += "</\(open)>\n" }
            list = nil
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty {
                flushParagraph()
                closeList()
            } else if let level = heading(line) {
                flushParagraph()
                closeList()
                html += "<h\(level)>\(inline(String(line.dropFirst(level + 1))))</h\(level)>\n"
            } else if let (kind, item) = listItem(line) {
                flushParagraph()
                if list != kind {
                    closeList()
                    html += "<\(kind)>\n"
                    list = kind
                }
                html += "<li>\(inline(item))</li>\n"
            } else {
                closeList()
                paragraph.append(line)
            }
        }
        flushParagraph()
        closeList()
        return html
    }

    /// `#`–`####` followed by a space: the level (shifted by one, the page has its own `h1`).
    private static func heading(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...4).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    private static func listItem(_ line: String) -> (String, String)? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return ("ul", String(line.dropFirst(2))) }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") { return ("ol", String(line.dropFirst(digits.count + 2))) }
        return nil
    }

    /// Escapes, then turns `**…**` into `<strong>` and `` `…` `` into `<code>`.
    static func inline(_ text: String) -> String {
        var escaped = Charts.escape(text)
        escaped = replacePairs(in: escaped, marker: "`", open: "<code>", close: "</code>")
        escaped = replacePairs(in: escaped, marker: "**", open: "<strong>", close: "</strong>")
        return escaped
    }

    private static func replacePairs(in text: String, marker: String, open: String, close: String) -> String {
        let parts = text.components(separatedBy: marker)
        guard parts.count >= 3 else { return text }
        var result = parts[0]
        for index in 1..<parts.count {
            // An odd number of markers leaves the last one as it was.
            if index == parts.count - 1, index % 2 == 1 {
                result += marker + parts[index]
            } else {
                result += (index % 2 == 1 ? open : close) + parts[index]
            }
        }
        return result
    }
}
