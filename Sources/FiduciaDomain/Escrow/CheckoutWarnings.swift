import Foundation

/// One thing a careful friend would say before the buyer pays (F4), with the article that explains it.
public struct RiskWarning: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case newSeller, fewRatings, newAccount, trustFell, friendWarned, flagged, priceFarBelowUsual, outsideEscrow
    }

    public let kind: Kind
    public let message: String
    /// The education article's slug (`/learn/<slug>`).
    public let article: String

    public init(kind: Kind, message: String, article: String) {
        self.kind = kind
        self.message = message
        self.article = article
    }
}

/// Warnings a buyer sees at checkout, before paying (F4: risk warnings at the moment of decision).
public enum CheckoutWarnings {
    /// A seller with fewer completed sales than this is new.
    public static let newSellerSales = 3
    /// A seller with fewer published ratings than this has few.
    public static let fewRatings = 5
    /// An account younger than this is new.
    public static let newAccountSeconds: TimeInterval = 30 * 86_400
    /// Trust this far below the seller's long record, pulled down by recent complaints, has fallen sharply.
    public static let sharpFall = 0.15
    /// A price below this share of the seller's median sale is far below what they usually charge,
    /// judged on at least `priceHistory` completed sales.
    public static let farBelowShare = 0.4
    public static let priceHistory = 5

    /// What is known about the seller and this order when the buyer is about to pay.
    public struct Facts: Sendable {
        public var completedSales: Int
        public var ratingsReceived: Int
        public var memberSince: Date
        /// How far recent complaints pulled the seller's trust below their long record (0 ... 1).
        public var recentFall: Double
        /// Friends of the buyer who put the seller on a warn list the buyer may see.
        public var friendsWarning: [String]
        public var flagged: Bool
        public var orderTotal: Money
        /// The seller's median completed sale in the order's currency, and how many sales it rests on.
        public var medianSale: Money?
        public var salesForMedian: Int
        /// What the seller wrote on this order that asks for payment outside escrow, if anything.
        public var offPlatformRequest: String?

        public init(
            completedSales: Int, ratingsReceived: Int, memberSince: Date, recentFall: Double = 0, friendsWarning: [String] = [], flagged: Bool = false,
            orderTotal: Money, medianSale: Money? = nil, salesForMedian: Int = 0, offPlatformRequest: String? = nil
        ) {
            self.completedSales = completedSales
            self.ratingsReceived = ratingsReceived
            self.memberSince = memberSince
            self.recentFall = recentFall
            self.friendsWarning = friendsWarning
            self.flagged = flagged
            self.orderTotal = orderTotal
            self.medianSale = medianSale
            self.salesForMedian = salesForMedian
            self.offPlatformRequest = offPlatformRequest
        }
    }

    /// The warnings, most serious first.
    public static func warnings(_ facts: Facts, now: Date) -> [RiskWarning] {
        var warnings: [RiskWarning] = []
        if !facts.friendsWarning.isEmpty {
            let names = facts.friendsWarning.prefix(3).joined(separator: ", ") + (facts.friendsWarning.count > 3 ? " and others" : "")
            warnings.append(.init(kind: .friendWarned, message: "Your friend\(facts.friendsWarning.count == 1 ? "" : "s") \(names) would not trade with this seller again.", article: "friends-warnings"))
        }
        if facts.flagged {
            warnings.append(.init(kind: .flagged, message: "Fiducia's trust engine flags this seller's account for review: its ratings look manipulated or it drew fraud reports.", article: "reading-trust"))
        }
        if facts.recentFall >= sharpFall {
            warnings.append(.init(kind: .trustFell, message: String(format: "This seller's trust fell sharply in the last 30 days (%.0f points below their long record) after recent complaints.", facts.recentFall * 100), article: "reading-trust"))
        }
        if let median = facts.medianSale, facts.salesForMedian >= priceHistory, median.currency == facts.orderTotal.currency,
            Double(facts.orderTotal.amountMinor) < farBelowShare * Double(median.amountMinor) {
            warnings.append(.init(kind: .priceFarBelowUsual, message: "This price is far below what this seller usually charges (their typical sale is \(median.description)). A deal too good to be true often is.", article: "too-good-to-be-true"))
        }
        if facts.completedSales < newSellerSales {
            warnings.append(.init(kind: .newSeller, message: "This seller is new: \(facts.completedSales) completed sale\(facts.completedSales == 1 ? "" : "s"). Escrow protects your payment either way; never pay outside Fiducia.", article: "new-sellers"))
        } else if facts.ratingsReceived < fewRatings {
            warnings.append(.init(kind: .fewRatings, message: "This seller has only \(facts.ratingsReceived) rating\(facts.ratingsReceived == 1 ? "" : "s"): there is little to judge them by yet.", article: "new-sellers"))
        }
        if now.timeIntervalSince(facts.memberSince) < newAccountSeconds {
            warnings.append(.init(kind: .newAccount, message: "This account is less than \(Int(newAccountSeconds / 86_400)) days old.", article: "new-sellers"))
        }
        if let phrase = facts.offPlatformRequest {
            warnings.insert(.init(kind: .outsideEscrow, message: "The seller's messages mention \"\(phrase)\": paying that way is outside escrow, and nothing protects the money. Pay here, by card, statement or balance; it waits in escrow until you confirm receipt.", article: "paying-safely"), at: 0)
        }
        return warnings
    }

    /// Phrases by which sellers ask to be paid outside escrow (the most common fraud of all).
    static let offPlatformPhrases = [
        "bank transfer", "wire transfer", "wire the money", "western union", "moneygram", "gift card", "paypal friends", "friends and family",
        "pay me directly", "pay outside", "outside fiducia", "crypto", "bitcoin", "usdt", "zelle", "venmo", "cash app", "payment link",
    ]

    /// The first phrase in `text` that asks for payment outside escrow, if any.
    public static func offPlatformRequest(in text: String) -> String? {
        let lowered = text.lowercased()
        return offPlatformPhrases.first { lowered.contains($0) }
    }
}
