import Foundation
import Testing
@testable import FiduciaWeb

/// Every RFC 3339 date-time the API document allows is read, and nothing else.
@Suite("RFC 3339 dates")
struct RFC3339DateTests {
    let transcoder = RFC3339DateTranscoder()
    let base = Date(timeIntervalSince1970: 1_795_512_600)  // 2026-11-24T09:30:00Z

    @Test func readsEveryFormTheGrammarAllows() throws {
        #expect(try transcoder.decode("2026-11-24T09:30:00Z") == base)
        #expect(try transcoder.decode("2026-11-24t09:30:00z") == base)
        #expect(try transcoder.decode("2026-11-24T10:30:00.250+01:00") == base.addingTimeInterval(0.25))
        #expect(try transcoder.decode("2026-11-24T09:30:00.000000001Z").timeIntervalSince(base) < 0.001)
        // Offsets up to 23:59 are in the grammar, though no zone uses them.
        #expect(try transcoder.decode("2026-11-23T15:02:00-18:28") == base)
        // A leap second reads as the second after it.
        #expect(try transcoder.decode("2026-11-24T09:29:60Z") == base)
        #expect(try transcoder.encode(base) == "2026-11-24T09:30:00Z")
    }

    @Test(arguments: [
        "2026-11-24 09:30:00Z", "2026-11-24T09:30:00", "2026-11-24T09:30:00+24:00", "2026-11-24T09:30:00.Z",
        "2026-11-24T09:30:00.5x+01:00", "2026-13-24T09:30:00Z", "tomorrow", "",
    ])
    func refusesWhatIsNotADateTime(_ text: String) {
        #expect(throws: DecodingError.self) { try transcoder.decode(text) }
    }
}
