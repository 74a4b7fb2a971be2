import FiduciaDomain
import Testing

@Suite("Verification details rules")
struct VerificationRulesTests {
    @Test
    func detailsAreMeasuredAsSentInCodePoints() throws {
        let fits = String(repeating: "A", count: 200)
        let clean = try VerificationRules.validateDetails(["fullName": "Ann Example", "documentNumber": fits], for: .realName)
        #expect(clean["documentNumber"] == fits)
        // Padding that trimming would remove still counts, as the API document counts it.
        #expect(throws: ValidationError.self) {
            try VerificationRules.validateDetails(["fullName": "Ann Example", "documentNumber": " " + String(repeating: "A", count: 199) + "  "], for: .realName)
        }
        // A letter with a combining mark is one character but two code points.
        #expect(throws: ValidationError.self) {
            try VerificationRules.validateDetails(["fullName": String(repeating: "e\u{301}", count: 101), "documentNumber": "X1"], for: .realName)
        }
    }
}
