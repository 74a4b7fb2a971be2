import ArgumentParser
import FiduciaServices
import Foundation

/// `fiducia log …`: the rating log, from outside.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Audit a Fiducia's tamper-evident rating log.",
        subcommands: [VerifyLog.self]
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
