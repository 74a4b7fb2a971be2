import FiduciaDomain
import Foundation
import Testing

@Suite("Published rules")
struct RulesTests {
    static func file(_ version: Int, _ effective: String, _ body: String) -> String {
        "---\ntitle: Trade rules\nversion: \(version)\neffective: \(effective)\nchanges: Version \(version).\n---\n\(body)\n"
    }

    static let library = RulesLibrary([
        try! RulesVersion.parse(document: "trade", file: file(2, "2026-11-01", "# Rules\n\n- Pay within 24 hours.\n- Ship within 3 days.")),
        try! RulesVersion.parse(document: "trade", file: file(1, "2026-05-01", "# Rules\n\n- Pay within 48 hours.")),
        try! RulesVersion.parse(document: "trade", file: file(3, "2027-01-01", "# Rules\n\n- Pay within 24 hours.\n- Ship within 2 days.")),
    ])

    static func day(_ text: String) -> Date { try! Date.ISO8601FormatStyle().year().month().day().parse(text) }

    @Test
    func frontMatterIsRequiredAndRead() throws {
        let version = try RulesVersion.parse(document: "trade", file: Self.file(4, "2026-12-24", "Text"))
        #expect(version.version == 4 && version.effective == "2026-12-24" && version.title == "Trade rules" && version.text == "Text")
        #expect(throws: RulesVersion.ParseError.noFrontMatter) { try RulesVersion.parse(document: "trade", file: "# No front matter") }
        #expect(throws: RulesVersion.ParseError.missing("effective")) {
            try RulesVersion.parse(document: "trade", file: "---\ntitle: T\nversion: 1\nchanges: c\n---\nx")
        }
    }

    @Test
    func theVersionInForceIsTheNewestWhoseDayHasCome() {
        #expect(Self.library.inForce("trade", at: Self.day("2026-04-30")) == nil)
        #expect(Self.library.inForce("trade", at: Self.day("2026-05-01"))?.version == 1)
        #expect(Self.library.inForce("trade", at: Self.day("2026-10-31").addingTimeInterval(86_399))?.version == 1)
        #expect(Self.library.inForce("trade", at: Self.day("2026-11-01"))?.version == 2)
        // Version 3 is announced: it is not in force before its day.
        #expect(Self.library.upcoming("trade", at: Self.day("2026-12-01")).map(\.version) == [3])
        #expect(Self.library.inForce("trade", at: Self.day("2027-01-01"))?.version == 3)
        #expect(Self.library.history(of: "trade").map(\.version) == [1, 2, 3])
    }

    @Test
    func aDiffShowsEveryLineOnceInOrder() {
        let lines = TextDiff.lines(from: "a\nb\nc\nd", to: "a\nc\nx\nd\ne")
        #expect(lines.map { "\($0.kind.rawValue):\($0.text)" } == ["same:a", "removed:b", "same:c", "added:x", "same:d", "added:e"])
        #expect(TextDiff.lines(from: "same", to: "same").allSatisfy { $0.kind == .same })
        let v2 = Self.library.version(2, of: "trade")!.text, v3 = Self.library.version(3, of: "trade")!.text
        let changed = TextDiff.lines(from: v2, to: v3).filter { $0.kind != .same }
        #expect(changed.map(\.text) == ["- Ship within 3 days.", "- Ship within 2 days."])
    }
}
