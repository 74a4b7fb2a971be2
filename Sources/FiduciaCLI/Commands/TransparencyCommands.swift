import ArgumentParser
import FiduciaDomain
import FiduciaServices
import Foundation
import Logging

/// `fiducia log …`: the rating log, from outside.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Audit a Fiducia's tamper-evident rating log.",
        subcommands: [VerifyLog.self, SignLog.self, BenchLog.self]
    )
}

/// `fiducia log verify --server URL`: an auditor that remembers what it saw.
struct VerifyLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a Fiducia's rating log through its public API, against what this auditor saw before.",
        discussion: """
            Checks the newest tree head's Ed25519 signature (with the key pinned on the first run), its \
            consistency with the tree head seen last time, that the entries make the signed root, that every \
            logged rating is shown as logged (or was hidden by a logged moderator action), that every reply is \
            logged, and, with --user, that each published rating of that user is in the log (inclusion proofs). \
            Remembers the tree head in --state. Exits 0 when everything holds, 1 otherwise.
            """
    )

    @Option(name: .long, help: "The Fiducia to audit, e.g. https://trust.example.com.")
    var server: String

    @Option(name: .long, help: "Where the auditor keeps what it saw (created on the first run).")
    var state: String = "fiducia-log-auditor.json"

    @Option(name: .long, help: "A user whose published ratings must all be in the log (repeatable).")
    var user: [String] = []

    func run() async throws {
        let previous = FileManager.default.contents(atPath: state).flatMap { try? JSONDecoder().decode(LogAuditor.State.self, from: $0) }
        if previous == nil { say("no earlier tree head in \(state): this run pins the log's key") }
        let auditor = LogAuditor.http(server: server)
        let (report, seen): (LogAuditor.Report, LogAuditor.State)
        do {
            (report, seen) = try await auditor.verify(previous: previous, users: user) { say("  \($0)") }
        } catch let failure as LogAuditor.Failure {
            say("LOG NOT VERIFIED: \(failure.description)")
            throw ExitCode(1)
        }
        if let earlier = report.consistentWithPrevious { say("consistent with the tree head of \(earlier) entries seen before") }
        say("\(report.entriesChecked) entries make the signed root; \(report.ratingsChecked) ratings compared with the log; \(report.proofsChecked) inclusion proofs checked")
        if report.awaitingTreeHead > 0 { say("\(report.awaitingTreeHead) ratings published since the tree head: the next one, within a minute, covers them") }
        guard report.isClean else {
            for problem in report.problems { say("PROBLEM: \(problem)") }
            say("LOG NOT VERIFIED: \(report.problems.count) problem(s); the remembered tree head is kept as it was")
            throw ExitCode(1)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(seen).write(to: URL(fileURLWithPath: state))
        say("LOG VERIFIED at \(seen.treeSize) entries; remembered in \(state)")
    }
}

/// `fiducia log sign`: a tree head now, rather than at the next minute.
struct SignLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a tree head for the rating log as it is now (servers do it each minute while leaves wait)."
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let head = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.log")) { services in
            try await services.ratingLog.signTreeHead()
        }
        say("tree head: \(head.treeSize) entries, root \(Data(head.rootHash).base64EncodedString())")
    }
}

/// `fiducia log bench`: what appending to the rating log costs, beside a bare durable commit.
struct BenchLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the cost of appending to the rating log, beside the bare commit rate of the same database.",
        discussion: "Runs on a fresh SQLite file in a temporary folder (or the --database you name, which must be a scratch database: it is filled with benchmark leaves)."
    )

    @Option(name: .long, help: "How many one-append transactions (and as many bare commits); four times as many appends run in one transaction.")
    var appends: Int = 2_000

    @Option(name: .long, help: "A scratch database (SQLite path or postgres://…); default a new temporary SQLite file.")
    var database: String?

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-log-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = try ConfigurationOptions.parse([])
        options.database = database ?? folder.appendingPathComponent("bench.sqlite").path
        let configuration = try options.resolve(extra: ["FIDUCIA_KEY_FILE": folder.appendingPathComponent("bench.keys").path], defaultLogLevel: .warning)
        let result = try await Runtime.withServices(configuration, logger: Logger(label: "fiducia.log.bench")) { services in
            try await services.ratingLog.benchmark(appends: appends) { progress($0) }
        }
        say(String(format: "bare durable commits:             %8.0f /s (%.3f ms each)", result.bareCommitsPerSecond, 1000 / result.bareCommitsPerSecond))
        say(String(format: "commits that append one leaf:     %8.0f /s (%.3f ms each; %.2f× a bare commit)",
                   result.appendCommitsPerSecond, 1000 / result.appendCommitsPerSecond, result.bareCommitsPerSecond / result.appendCommitsPerSecond))
        say(String(format: "one append inside a transaction:  %8.1f µs (%.2f of a bare commit's time); tree of %d leaves",
                   result.microsecondsPerAppendInTransaction, result.microsecondsPerAppendInTransaction / (1e6 / result.bareCommitsPerSecond), result.treeSize))
    }
}

/// `fiducia audit verify`: walks the audit log's hash chain.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The hash-chained audit log of privileged actions.",
        subcommands: [VerifyAudit.self]
    )
}

