import FiduciaDomain
import Foundation
import Testing

@Suite("Sign-in with an external account: ID token claims")
struct ExternalSignInRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let issuer = "https://id.example"

    func claims(_ change: (inout IDTokenClaims) -> Void = { _ in }) -> IDTokenClaims {
        var claims = IDTokenClaims(
            issuer: issuer, subject: "248289761001", audience: ["fiducia"], expiresAt: now.addingTimeInterval(300),
            issuedAt: now.addingTimeInterval(-10), nonce: "n-0S6_WzA2Mj", email: "jane@example.org", emailVerified: true, name: "Jane Doe"
        )
        change(&claims)
        return claims
    }

    func refusal(_ claims: IDTokenClaims) -> String? {
        do {
            _ = try ExternalSignInRules.validate(claims, issuer: issuer, clientID: "fiducia", nonce: "n-0S6_WzA2Mj", now: now)
            return nil
        } catch {
            guard case .invalidToken(let reason) = error else { return "unexpected \(error)" }
            return reason
        }
    }

    @Test func aTokenForUsFromOurIssuerWithOurNonceIsAccepted() {
        #expect(refusal(claims()) == nil)
        // Clocks may disagree by a little.
        #expect(refusal(claims { $0.expiresAt = now.addingTimeInterval(-60) }) == nil)
    }

    @Test func everyClaimThatMattersIsChecked() {
        #expect(refusal(claims { $0.issuer = "https://evil.example" })?.contains("issued by") == true)
        #expect(refusal(claims { $0.audience = ["someone-else"] }) == "it was not issued to this Fiducia")
        #expect(refusal(claims { $0.audience = ["fiducia", "other"] }) == "it was issued to another party")  // several audiences need azp
        #expect(refusal(claims { $0.audience = ["fiducia", "other"]; $0.authorizedParty = "fiducia" }) == nil)
        #expect(refusal(claims { $0.expiresAt = now.addingTimeInterval(-600) }) == "it has expired")
        #expect(refusal(claims { $0.issuedAt = now.addingTimeInterval(600) }) == "it was issued in the future")
        #expect(refusal(claims { $0.issuedAt = now.addingTimeInterval(-7_200); $0.expiresAt = now.addingTimeInterval(3_600) }) == "it is too old")
        #expect(refusal(claims { $0.nonce = "replayed" }) == "its nonce does not match this sign-in")
        #expect(refusal(claims { $0.nonce = nil }) == "its nonce does not match this sign-in")
        #expect(refusal(claims { $0.subject = "" }) == "its subject is missing or too long")
    }

    @Test func aNewAccountIsNamedAfterTheProvidersNameOrTheEmail() {
        #expect(ExternalSignInRules.displayName(claims()) == "Jane Doe")
        #expect(ExternalSignInRules.displayName(claims { $0.name = nil }) == "jane")
        #expect(ExternalSignInRules.displayName(claims { $0.name = "  " }) == "jane")
    }
}
