import Foundation

/// Warnings a buyer sees at checkout, before paying (F4: risk warnings at the moment of decision).
public enum CheckoutWarnings {
    /// A seller with fewer completed sales than this is new.
    public static let newSellerSales = 3
    /// An account younger than this is new.
    public static let newAccountSeconds: TimeInterval = 30 * 86_400

    public static func forSeller(completedSales: Int, memberSince: Date, now: Date) -> [String] {
        var warnings: [String] = []
        if completedSales < newSellerSales {
            warnings.append("This seller is new: \(completedSales) completed sale\(completedSales == 1 ? "" : "s"). Escrow protects your payment either way; never pay outside Fiducia.")
        }
        if now.timeIntervalSince(memberSince) < newAccountSeconds {
            warnings.append("This account is less than \(Int(newAccountSeconds / 86_400)) days old.")
        }
        return warnings
    }
}