struct VerifyAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that no audit event was changed, removed or reordered (non-zero exit otherwise).",
        discussion: "With --published SEQUENCE:HASH (from /v1/audit-head, kept by whoever wants to hold the operator to it), also check that the chain still holds that very event: a log rewritten from the start is caught too."
    )

    @OptionGroup var options: ConfigurationOptions
    @Option(name: .customLong("published"), help: "A published head, SEQUENCE:HASH; repeatable.") var published: [String] = []

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let heads = try published.map { text -> (sequence: Int, hash: String) in
            let parts = text.split(separator: ":")
            guard parts.count == 2, let sequence = Int(parts[0]), parts[1].count == 64 else { throw ValidationError("--published takes SEQUENCE:HASH (64 hex digits)") }
            return (sequence, String(parts[1]).lowercased())
        }
        let (checked, problems) = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.audit")) { services in
            try await services.audit.verify(published: heads) { progress($0) }
        }
        guard problems.isEmpty else {
            for problem in problems { say("PROBLEM: \(problem)") }
            say("AUDIT LOG BROKEN: \(problems.count) problem(s) in \(checked) events")
            throw ExitCode(1)
        }
        say("audit log OK: \(checked) events, each chained to the one before")
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Monthly transparency reports (the server makes each on the first day of the next month).",
        subcommands: [GenerateReport.self, ListReports.self]
    )
}

struct GenerateReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Make the report of a month that has ended, if the job has not made it yet (a report is never made twice)."
    )

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "The month, YYYY-MM (UTC).") var month: String

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let month = month
        let (report, created) = try await Runtime.withServices(configuration, logger: Logger(label: "fiducia.report")) { services in
            try await services.transparencyReports.generate(month: month)
        }
        let f = report.figures
        say("\(created ? "generated" : "already there"): report of \(report.month) (made \(ISO8601DateFormatter().string(from: report.generatedAt)))")
        say("  orders paid \(f.ordersPaid), completed \(f.ordersCompleted), refunded \(f.ordersRefunded); disputes opened \(f.disputesOpened), resolved \(f.disputesResolved)")
        say("  penalties \(f.penaltiesTotal), appeals overturned \(f.appealsOverturned) of \(f.appealsDecided), banned \(f.accountsBanned), deleted \(f.accountsDeleted), feedback \(f.feedbackReceived)")
    }
}

struct ListReports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print every report as CSV.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let reports = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.report")) { services in
            try await services.transparencyReports.reports()
        }
        print(TransparencyReport.csv(reports), terminator: "")
    }
}

struct FraudFeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud-feed",
        abstract: "The fraud feed shared with partner platforms (servers do both steps on a schedule).",
        subcommands: [PublishFraudFeed.self, PullFraudFeed.self, WithdrawFraudFeedEntry.self]
    )
}

struct PublishFraudFeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "publish", abstract: "List every account whose fraud became final in this instance's feed now.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        guard configuration.settings.fraudFeed.key != nil else { say("FIDUCIA_FRAUD_FEED_KEY is not set: nothing is published"); throw ExitCode(1) }
        let added = try await Runtime.withServices(configuration, logger: Logger(label: "fiducia.fraud-feed")) { try await $0.fraudFeed.publishProven() }
        say("\(added) new entr\(added == 1 ? "y" : "ies") in the feed")
    }
}

struct WithdrawFraudFeedEntry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdraw",
        abstract: "Take a user's entry out of this instance's feed for good (listed in error); partners mark their matches withdrawn at their next pull.",
        discussion: "Audited as the operator's. The entry is kept, with when and why, so that the hourly job never lists it again."
    )

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "The user whose entry is withdrawn (usr_…).") var user: String
    @Option(help: "Why (3 to 500 characters), kept in the audit log.") var reason: String

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let (user, reason) = (user, reason)
        let entry = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.fraud-feed")) { services in
            try await services.fraudFeed.withdraw(user: UserID(user), reason: reason)
        }
        say("withdrew \(entry): partners drop it at their next pull")
    }
}

struct PullFraudFeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull every partner's feed now, check its signature, and report matches with this instance's users.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        guard configuration.settings.fraudFeed.key != nil, !configuration.settings.fraudFeed.partners.isEmpty else {
            say("set FIDUCIA_FRAUD_FEED_KEY and FIDUCIA_FRAUD_FEED_PARTNERS first")
            throw ExitCode(1)
        }
        let (reports, matches) = try await Runtime.withServices(configuration, logger: Logger(label: "fiducia.fraud-feed")) { try await $0.fraudFeed.pull() }
        for report in reports {
            say(report.problem.map { "\(report.partner): REFUSED, \($0)" } ?? "\(report.partner): \(report.entries) entries, signature verified")
        }
        for match in matches {
            say("MATCH: user \(match.userID) matches \(match.partner)'s entry \(match.entryID) on \(match.kinds.map(\.rawValue).joined(separator: ", ")) (\(match.reason), final \(match.date))")
        }
        say("\(matches.count) new match\(matches.count == 1 ? "" : "es")")
        if reports.contains(where: { $0.problem != nil }) { throw ExitCode(1) }
    }
}
