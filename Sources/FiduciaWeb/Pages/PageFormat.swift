import FiduciaDomain
import Foundation

/// How pages write dates and statuses.
enum PageFormat {
    static let utc = TimeZone(identifier: "UTC")!

    /// "22 Nov 2026, 19:40 UTC"
    /// The non-empty lines of a textarea, trimmed.
    static func lines(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

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

    /// "2 days 4 hours left", "3 hours 10 minutes left", or "passed": a deadline counting down.
    static func remaining(until deadline: Date, now: Date) -> String {
        let seconds = Int(deadline.timeIntervalSince(now))
        guard seconds > 0 else { return "passed" }
        func unit(_ value: Int, _ name: String) -> String { "\(value) \(name)\(value == 1 ? "" : "s")" }
        let days = seconds / 86_400, hours = seconds % 86_400 / 3_600, minutes = seconds % 3_600 / 60
        if days > 0 { return unit(days, "day") + (hours > 0 ? " " + unit(hours, "hour") : "") + " left" }
        if hours > 0 { return unit(hours, "hour") + " " + unit(minutes, "minute") + " left" }
        return unit(max(minutes, 1), "minute") + " left"
    }

    /// "1 h 20 min": a duration such as a response time.
    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        if total >= 86_400 { return "\(total / 86_400) d \(total % 86_400 / 3_600) h" }
        if total >= 3_600 { return "\(total / 3_600) h \(total % 3_600 / 60) min" }
        return "\(max(1, total / 60)) min"
    }
}
