import ArgumentParser
import FiduciaDomain

/// `fiducia`: the one executable, with a subcommand per task.
public struct FiduciaCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fiducia",
        abstract: "Fiducia: trust & safety for online marketplaces (escrow, ratings, credit scores, fraud resistance).",
        subcommands: [
            Serve.self, Migrate.self, Admin.self, Demo.self, LedgerCommand.self, Billing.self,
            Replay.self, Score.self, Eval.self, SynthesizeNetwork.self, ShowConfiguration.self, Keys.self, VerifySeal.self, Outbox.self, LogCommand.self, AuditCommand.self, ReportCommand.self, FraudFeedCommand.self, IncidentCommand.self, Backup.self, Restore.self,
        ],
        defaultSubcommand: nil
    )

    public init() {}
}

extension FiduciaCommand {
    /// Parses the process's arguments and runs the chosen command (the executable's whole body).
    /// A domain error a command lets through (a refused reason, an unknown administrator) is
    /// shown as what it is, its sentence, with the usage exit code: once, here, for every command.
    public static func start() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as any DomainError {
            exit(withError: ArgumentParser.ValidationError(error.detail))
        } catch {
            exit(withError: error)
        }
    }
}
