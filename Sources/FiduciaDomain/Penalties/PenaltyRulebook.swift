import Foundation

/// The penalty rulebook (D1): which violations carry how many points and what fine, and what the
/// points bring when they add up. In the spirit of Taobao's scale (12 / 24 / 36 points bring
/// restrictions of 7 / 14 / 21 days, 48 closes the shop); points expire after 12 months.
///
/// The rulebook is data (`Sources/FiduciaServices/Resources/Rules/penalties.json` is version 1),
/// shown at `/rules/penalties`. A new version takes effect only once a second administrator
/// approves it; until then the last approved one applies.
public struct PenaltyRulebook: Sendable, Equatable, Codable {
    /// A kind of violation.
    public struct Violation: Sendable, Equatable, Codable {
        public enum Severity: String, Sendable, Codable { case general, serious }

        /// A stable code, e.g. `counterfeit`; dispute outcomes name some by code.
        public let code: String
        public let name: String
        public let description: String
        public let severity: Severity
        public let points: Int
        /// A fine taken from the seller's deposit into the guarantee fund, in major units of the
        /// reference currency (0: none).
        public let fineMajor: Int64

        public init(code: String, name: String, description: String, severity: Severity, points: Int, fineMajor: Int64) {
            self.code = code
            self.name = name
            self.description = description
            self.severity = severity
            self.points = points
            self.fineMajor = fineMajor
        }
    }

    /// What reaching a number of points brings.
    public struct Threshold: Sendable, Equatable, Codable {
        public enum Consequence: String, Sendable, Codable {
            /// A warning on the record; nothing is restricted.
            case warning
            /// No new orders as a seller for `days`.
            case restriction
            /// No new orders at all, as buyer or seller, for `days`.
            case suspension
            /// No new orders at all, for good.
            case ban
        }

        public let points: Int
        public let consequence: Consequence
        public let days: Int?

        public init(points: Int, consequence: Consequence, days: Int?) {
            self.points = points
            self.consequence = consequence
            self.days = days
        }

        public var words: String {
            switch consequence {
            case .warning: "a warning"
            case .restriction: "no new sales for \(days ?? 0) days"
            case .suspension: "suspension for \(days ?? 0) days"
            case .ban: "a permanent ban"
            }
        }
    }

    public let version: Int
    public let title: String
    public let pointsExpireAfterDays: Int
    public let appealWindowDays: Int
    public let violations: [Violation]
    public let thresholds: [Threshold]

    public init(version: Int, title: String, pointsExpireAfterDays: Int, appealWindowDays: Int, violations: [Violation], thresholds: [Threshold]) {
        self.version = version
        self.title = title
        self.pointsExpireAfterDays = pointsExpireAfterDays
        self.appealWindowDays = appealWindowDays
        self.violations = violations
        self.thresholds = thresholds
    }

    public func violation(_ code: String) -> Violation? { violations.first { $0.code == code } }

    /// Reads and checks a rulebook: codes unique and plain, points 0 to 48, thresholds rising,
    /// days given where they count, appeals open at least 6 months (the EU Digital Services Act's
    /// minimum, Art. 20).
    public static func parse(_ json: String) throws -> PenaltyRulebook {
        let decoded: PenaltyRulebook
        do {
            decoded = try JSONDecoder().decode(PenaltyRulebook.self, from: Data(json.utf8))
        } catch {
            throw ValidationError(field: "rulebook", "The rulebook is not valid JSON of the documented shape.")
        }
        var validator = Validator()
        validator.check(decoded.version > 0, field: "version", "The version must be positive.")
        validator.check((1...200).contains(decoded.violations.count), field: "violations", "A rulebook names 1 to 200 violations.")
        validator.check(decoded.thresholds.count <= 20, field: "thresholds", "A rulebook has at most 20 thresholds.")
        validator.check(decoded.title.unicodeScalars.count <= 200, field: "title", "The title is at most 200 characters.")
        for violation in decoded.violations {
            validator.check((1...64).contains(violation.code.count) && violation.code.allSatisfy { ("a"..."z").contains($0) || $0 == "-" }, field: "violations",
                            "Codes are lower-case words joined by hyphens: \(violation.code).")
            validator.check(violation.name.unicodeScalars.count <= 200 && violation.description.unicodeScalars.count <= 2000, field: "violations",
                            "A name is at most 200 characters, a description at most 2000: \(violation.code).")
            validator.check((0...48).contains(violation.points), field: "violations", "Points are 0 to 48: \(violation.code).")
            validator.check(violation.fineMajor >= 0 && violation.fineMajor <= 1_000_000, field: "violations", "Fines are 0 to 1000000 major units: \(violation.code).")
        }
        for threshold in decoded.thresholds {
            let needsDays = threshold.consequence == .restriction || threshold.consequence == .suspension
            validator.check(!needsDays || threshold.days != nil, field: "thresholds", "Restrictions and suspensions last a number of days.")
            validator.check((1...10_000).contains(threshold.points) && (threshold.days.map { (1...36_500).contains($0) } ?? true), field: "thresholds",
                            "A threshold is 1 to 10000 points and lasts 1 to 36500 days.")
        }
        validator.check((30...3_650).contains(decoded.pointsExpireAfterDays), field: "pointsExpireAfterDays", "Points expire after 30 to 3650 days.")
        validator.check((183...36_500).contains(decoded.appealWindowDays), field: "appealWindowDays", "Appeals stay open at least six months (183 days).")
        try validator.throwIfInvalid()
        // How the items relate to each other, which no schema of the document states.
        var rules = Validator()
        rules.check(Set(decoded.violations.map(\.code)).count == decoded.violations.count, field: "violations", "Violation codes must be unique.")
        let points = decoded.thresholds.map(\.points)
        rules.check(points == points.sorted() && Set(points).count == points.count, field: "thresholds", "Thresholds rise strictly.")
        try rules.throwIfRuleNotMet()
        return decoded
    }
}

