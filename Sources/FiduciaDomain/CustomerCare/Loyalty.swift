import Foundation

/// A merchant's loyalty programme (F6): buyers earn points on completed orders and reach member
/// levels with benefits the merchant describes. Points are not money: they never enter the money
/// ledger; they are kept in a ledger of their own, double-entry, per merchant.
public struct LoyaltyProgramme: Sendable, Equatable, Codable {
    public struct Level: Sendable, Equatable, Codable {
        public let name: String
        public let minimumPoints: Int64
        public let benefit: String

        public init(name: String, minimumPoints: Int64, benefit: String) {
            self.name = name
            self.minimumPoints = minimumPoints
            self.benefit = benefit
        }
    }

    /// Points per whole unit of the order's currency (1 EUR, 1 JPY) kept, rounded down.
    public var pointsPerUnit: Int
    /// Ascending; the first starts at 0 points.
    public var levels: [Level]

    public init(pointsPerUnit: Int, levels: [Level]) {
        self.pointsPerUnit = pointsPerUnit
        self.levels = levels
    }

    public static let pointsPerUnitRange = 1...100
    public static let levelCount = 1...5
    public static let nameLength = 1...40
    public static let benefitLength = 1...200
    public static let maximumThreshold: Int64 = 100_000_000

    /// Checks a programme as a merchant sends it: names and benefits as sent and trimmed, the first
    /// level from 0 points, thresholds strictly rising.
    public static func validated(pointsPerUnit: Int, levels raw: [Level]) throws -> LoyaltyProgramme {
        var validator = Validator()
        validator.check(pointsPerUnitRange.contains(pointsPerUnit), field: "pointsPerUnit", "Give 1 to 100 points per unit of currency.")
        validator.check(levelCount.contains(raw.count), field: "levels", "Name 1 to 5 member levels.")
        var levels: [Level] = []
        for (index, level) in raw.enumerated() {
            let name = try CommunityRules.trimmed(level.name, within: nameLength, field: "levels[\(index)].name")
            let benefit = try CommunityRules.trimmed(level.benefit, within: benefitLength, field: "levels[\(index)].benefit")
            validator.check(!name.isEmpty, field: "levels[\(index)].name", "Name the level.")
            validator.check(!benefit.isEmpty, field: "levels[\(index)].benefit", "Say what members of this level get.")
            validator.check((0...maximumThreshold).contains(level.minimumPoints), field: "levels[\(index)].minimumPoints", "From 0 to \(maximumThreshold) points.")
            levels.append(Level(name: name, minimumPoints: level.minimumPoints, benefit: benefit))
        }
        try validator.throwIfInvalid()
        var rules = Validator()
        rules.check(levels.first?.minimumPoints == 0, field: "levels", "The first level starts at 0 points: every buyer is a member.")
        rules.check(zip(levels, levels.dropFirst()).allSatisfy { $0.minimumPoints < $1.minimumPoints }, field: "levels", "Each level needs more points than the one before.")
        rules.check(Set(levels.map { $0.name.lowercased() }).count == levels.count, field: "levels", "Give each level its own name.")
        if !rules.errors.isEmpty { throw RuleNotMet(rules.errors) }
        return LoyaltyProgramme(pointsPerUnit: pointsPerUnit, levels: levels)
    }

    /// The level a balance reaches, and the next one with the points still needed.
    public func standing(points: Int64) -> (level: Level, next: Level?, toNext: Int64?) {
        let reached = levels.last { $0.minimumPoints <= points } ?? levels[0]
        let next = levels.first { $0.minimumPoints > points }
        return (reached, next, next.map { $0.minimumPoints - points })
    }

    /// The points an order is worth: the amount kept (total less refunds) in whole units, times
    /// the rate, rounded down; checked arithmetic (a bounded amount times at most 100).
    public static func points(keptMinor: Int64, minorUnitsPerMajor: Int64, pointsPerUnit: Int) -> Int64 {
        guard keptMinor > 0, minorUnitsPerMajor > 0 else { return 0 }
        let (product, overflow) = (keptMinor / minorUnitsPerMajor).multipliedReportingOverflow(by: Int64(pointsPerUnit))
        return overflow ? 0 : product
    }
}

/// The two sides of every points entry: the merchant's issued account (it only ever pays out)
/// and each member's account.
public enum LoyaltyAccount: Sendable, Hashable {
    case issued(seller: UserID)
    case member(seller: UserID, buyer: UserID)

    public var key: String {
        switch self {
        case .issued(let seller): "issued:\(seller)"
        case .member(let seller, let buyer): "member:\(seller):\(buyer)"
        }
    }
}

/// What a completed (and perhaps later refunded) order should have earned, against what it has:
/// the points entry that closes the gap, if any.
public enum LoyaltyPosting {
    public enum Entry: Sendable, Equatable {
        /// The member earns `points` (issued → member).
        case earn(Int64)
        /// A later refund takes back `points` (member → issued).
        case clawBack(Int64)
    }

    public static func entry(earnedSoFar: Int64, target: Int64) -> Entry? {
        if target > earnedSoFar { return .earn(target - earnedSoFar) }
        if target < earnedSoFar { return .clawBack(earnedSoFar - target) }
        return nil
    }
}
