import ArgumentParser
import FiduciaDomain
import FiduciaServices
import Foundation
import Logging

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer accounts.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an administrator (or make an existing user one and reset their password).",
            discussion: "The password is read from --password, else $FIDUCIA_ADMIN_PASSWORD, else the first line of standard input."
        )

        @OptionGroup var options: ConfigurationOptions

        @Option(name: .long, help: "The administrator's email address.")
        var email: String

        @Option(name: .long, help: "The name shown for the administrator.")
        var name: String = "Administrator"

        @Option(name: .long, help: "The password (prefer $FIDUCIA_ADMIN_PASSWORD or standard input, which do not end up in shell history).")
        var password: String?

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            guard let password = password ?? ProcessInfo.processInfo.environment["FIDUCIA_ADMIN_PASSWORD"] ?? readLine(strippingNewline: true),
                !password.isEmpty
            else {
                throw ValidationError("No password given: use --password, $FIDUCIA_ADMIN_PASSWORD or standard input.")
            }
            let logger = Logger(label: "fiducia.admin")
            let (user, created) = try await Runtime.withServices(configuration, logger: logger) { services in
                try await services.accounts.ensureAdministrator(email: email, password: password, displayName: name)
            }
            say(created ? "Created administrator \(user.email) (\(user.id))." : "\(user.email) (\(user.id)) is now an administrator; password updated.")
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the database with a small demo marketplace (safe to run again: nothing is duplicated)."
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let logger = Logger(label: "fiducia.demo")
        let created = try await Runtime.withServices(configuration, logger: logger) { services in
            try await DemoSeeder(services: services).run(progress: { progress($0) })
        }
        if created.isEmpty {
            say("The demo marketplace is already in place; nothing added.")
        } else {
            for line in created { say("created \(line)") }
        }
        say("Every demo account's password is \(DemoSeeder.password). Log in as alice@demo.fiducia.test (a buyer), lotus@demo.fiducia.test (a seller) or admin@demo.fiducia.test.")
        say("Back it up while it serves with `fiducia backup --output demo-backup.sqlite` (and keep its key file, fiducia-data/fiducia.keys, apart from the backup).")
    }
}

struct ShowConfiguration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "List every setting, its environment variable and default (also valid in a --config file)."
    )

    @Flag(name: .long, help: "Print a Markdown table (as in the README).")
    var markdown = false

    func run() async throws {
        if markdown {
            say("| Variable | Default | Meaning |")
            say("|---|---|---|")
            for key in Configuration.keys { say(key.markdownRow) }
        } else {
            for key in Configuration.keys { say("\(key.name)=\(key.defaultValue)\n    \(key.meaning)") }
        }
    }
}
