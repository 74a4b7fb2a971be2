import ArgumentParser
import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import Foundation
import Logging

/// `fiducia keys`: the key-encryption keys that seal personal data.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the key-encryption keys that seal personal data at rest.",
        subcommands: [Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-wrap every data key under a new key-encryption key while servers keep running.",
            discussion: """
                Adds a new key to the key file, waits for running servers to pick it up (they re-read the file when it \
                changes), re-wraps every person's data key and the shared keys under it, then removes the old key from the \
                file. Needs a key file (FIDUCIA_KEY_FILE or the default beside the SQLite database), not FIDUCIA_DATA_KEYS.
                """
        )

        @OptionGroup var options: ConfigurationOptions

        @Option(name: .long, help: "Seconds to wait for running servers to notice the new key.")
        var settleSeconds: Double = 3

        func run() async throws {
            let configuration = try options.resolve()
            guard configuration.dataKeys == nil, let keyFile = configuration.resolvedKeyFile else {
                throw ValidationError("Rotation rewrites a key file; FIDUCIA_DATA_KEYS keys are rotated by changing the environment of every server.")
            }
            let logger = Logger(label: "fiducia.keys")
            let rotation = try await Runtime.withServices(configuration, migrate: false, logger: logger) { services in
                try await KeyService.rotate(keyFile: keyFile, services: services, settleSeconds: settleSeconds) { done in
                    progress("re-wrapped \(done) data keys…")
                }
            }
            say("Rotated: data keys are now wrapped under \(rotation.newKeyID) (\(rotation.rewrapped) re-wrapped); "
                + "retired \(rotation.retiredKeyIDs.joined(separator: ", ")) and removed it from \(keyFile).")
        }
    }
}

/// `fiducia verify-seal FILE`: checks a certification seal offline.
struct VerifySeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-seal",
        abstract: "Check a certification seal offline against the published keys.",
        discussion: "Exits 0 when the seal is valid, 1 when it is not verified (with the reason)."
    )

    @Argument(help: "The seal document (JSON), as downloaded from /v1/seals/{id}.")
    var file: String

    @Option(name: .long, help: "The published keys (a copy of /.well-known/fiducia/keys.json).")
    var keys: String

    @Option(name: .long, help: "A copy of /.well-known/fiducia/revocations.json, to check revocation too.")
    var revocations: String?

    func run() async throws {
        func load(_ path: String) throws -> JSONValue {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("Cannot read \(path).") }
            do { return try SignedJSON.parse(data) } catch { throw ValidationError("\(path) is not a JSON document Fiducia signs.") }
        }
        let verdict = SealVerifier.verify(seal: try load(file), keys: try load(keys), revocations: try revocations.map(load), now: Date())
        switch verdict {
        case .valid(let merchant, let certifier, let until, let origins, let checks):
            say("VALID: \(certifier) certifies \(merchant) until \(until).")
            say("  checked: \(checks.joined(separator: "; "))")
            say("  shop origins: \(origins.isEmpty ? "(none registered)" : origins.joined(separator: ", "))")
        case .notVerified(let reason):
            say("NOT VERIFIED: \(reason)")
            throw ExitCode(1)
        }
    }
}

/// `fiducia outbox`: the mail Fiducia has sent or would send.
struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the mail outbox (with no SMTP relay configured, what would have been sent).",
        discussion: "Messages contain codes meant for their recipients only: this is an operator's tool."
    )

    @OptionGroup var options: ConfigurationOptions

    @Flag(name: .long, help: "Only messages not yet handed to a relay.")
    var pending = false

    @Option(name: .long, help: "How many messages, newest first.")
    var limit = 20

    func run() async throws {
        let configuration = try options.resolve(defaultLogLevel: .warning)
        let messages = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.outbox")) { services in
            try await services.mail.outbox(pendingOnly: pending, limit: limit)
        }
        if messages.isEmpty { say("The outbox is empty.") }
        for mail in messages {
            let state = mail.sentAt.map { "sent \(Timestamp.string($0))" } ?? (mail.lastError.map { "not sent (\(mail.attempts) attempts: \($0))" } ?? "not sent")
            say("— \(Timestamp.string(mail.createdAt)) to \(mail.recipient): \(mail.subject) [\(state)]")
            say(mail.body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        }
    }
}