/// One version of the rulebook as stored: proposed by an administrator, in force only once a
/// second administrator approves it (maker–checker). Version 1 ships with Fiducia.
public struct PenaltyRulebookVersion: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case proposed, approved, rejected }

    public let rulebook: PenaltyRulebook
    public let document: String
    public var status: Status
    /// Nil for the rulebook that ships with Fiducia.
    public let proposedBy: UserID?
    public let proposedAt: Date
    public var decidedBy: UserID?
    public var decidedAt: Date?

    public init(rulebook: PenaltyRulebook, document: String, status: Status, proposedBy: UserID?, proposedAt: Date, decidedBy: UserID? = nil, decidedAt: Date? = nil) {
        self.rulebook = rulebook
        self.document = document
        self.status = status
        self.proposedBy = proposedBy
        self.proposedAt = proposedAt
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
    }

    public var version: Int { rulebook.version }

    /// Checks a proposal: its version follows the newest one stored.
    public static func checkProposal(_ rulebook: PenaltyRulebook, latestVersion: Int) throws(RulebookError) {
        guard rulebook.version == latestVersion + 1 else { throw .versionOutOfSequence(expected: latestVersion + 1) }
    }

    /// Checks that `approver` may decide this proposal: it is still proposed, and they did not
    /// propose it themselves.
    public func checkDecision(by approver: UserID) throws(RulebookError) {
        guard status == .proposed else { throw .alreadyDecided }
        guard approver != proposedBy else { throw .sameAdministrator }
    }
}

/// Named failures of rulebook changes.
public enum RulebookError: DomainError, Equatable {
    case versionOutOfSequence(expected: Int)
    case alreadyDecided
    case sameAdministrator
    case unknownViolation(String)

    public var kind: FailureKind {
        switch self {
        case .versionOutOfSequence, .alreadyDecided: .conflict
        case .sameAdministrator: .forbidden
        case .unknownViolation: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .versionOutOfSequence: "rulebook-version-conflict"
        case .alreadyDecided: "rulebook-already-decided"
        case .sameAdministrator: "second-approval-required"
        case .unknownViolation: "rule-not-met"
        }
    }

    public var title: String {
        switch self {
        case .versionOutOfSequence: "Rulebook version out of sequence"
        case .alreadyDecided: "Rulebook change already decided"
        case .sameAdministrator: "A second administrator must approve"
        case .unknownViolation: RuleNotMet.title
        }
    }

    public var detail: String {
        switch self {
        case .versionOutOfSequence(let expected): "The next rulebook version is \(expected)."
        case .alreadyDecided: "This rulebook change has already been approved or rejected."
        case .sameAdministrator: "The administrator who proposed a rulebook change cannot approve it; another one must."
        case .unknownViolation(let code): "The rulebook in force has no violation \(code)."
        }
    }

    public var fieldErrors: [FieldError] {
        if case .unknownViolation = self { return [FieldError(field: "violation", message: detail)] }
        return []
    }
}
