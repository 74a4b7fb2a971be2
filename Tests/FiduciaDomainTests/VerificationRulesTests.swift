import FiduciaDomain
import Foundation
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

    @Test
    func aRefusalsReasonOverTheLimitIsRefusedNotCutShort() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let pending = Verification(
            id: VerificationID("ver_1"), userID: UserID("usr_1"), level: .realName, state: .pending, createdAt: now, updatedAt: now)
        let moderator = UserID("usr_2")
        // 1,000 letters with a combining accent are 2,000 code points: the most a reason may have.
        let longest = String(repeating: "e\u{301}", count: 1_000)
        let refused = try VerificationRules.decide(pending, approve: false, reason: longest, by: moderator, now: now)
        #expect(refused.reason == longest && refused.state == .rejected)
        #expect(throws: VerificationError.reasonTooLong(limit: 2_000)) {
            try VerificationRules.decide(pending, approve: false, reason: longest + "!", by: moderator, now: now)
        }
    }
}
