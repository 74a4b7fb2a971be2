import ArgumentParser
import FiduciaServices
import FiduciaWeb
import Foundation
import Hummingbird
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP server (API, pages, background jobs).",
        discussion: """
            With no configuration it uses the embedded SQLite database in ./fiducia-data/ (created on \
            first run, migrations applied) and listens on 127.0.0.1:8080. SIGINT or SIGTERM stops it \
            gracefully: it stops accepting connections, finishes requests in flight, then closes the database.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(name: .long, help: "Address to listen on (default: $FIDUCIA_HOST or 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default: $FIDUCIA_PORT or 8080).")
    var port: Int?

    @Flag(name: .long, help: "Do not run background jobs in this server (another server runs them).")
    var noJobs = false

    @Flag(name: .long, help: "Do not apply pending migrations; refuse to start if the schema is outdated.")
    var noMigrate = false

    func run() async throws {
        var extra: [String: String] = [:]
        extra["FIDUCIA_HOST"] = host
        extra["FIDUCIA_PORT"] = port.map(String.init)
        if noJobs { extra["FIDUCIA_RUN_JOBS"] = "false" }
        let configuration = try options.resolve(extra: extra)
        let logger = Logger(label: "fiducia")
        logger.info("starting Fiducia", metadata: ["database": "\(configuration.database)"])
        try await Runtime.withServices(configuration, migrate: !noMigrate, logger: logger) { services in
            let application = try await buildApplication(services: services, configuration: configuration.web, logger: logger)
            try await application.runService()
        }
        logger.info("Fiducia stopped")
    }
}
