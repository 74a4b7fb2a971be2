import Foundation

/// A rating network read from a file: user names, ratings in time order, and the scale.
public struct RatingTable: Sendable {
    public struct Record: Sendable, Equatable {
        public let source: Int32
        public let target: Int32
        public let rating: Double
        public let time: Double
        /// Position in the file, which breaks ties between equal times.
        public let order: Int32
        /// The time exactly as written, for output.
        public let timeText: String
    }

    public private(set) var names: [String] = []
    public private(set) var records: [Record] = []
    private var indexes: [String: Int32] = [:]

    public init() {}

    public var userCount: Int { names.count }

    /// The largest |rating|: the scale's end (10 for -10 ... 10).
    public private(set) var scale: Double = 1

    public mutating func index(of name: String) -> Int32 {
        if let index = indexes[name] { return index }
        let index = Int32(names.count)
        names.append(name)
        indexes[name] = index
        return index
    }

    public mutating func append(source: String, target: String, rating: Double, time: Double, timeText: String) {
        let record = Record(
            source: index(of: source), target: index(of: target), rating: rating, time: time,
            order: Int32(records.count), timeText: timeText
        )
        records.append(record)
        scale = max(scale, abs(rating))
    }

    /// Orders the ratings by time, ties in file order.
    public mutating func sortByTime() {
        records.sort { $0.time != $1.time ? $0.time < $1.time : $0.order < $1.order }
    }

    public func engineRating(_ record: Record) -> TrustEngine.Rating {
        TrustEngine.Rating(source: record.source, target: record.target, value: record.rating / scale, time: record.time)
    }

    /// Parses `source,target,rating,time` lines; a first line whose rating is not a number is a header.
    /// Blank lines are skipped; anything else malformed is an error naming the line.
    public static func parse(_ bytes: [UInt8]) throws(RatingTableError) -> RatingTable {
        var table = RatingTable()
        var lineNumber = 0
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count, bytes[end] != 10 { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
            if lineEnd > start {
                var fields: [Range<Int>] = []
                var fieldStart = start
                for position in start..<lineEnd where bytes[position] == 44 {
                    fields.append(fieldStart..<position)
                    fieldStart = position + 1
                }
                fields.append(fieldStart..<lineEnd)
                guard fields.count == 4 else { throw .malformed(line: lineNumber, reason: "expected 4 fields: source,target,rating,time") }
                func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self).trimmingWhitespace() }
                let ratingText = text(fields[2])
                let timeText = text(fields[3])
                if let rating = Double(ratingText), let time = Double(timeText), rating.isFinite, time.isFinite {
                    let source = text(fields[0])
                    let target = text(fields[1])
                    guard !source.isEmpty, !target.isEmpty else { throw .malformed(line: lineNumber, reason: "empty user id") }
                    table.append(source: source, target: target, rating: rating, time: time, timeText: timeText)
                } else if !(lineNumber == 1 && table.records.isEmpty) {
                    throw .malformed(line: lineNumber, reason: "rating and time must be numbers")
                }
            }
            start = end + 1
        }
        return table
    }
}

public enum RatingTableError: Error, Equatable, CustomStringConvertible {
    case malformed(line: Int, reason: String)

    public var description: String {
        switch self {
        case .malformed(let line, let reason): "line \(line): \(reason)"
        }
    }
}

/// The area under the ROC curve: the probability that a random good trade is scored above a
/// random bad one (ties count half). Computed by ranking, O(n log n).
public enum ROC {
    public static func auc(labels: [Bool], scores: [Double]) -> Double? {
        precondition(labels.count == scores.count)
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var positives = 0.0
        var index = 0
        while index < order.count {
            var end = index
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[index]] { end += 1 }
            let rank = Double(index + end) / 2 + 1
            for position in index...end where labels[order[position]] {
                rankSumPositive += rank
                positives += 1
            }
            index = end + 1
        }
        let negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return nil }
        return (rankSumPositive - positives * (positives + 1) / 2) / (positives * negatives)
    }
}

/// The simple predictors the engine is measured against, all from the target's received ratings:
/// the share of positives, a Beta posterior (pos+1)/(n+2), and the same with a 90-day half-life.
public struct BaselinePredictors: Sendable {
    struct Counts { var positive = 0.0, total = 0.0, decayedPositive = 0.0, decayedTotal = 0.0, time = 0.0 }
    private var counts: [Int32: Counts] = [:]
    private let decay: Double = log(2.0) / (90 * 86_400)

    public init() {}

    public func predict(target: Int32, at time: Double) -> (percentPositive: Double, beta: Double, decayedBeta: Double) {
        guard let counts = counts[target] else { return (0.5, 0.5, 0.5) }
        let factor = exp(-decay * max(0, time - counts.time))
        return (
            counts.total > 0 ? counts.positive / counts.total : 0.5,
            (counts.positive + 1) / (counts.total + 2),
            (counts.decayedPositive * factor + 1) / (counts.decayedTotal * factor + 2)
        )
    }

    public mutating func apply(target: Int32, positive: Bool, at time: Double) {
        var entry = counts[target] ?? Counts(time: time)
        let factor = exp(-decay * max(0, time - entry.time))
        entry.decayedPositive = entry.decayedPositive * factor + (positive ? 1 : 0)
        entry.decayedTotal = entry.decayedTotal * factor + 1
        entry.positive += positive ? 1 : 0
        entry.total += 1
        entry.time = max(entry.time, time)
        counts[target] = entry
    }
}

/// Prequential evaluation: every rating is predicted from earlier ratings only, then revealed.
public struct PrequentialReport: Sendable {
    public struct Scores: Sendable {
        public let all: Double?
        /// Over ratings whose target had been rated before.
        public let seenTargets: Double?
    }

    public let ratings: Int
    public let engine: Scores
    public let percentPositive: Scores
    public let beta: Scores
    public let decayedBeta: Scores
    /// Ratings per second through `TrustEngine.observe` alone.
    public let engineRatingsPerSecond: Double
}
