import Foundation

/// One version of a published rules document (F2): the trade rules, the after-sales policy
/// templates. Versions are Markdown files in the repository, each with its effective date and what
/// changed; the version in force is the newest whose date has come.
public struct RulesVersion: Sendable, Equatable {
    /// The document's key (`trade`, `after-sales`).
    public let document: String
    public let title: String
    public let version: Int
    /// `YYYY-MM-DD`; in force from the start of that day, UTC.
    public let effective: String
    public let changes: String
    /// The Markdown body, without its front matter.
    public let text: String
    /// The start of the effective day (nil when `effective` is not a day), read once: every new
    /// order asks which version is in force.
    public let effectiveFrom: Date?

    public init(document: String, title: String, version: Int, effective: String, changes: String, text: String) {
        self.document = document
        self.title = title
        self.version = version
        self.effective = effective
        self.changes = changes
        self.text = text
        self.effectiveFrom = try? Date.ISO8601FormatStyle().year().month().day().parse(effective)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case noFrontMatter
        case missing(String)

        public var description: String {
            switch self {
            case .noFrontMatter: "a rules file starts with front matter between --- lines"
            case .missing(let key): "the front matter has no \(key)"
            }
        }
    }

    /// Reads a file: front matter (`key: value` lines between `---` lines: title, version,
    /// effective, changes) followed by the Markdown text.
    public static func parse(document: String, file: String) throws(ParseError) -> RulesVersion {
        let lines = file.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == "---", let end = lines.dropFirst().firstIndex(of: "---") else { throw .noFrontMatter }
        var fields: [String: String] = [:]
        for line in lines[1..<end] {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon]).trimmingWhitespace()] = String(line[line.index(after: colon)...]).trimmingWhitespace()
        }
        guard let title = fields["title"] else { throw .missing("title") }
        guard let version = fields["version"].flatMap(Int.init) else { throw .missing("version") }
        guard let effective = fields["effective"] else { throw .missing("effective") }
        guard let changes = fields["changes"] else { throw .missing("changes") }
        let text = lines[(end + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return RulesVersion(document: document, title: title, version: version, effective: effective, changes: changes, text: text)
    }
}

/// Every version of every rules document.
public struct RulesLibrary: Sendable {
    public let versions: [RulesVersion]

    public init(_ versions: [RulesVersion]) {
        self.versions = versions.sorted { ($0.document, $0.version) < ($1.document, $1.version) }
    }

    public var documents: [String] {
        var seen: [String] = []
        for version in versions where !seen.contains(version.document) { seen.append(version.document) }
        return seen
    }

    /// Oldest first.
    public func history(of document: String) -> [RulesVersion] {
        versions.filter { $0.document == document }
    }

    public func version(_ number: Int, of document: String) -> RulesVersion? {
        versions.first { $0.document == document && $0.version == number }
    }

    /// The newest version whose effective day has begun at `now`.
    public func inForce(_ document: String, at now: Date) -> RulesVersion? {
        history(of: document).last { ($0.effectiveFrom ?? .distantFuture) <= now }
    }

    /// Versions announced for a later day.
    public func upcoming(_ document: String, at now: Date) -> [RulesVersion] {
        history(of: document).filter { ($0.effectiveFrom ?? .distantFuture) > now }
    }
}

/// The versions of the trade rules and the after-sales templates an order was made under.
public struct RulesVersions: Sendable, Equatable, Codable {
    public var trade: Int
    public var afterSales: Int

    public init(trade: Int, afterSales: Int) {
        self.trade = trade
        self.afterSales = afterSales
    }

    public static let tradeDocument = "trade"
    public static let afterSalesDocument = "after-sales"

    public static func inForce(_ library: RulesLibrary, at now: Date) -> RulesVersions? {
        guard let trade = library.inForce(tradeDocument, at: now), let afterSales = library.inForce(afterSalesDocument, at: now) else { return nil }
        return RulesVersions(trade: trade.version, afterSales: afterSales.version)
    }
}

/// A line-by-line comparison of two texts.
public enum TextDiff {
    public enum Kind: String, Sendable { case same, added, removed }

    public struct Line: Sendable, Equatable {
        public let kind: Kind
        public let text: String
    }

    /// Every line of both texts in order: kept lines once, removed lines where they were, added
    /// lines where they are (a minimal edit script, from the standard library's diff).
    public static func lines(from old: String, to new: String) -> [Line] {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = after.difference(from: before)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var result: [Line] = []
        var oldIndex = 0
        var newIndex = 0
        while oldIndex < before.count || newIndex < after.count {
            if oldIndex < before.count, removed.contains(oldIndex) {
                result.append(Line(kind: .removed, text: before[oldIndex]))
                oldIndex += 1
            } else if newIndex < after.count, inserted.contains(newIndex) {
                result.append(Line(kind: .added, text: after[newIndex]))
                newIndex += 1
            } else {
                result.append(Line(kind: .same, text: after[newIndex]))
                oldIndex += 1
                newIndex += 1
            }
        }
        return result
    }
}
