import FiduciaDomain
import FiduciaPersistence
import FiduciaTestSupport
import Foundation
import SQLKit
import Testing

/// The `fiducia` executable end to end, as a separate process: its output and its exit code.
@Suite("Command line")
struct CommandLineTests {
    /// The built `fiducia` beside the test bundle.
    static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fiducia")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/fiducia").standardizedFileURL
    }

    /// Runs `fiducia` with `arguments`; returns its exit code, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["FIDUCIA_DATABASE_URL"] = nil
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        // Standard error goes to a file, so that a command's progress can never fill a pipe nobody reads.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? Data(contentsOf: errorFile)) ?? Data()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func ledgerVerifyExitsZeroWhenCleanAndOneOnAViolation() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fiducia.sqlite").path
        #expect(try Self.run(["migrate", "--database", path]).status == 0)
        let funded = try Self.run(["ledger", "fund", "--database", path, "--currency", "EUR", "--amount", "5000", "--reference", "bank-1"])
        #expect(funded.status == 0)
        #expect(funded.output.contains("added 50.00 EUR to the guarantee fund"))
        // The same reference never funds twice.
        #expect(try Self.run(["ledger", "fund", "--database", path, "--currency", "EUR", "--amount", "5000", "--reference", "bank-1"]).output
            .contains("already recorded"))
        let clean = try Self.run(["ledger", "verify", "--database", path])
        #expect(clean.status == 0)
        #expect(clean.output.contains("ledger OK"))
        #expect(clean.output.contains("guarantee fund 50.00 EUR"))

        let database = try await DatabaseConnector.connect(to: .sqlite(path: path), logger: TestDatabases.logger)
        try await database.transaction { sql in
            try await sql.raw("UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE kind = 'guaranteeFund'").run()
        }
        await database.close()
        let broken = try Self.run(["ledger", "verify", "--database", path])
        #expect(broken.status == 1)
        #expect(broken.output.contains("VIOLATION totals-mismatch"))
        #expect(broken.output.contains("ledger BROKEN: 1 violation(s)"))
    }

    @Test func anOperatorSwitchesIncidentModeInTheNameOfAnAdministrator() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fiducia.sqlite").path
        let keys = ["--database", path]
        #expect(try Self.run(["admin", "create"] + keys + ["--email", "ops@example.com", "--password", "correct horse battery"]).status == 0)
        #expect(try Self.run(["incident", "status"] + keys).status == 3)
        // Only an administrator account may be named; nothing is switched otherwise.
        let nobody = try Self.run(["incident", "start"] + keys + ["--reason", "Stolen staff password", "--admin", "nobody@example.com"])
        #expect(nobody.status == 64 && nobody.errors.contains("No administrator account has the e-mail address nobody@example.com."), "\(nobody.errors)")
        #expect(try Self.run(["incident", "status"] + keys).status == 3)
        let started = try Self.run(["incident", "start"] + keys + ["--reason", "Stolen staff password", "--admin", "OPS@example.com"])
        #expect(started.status == 0 && started.output.contains("incident mode ON"), "\(started.output)")
        let status = try Self.run(["incident", "status"] + keys)
        #expect(status.status == 0 && status.output.contains("Stolen staff password"))
        #expect(try Self.run(["incident", "start"] + keys + ["--reason", "again", "--admin", "ops@example.com"]).status != 0)
        #expect(try Self.run(["incident", "end"] + keys + ["--admin", "ops@example.com"]).output.contains("incident mode OFF"))
        #expect(try Self.run(["incident", "status"] + keys).status == 3)
        // Both switches are in the audit log, as the operator's, and the chain holds.
        let audit = try Self.run(["audit", "verify"] + keys)
        #expect(audit.status == 0, "\(audit.output)")
    }

    @Test func replayScoreAndEvalWorkOnASmallNetwork() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ratings = directory.appendingPathComponent("ratings.csv").path
        #expect(try Self.run(["synth-network", "--users", "60", "--ratings", "600", "--output", ratings, "--seed", "7"]).status == 0)
        let lines = try String(contentsOfFile: ratings, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 600)

        let predictions = directory.appendingPathComponent("predictions.csv").path
        #expect(try Self.run(["replay", "--ratings", ratings, "--output", predictions]).status == 0)
        let replayed = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
        #expect(replayed.first == "source,target,rating,time,predicted_trust")
        #expect(replayed.count == 601)
        // Every prediction is a probability.
        #expect(replayed.dropFirst().allSatisfy { Double($0.split(separator: ",").last ?? "").map { (0...1).contains($0) } ?? false })

        let scores = directory.appendingPathComponent("scores.csv").path
        #expect(try Self.run(["score", "--ratings", ratings, "--output", scores]).status == 0)
        let scored = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        #expect(scored.first == "user,trust,confidence,fairness,fraud_risk,ratings_received,ratings_given")
        #expect(scored.count == 61)

        let evaluation = try Self.run(["eval", "--ratings", ratings, "--attack", "sybil", "--attackers", "10"])
        #expect(evaluation.status == 0)
        #expect(evaluation.output.contains("prequential AUC over"))
        #expect(evaluation.output.contains("attack sybil: 10 attackers"))

        let missing = try Self.run(["replay", "--ratings", directory.appendingPathComponent("nope.csv").path])
        #expect(missing.status != 0)
    }
}
