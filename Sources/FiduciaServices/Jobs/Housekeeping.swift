import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Hourly clean-up: expired sessions, idempotency keys past their retention, uploads never attached.
enum Housekeeping {
    static let kind = "housekeeping.hourly"

    static let recurring = RecurringJob(kind: kind) { now in
        let hour = floor(now.timeIntervalSince1970 / 3600) * 3600
        return ("\(kind):\(Int(hour))", Date(timeIntervalSince1970: hour), "")
    }

    static func handler(settings: ServiceSettings) -> JobHandler {
        JobHandler(kind: kind) { _, repositories, now in
            _ = try await repositories.sessions.deleteExpired(before: now)
            try await repositories.sessions.deleteFailedLogIns(before: now.addingTimeInterval(-AccountRules.logInFailureWindowSeconds))
            _ = try await repositories.idempotency.purge(createdBefore: now.addingTimeInterval(-settings.idempotencyRetentionSeconds))
            _ = try await repositories.attachments.deleteStaleUploads(before: now.addingTimeInterval(-settings.staleUploadSeconds))
            // The minute-by-minute tree-head jobs, once done, are of no more use.
            try await repositories.jobs.deleteFinished(kind: RatingLogService.treeHeadJobKind, before: now.addingTimeInterval(-86_400))
        }
    }
}
