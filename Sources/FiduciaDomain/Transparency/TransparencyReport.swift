import Foundation

/// What the operator did in one calendar month (F5), published as it was generated and never
/// recomputed: a later month's report does not rewrite an earlier one.
public struct TransparencyReport: Sendable, Equatable, Codable {
    /// `YYYY-MM`, UTC.
    public let month: String
    public let generatedAt: Date
    public var figures: Figures

    public init(month: String, generatedAt: Date, figures: Figures) {
        self.month = month
        self.generatedAt = generatedAt
        self.figures = figures
    }

    public struct Volume: Sendable, Equatable, Codable {
        public let currency: String
        /// The total of the orders paid into escrow in the month, in minor units.
        public let paidMinor: Int64
        /// The refunds among them (as of the report), in minor units.
        public let refundedMinor: Int64

        public init(currency: String, paidMinor: Int64, refundedMinor: Int64) {
            self.currency = currency
            self.paidMinor = paidMinor
            self.refundedMinor = refundedMinor
        }
    }

    public struct PenaltyCount: Sendable, Equatable, Codable {
        public let violationCode: String
        public let violationName: String
        public let count: Int

        public init(violationCode: String, violationName: String, count: Int) {
            self.violationCode = violationCode
            self.violationName = violationName
            self.count = count
        }
    }

    public struct Figures: Sendable, Equatable, Codable {
        public var ordersPlaced = 0
        public var ordersPaid = 0
        public var ordersCompleted = 0
        /// Orders paid in the month that were later refunded in whole or in part.
        public var ordersRefunded = 0
        public var volumes: [Volume] = []
        public var disputesOpened = 0
        public var disputesResolved = 0
        /// The median time from opening to ruling of the disputes resolved in the month.
        public var medianDisputeHours: Double?
        public var penalties: [PenaltyCount] = []
        public var appealsDecided = 0
        public var appealsOverturned = 0
        public var reportsResolved = 0
        /// Fraud alerts open when the report was generated (the trust engine's, F-alerts).
        public var fraudAlerts = 0
        /// Accounts banned under the penalty rulebook in the month.
        public var accountsBanned = 0
        /// Accounts their owners deleted in the month.
        public var accountsDeleted = 0
        public var feedbackReceived = 0

        public init() {}

        /// Refunded orders per paid order, in basis points (nil without paid orders).
        public var refundRateBasisPoints: Int? { Self.rate(ordersRefunded, of: ordersPaid) }
        /// Disputes opened per paid order, in basis points.
        public var disputeRateBasisPoints: Int? { Self.rate(disputesOpened, of: ordersPaid) }

        static func rate(_ part: Int, of whole: Int) -> Int? {
            whole > 0 ? Int((Double(part) * 10_000 / Double(whole)).rounded()) : nil
        }

        public var penaltiesTotal: Int { penalties.reduce(0) { $0 + $1.count } }
    }

    /// The median of `values` (the mean of the middle two for an even count); nil for none.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The columns of the CSV form, one row per month, in this order.
    public static let csvHeader = [
        "month", "generated_at", "orders_placed", "orders_paid", "orders_completed", "orders_refunded", "refund_rate_bp",
        "disputes_opened", "dispute_rate_bp", "disputes_resolved", "median_dispute_hours", "penalties", "appeals_decided",
        "appeals_overturned", "reports_resolved", "fraud_alerts", "accounts_banned", "accounts_deleted", "feedback_received", "volumes",
    ]

    /// One CSV row (RFC 4180): money volumes as `EUR:12345/678` pairs (paid/refunded minor units)
    /// separated by spaces, in one quoted field.
    public var csvRow: [String] {
        let f = figures
        func optional(_ value: Int?) -> String { value.map(String.init) ?? "" }
        return [
            month, ISO8601DateFormatter().string(from: generatedAt), "\(f.ordersPlaced)", "\(f.ordersPaid)", "\(f.ordersCompleted)",
            "\(f.ordersRefunded)", optional(f.refundRateBasisPoints), "\(f.disputesOpened)", optional(f.disputeRateBasisPoints),
            "\(f.disputesResolved)", f.medianDisputeHours.map { String(format: "%.1f", $0) } ?? "", "\(f.penaltiesTotal)",
            "\(f.appealsDecided)", "\(f.appealsOverturned)", "\(f.reportsResolved)", "\(f.fraudAlerts)", "\(f.accountsBanned)",
            "\(f.accountsDeleted)", "\(f.feedbackReceived)",
            f.volumes.map { "\($0.currency):\($0.paidMinor)/\($0.refundedMinor)" }.joined(separator: " "),
        ]
    }

    /// The reports as CSV text, oldest month first, CRLF line ends (RFC 4180).
    public static func csv(_ reports: [TransparencyReport]) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { ",\"\r\n ".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let rows = [csvHeader] + reports.sorted { $0.month < $1.month }.map(\.csvRow)
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}
