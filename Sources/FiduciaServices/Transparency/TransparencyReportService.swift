import FiduciaDomain
import FiduciaPersistence
import Foundation

/// The monthly transparency report (F5): generated once for each month by a job on the first
/// day of the next, kept as generated, published as a page with charts, JSON and CSV.
public struct TransparencyReportService: Sendable {
    let store: Store
    let clock: any WallClock
    let trust: TrustService

    static let jobKind = "transparency.report"

    /// On the first day of each month, the report of the month before.
    static let monthly = RecurringJob(kind: jobKind) { now in
        let start = MonthName.range(of: MonthName.of(now))!.0
        let previous = MonthName.of(start.addingTimeInterval(-86_400))
        return ("\(jobKind):\(previous)", start, previous)
    }

    /// Counts are read from a snapshot outside the job's transaction, which then only stores the report.
    var job: JobHandler {
        JobHandler(kind: Self.jobKind, outside: { job, now in
            try await figures(month: job.payload)
        }, then: { job, figures, repositories, now in
            _ = try await repositories.transparency.save(TransparencyReport(month: job.payload, generatedAt: now, figures: figures))
        })
    }

    /// Generates and stores the report of `month` (`YYYY-MM`) unless it exists; returns the stored
    /// one and whether this call made it. Only a month that has ended has a report.
    public func generate(month: String) async throws -> (report: TransparencyReport, created: Bool) {
        guard let (_, end) = MonthName.range(of: month) else { throw ValidationError(field: "month", "Name a month as YYYY-MM.") }
        let now = clock.now()
        guard end <= now else { throw RuleNotMet(field: "month", "\(month) has not ended yet; its report is made on the first day of the next month.") }
        if let existing = try await store.read({ try await $0.transparency.report(month: month) }) { return (existing, false) }
        let report = TransparencyReport(month: month, generatedAt: now, figures: try await figures(month: month))
        let created = try await store.write { try await $0.transparency.save(report) }
        let stored = try await store.read { try await $0.transparency.report(month: month) } ?? report
        return (stored, created)
    }

    func figures(month: String) async throws -> TransparencyReport.Figures {
        guard let (start, end) = MonthName.range(of: month) else { throw ValidationError(field: "month", "Name a month as YYYY-MM.") }
        var figures = try await store.snapshot { repositories in
            var figures = try await repositories.transparency.figures(from: start, to: end)
            // An account is counted as banned in the month its penalties first made it so.
            let rulebook = try await PenaltyService.rulebookInForce(in: repositories).rulebook
            for user in try await repositories.transparency.penalisedUsers(from: start, to: end) {
                let penalties = try await repositories.penalties.penalties(user: user)
                let before = AccountStanding.of(penalties.filter { $0.appliedAt < start }, rulebook: rulebook, at: start).level
                let after = AccountStanding.of(penalties.filter { $0.appliedAt < end }, rulebook: rulebook, at: end.addingTimeInterval(-0.001)).level
                if before != .banned, after == .banned { figures.accountsBanned += 1 }
            }
            return figures
        }
        try await trust.sync()
        figures.fraudAlerts = await trust.fraudAlerts().count
        return figures
    }

    /// Every report, oldest month first (public).
    public func reports() async throws -> [TransparencyReport] {
        try await store.read { try await $0.transparency.reports() }
    }
}
