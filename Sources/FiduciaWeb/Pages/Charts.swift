import Foundation

/// Charts drawn on the server as SVG: no script, no third-party library, readable by screen
/// readers through their title and description.
enum Charts {
    /// A line chart of integer values over time, on a fixed 0 … `maximum` scale.
    static let accent = "#0b5cad"

    static func line(points: [(Date, Int)], maximum: Int, title: String, width: Int = 560, height: Int = 200) -> String {
        guard let first = points.first, let last = points.last else { return "" }
        let left = 40.0, right = 12.0, top = 12.0, bottom = 28.0
        let plotWidth = Double(width) - left - right
        let plotHeight = Double(height) - top - bottom
        let start = first.0.timeIntervalSince1970
        let span = max(1, last.0.timeIntervalSince1970 - start)
        func x(_ date: Date) -> Double { points.count == 1 ? left + plotWidth / 2 : left + (date.timeIntervalSince1970 - start) / span * plotWidth }
        func y(_ value: Int) -> Double { top + plotHeight * (1 - Double(min(max(value, 0), maximum)) / Double(maximum)) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        var svg = #"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(width) \#(height)" width="\#(width)" height="\#(height)" role="img" aria-labelledby="chart-title chart-desc">"#
        svg += #"<title id="chart-title">\#(escape(title))</title>"#
        svg += #"<desc id="chart-desc">From \#(points.first!.1) on \#(PageFormat.date(first.0)) to \#(points.last!.1) on \#(PageFormat.date(last.0)), \#(points.count) points.</desc>"#
        for grid in stride(from: 0, through: maximum, by: maximum / 4) {
            svg += #"<line x1="\#(number(left))" x2="\#(number(Double(width) - right))" y1="\#(number(y(grid)))" y2="\#(number(y(grid)))" stroke="currentColor" stroke-opacity="0.15"/>"#
            svg += #"<text x="\#(number(left - 6))" y="\#(number(y(grid) + 4))" text-anchor="end" font-size="11" fill="currentColor">\#(grid)</text>"#
        }
        // A step line: the score holds its value until the next change.
        var path = "M\(number(x(first.0))),\(number(y(first.1)))"
        for (date, value) in points.dropFirst() {
            path += " H\(number(x(date))) V\(number(y(value)))"
        }
        if points.count > 1 { path += " H\(number(left + plotWidth))" }
        svg += #"<path d="\#(path)" fill="none" stroke="\#(accent)" stroke-width="2.5"/>"#
        for (date, value) in points.suffix(60) {
            svg += #"<circle cx="\#(number(x(date)))" cy="\#(number(y(value)))" r="2.5" fill="\#(accent)"><title>\#(value) on \#(PageFormat.date(date))</title></circle>"#
        }
        svg += #"<text x="\#(number(left))" y="\#(height - 8)" font-size="11" fill="currentColor">\#(PageFormat.date(first.0))</text>"#
        svg += #"<text x="\#(number(Double(width) - right))" y="\#(height - 8)" font-size="11" text-anchor="end" fill="currentColor">\#(PageFormat.date(last.0))</text>"#
        svg += "</svg>"
        return svg
    }

    /// A bar chart of one non-negative count per label (months), scaled to its largest value,
    /// each bar with its value as a tooltip and written above it.
    static func bars(labels: [String], values: [Int], title: String, unit: String = "", width: Int = 560, height: Int = 200) -> String {
        guard !values.isEmpty, labels.count == values.count else { return "" }
        let left = 40.0, right = 12.0, top = 18.0, bottom = 28.0
        let plotWidth = Double(width) - left - right
        let plotHeight = Double(height) - top - bottom
        let maximum = max(1, values.max() ?? 1)
        let slot = plotWidth / Double(values.count)
        let barWidth = min(48, slot * 0.7)
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = #"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(width) \#(height)" width="\#(width)" height="\#(height)" role="img" aria-label="\#(escape(title))">"#
        svg += "<title>\(escape(title))</title>"
        svg += "<desc>\(escape(zip(labels, values).map { "\($0): \($1)\(unit)" }.joined(separator: "; ")))</desc>"
        svg += #"<line x1="\#(number(left))" x2="\#(number(Double(width) - right))" y1="\#(number(top + plotHeight))" y2="\#(number(top + plotHeight))" stroke="currentColor" stroke-opacity="0.3"/>"#
        svg += #"<text x="\#(number(left - 6))" y="\#(number(top + 4))" text-anchor="end" font-size="11" fill="currentColor">\#(maximum)\#(escape(unit))</text>"#
        for (index, (label, value)) in zip(labels, values).enumerated() {
            let barHeight = plotHeight * Double(max(0, value)) / Double(maximum)
            let x = left + slot * Double(index) + (slot - barWidth) / 2
            let y = top + plotHeight - barHeight
            svg += #"<rect x="\#(number(x))" y="\#(number(y))" width="\#(number(barWidth))" height="\#(number(barHeight))" fill="\#(accent)"><title>\#(escape(label)): \#(value)\#(escape(unit))</title></rect>"#
            svg += #"<text x="\#(number(x + barWidth / 2))" y="\#(number(y - 4))" text-anchor="middle" font-size="11" fill="currentColor">\#(value)</text>"#
            svg += #"<text x="\#(number(x + barWidth / 2))" y="\#(height - 8)" text-anchor="middle" font-size="11" fill="currentColor">\#(escape(label))</text>"#
        }
        svg += "</svg>"
        return svg
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
