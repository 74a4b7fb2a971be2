import FiduciaDomain
import Foundation
import Testing

@Suite("Identifiers, money and pages")
struct CommonTests {
    @Test func identifiersHavePrefixFixedLengthAndSortByTime() {
        let random = [UInt8](repeating: 0xAB, count: 10)
        let early = IdentifierFormat.make(prefix: "usr", milliseconds: 1_700_000_000_000, random: random)
        let late = IdentifierFormat.make(prefix: "usr", milliseconds: 1_700_000_000_001, random: [UInt8](repeating: 0, count: 10))
        #expect(early.hasPrefix("usr_"))
        #expect(early.count == 30)
        #expect(early < late)
        #expect(IdentifierFormat.isWellFormed(early, prefix: "usr"))
        #expect(!IdentifierFormat.isWellFormed(early, prefix: "ord"))
        #expect(!IdentifierFormat.isWellFormed("usr_" + String(repeating: "!", count: 26), prefix: "usr"))
    }

    @Test func currencyCodesAreThreeCapitals() {
        #expect(Currency("EUR") != nil)
        #expect(Currency("eur") == nil)
        #expect(Currency("EURO") == nil)
        #expect(Currency("JPY")!.minorUnitDigits == 0)
        #expect(Currency("KWD")!.minorUnitDigits == 3)
    }

    @Test func moneyFormatsMinorUnitsExactly() {
        #expect(Money(amountMinor: 1250, currency: Currency("EUR")!).description == "12.50 EUR")
        #expect(Money(amountMinor: -5, currency: Currency("EUR")!).description == "-0.05 EUR")
        #expect(Money(amountMinor: 1500, currency: Currency("JPY")!).description == "1500 JPY")
        #expect(Money(amountMinor: 1, currency: Currency("KWD")!).description == "0.001 KWD")
        #expect(Money(amountMinor: .max, currency: Currency("EUR")!).description == "92233720368547758.07 EUR")
    }

    @Test func cursorsRoundTripAndRejectForgeries() throws {
        let cursor = PageRequest.encode("usr_01abc")
        let page = try PageRequest(limit: 10, cursor: cursor)
        #expect(page.after == "usr_01abc")
        #expect(throws: ValidationError.self) { try PageRequest(cursor: "not-a-cursor") }
        #expect(throws: ValidationError.self) { try PageRequest(cursor: "YzE6") }
        #expect(throws: ValidationError.self) { try PageRequest(cursor: "YzE6ab+c") }
        // Anything of the documented shape is a place to start from, even when this server did not
        // write it: the API document promises as much.
        #expect(try PageRequest(cursor: "YzE6__").after?.isEmpty == false)
        #expect(try PageRequest(cursor: "YzE6" + String(repeating: "z", count: 86)).after != nil)
        #expect(throws: ValidationError.self) { try PageRequest(cursor: "YzE6" + String(repeating: "z", count: 87)) }
        #expect(throws: ValidationError.self) { try PageRequest(limit: 0) }
        #expect(throws: ValidationError.self) { try PageRequest(limit: 101) }
        #expect(try PageRequest().limit == 20)
    }

    @Test func pagesUseTheExtraItemOnlyToKnowMoreExist() {
        let full = Page(fetched: ["a", "b", "c"], limit: 2, identifier: { $0 })
        #expect(full.items == ["a", "b"])
        #expect(full.nextCursor == PageRequest.encode("b"))
        let last = Page(fetched: ["a", "b"], limit: 2, identifier: { $0 })
        #expect(last.items == ["a", "b"])
        #expect(last.nextCursor == nil)
    }
}

@Suite("Typed amounts")
struct MoneyInputTests {
    let eur = Currency("EUR")!

    @Test func readsWhatPeopleType() {
        #expect(Money.parseMinor("12.50", currency: eur) == 1_250)
        #expect(Money.parseMinor("12", currency: eur) == 1_200)
        #expect(Money.parseMinor(" 0,5 ", currency: eur) == 50)
        #expect(Money.parseMinor(".75", currency: eur) == 75)
        #expect(Money.parseMinor("1500", currency: Currency("JPY")!) == 1_500)
    }

    @Test(arguments: ["", "-1", "1.234", "12.", "abc", "1e3", "1.2.3", "١٢", "999999999999999999"])
    func refusesEverythingElse(_ text: String) {
        #expect(Money.parseMinor(text, currency: eur) == nil)
    }
}
