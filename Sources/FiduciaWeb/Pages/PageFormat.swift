import FiduciaDomain
import Foundation

/// How pages write dates and statuses.
enum PageFormat {
    static let utc = TimeZone(identifier: "UTC")!

    /// "22 Nov 2026, 19:40 UTC"
    static func dateTime(_ date: Date) -> String {
        var style = Date.FormatStyle(date: .abbreviated, time: .shortened)
        style.timeZone = utc
        return date.formatted(style) + " UTC"
    }

    /// "22 Nov 2026"
    static func date(_ date: Date) -> String {
        var style = Date.FormatStyle(date: .abbreviated, time: .omitted)
        style.timeZone = utc
        return date.formatted(style)
    }

    static func statusLabel(_ status: OrderStatus) -> String {
        switch status {
        case .created: "Awaiting payment"
        case .paid: "Paid, to ship"
        case .shipped: "Shipped"
        case .completed: "Completed"
        case .cancelled: "Cancelled"
        case .refunded: "Refunded"
        }
    }

    /// The colour class of a status badge: good, warn, bad or neutral.
    static func statusClass(_ status: OrderStatus) -> String {
        switch status {
        case .completed: "good"
        case .created, .paid, .shipped: "warn"
        case .cancelled, .refunded: "bad"
        }
    }
}
