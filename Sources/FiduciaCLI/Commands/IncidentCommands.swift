import ArgumentParser
import FiduciaDomain
import FiduciaServices
import Foundation
import Logging

/// `fiducia incident …`: incident mode for an operator at the command line, who may not be able
/// to sign in when it matters (an administrator's password stolen, the site itself in doubt).
struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Incident mode: stop payouts and new orders, end every session, show a banner (every server obeys within seconds).",
        subcommands: [StartIncident.self, EndIncident.self, IncidentStatus.self]
    )
}

struct StartIncident: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Switch incident mode on, in the name of an administrator account; every session ends.",
        discussion: "The audit log records the operator at the command line and the account named; the switch shows that account."
    )

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "What is happening, in a sentence shown on every page.") var reason: String
    @Option(help: "The e-mail address of the administrator account the switch is made in the name of.") var admin: String

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let (reason, admin) = (reason, admin)
        let (incident, ended) = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.incident")) { services in
            try await services.incidents.startFromCommandLine(reason: reason, administratorEmail: admin)
        }
        say("incident mode ON (\(incident.id)): payouts and new orders refused, \(ended) sessions ended, banner: \(incident.reason)")
        say("switch it off with `fiducia incident end --admin \(admin)`")
    }
}

struct EndIncident: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "end", abstract: "Switch incident mode off, in the name of an administrator account.")

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "The e-mail address of the administrator account the switch is made in the name of.") var admin: String

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let admin = admin
        let incident = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.incident")) { services in
            try await services.incidents.endFromCommandLine(administratorEmail: admin)
        }
        say("incident mode OFF (\(incident.id), on since \(ISO8601DateFormatter().string(from: incident.startedAt))): payouts and new orders resume")
    }
}

struct IncidentStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Say whether incident mode is on (exit 0), or off (exit 3).")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let incident = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.incident")) { try await $0.incidents.current() }
        guard let incident else {
            say("incident mode is off")
            throw ExitCode(3)
        }
        say("incident mode is ON since \(ISO8601DateFormatter().string(from: incident.startedAt)) (\(incident.id)): \(incident.reason)")
    }
}
