import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaWeb
import Foundation
import Logging

/// Everything a Fiducia process needs to start, read once at start-up from (highest first):
/// command-line flags, environment variables, a configuration file, and built-in defaults.
struct Configuration: Sendable {
    var database = DatabaseLocation.defaultSQLite
    var web = WebConfiguration()
    var settings = ServiceSettings()
    var logLevel = Logger.Level.info
    var logFormat = LogFormat.text
    /// The key-encryption keys themselves (`ID:BASE64,…`), or the file that holds them.
    var dataKeys: String?
    var keyFile: String?

    /// The key file in use: the configured one, or `fiducia.keys` beside a SQLite database.
    var resolvedKeyFile: String? {
        if let keyFile { return keyFile }
        guard case .sqlite(let path) = database else { return nil }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("fiducia.keys").path
    }

    /// One setting: its environment variable (also its key in a configuration file), what it
    /// means, and how to apply a value.
    struct Key: Sendable {
        let name: String
        let defaultValue: String
        let meaning: String
        let apply: @Sendable (inout Configuration, String) throws -> Void

        /// The key's row in the README's configuration table.
        var markdownRow: String {
            "| `\(name)` | \(defaultValue.isEmpty ? "(none)" : "`\(defaultValue)`") | \(meaning) |"
        }
    }

    /// Every setting. The README's configuration table is this list (`fiducia config --markdown`).
    static let keys: [Key] = [
        Key(name: "FIDUCIA_DATABASE_URL", defaultValue: "fiducia-data/fiducia.sqlite",
            meaning: "A SQLite file path (or sqlite:PATH), or postgres://user:password@host:port/database?sslmode=disable") {
            $0.database = try DatabaseLocation(parsing: $1)
        },
        Key(name: "FIDUCIA_HOST", defaultValue: "127.0.0.1", meaning: "Address the HTTP server listens on") {
            $0.web.host = $1
        },
        Key(name: "FIDUCIA_PORT", defaultValue: "8080", meaning: "Port the HTTP server listens on") {
            $0.web.port = try integer($1, name: "FIDUCIA_PORT", range: 0...65535)
        },
        Key(name: "FIDUCIA_LOG_LEVEL", defaultValue: "info", meaning: "trace, debug, info, notice, warning, error or critical") {
            guard let level = Logger.Level(rawValue: $1.lowercased()) else { throw ConfigurationError.invalid("FIDUCIA_LOG_LEVEL", $1) }
            $0.logLevel = level
        },
        Key(name: "FIDUCIA_LOG_FORMAT", defaultValue: "text", meaning: "text (for people) or json (one JSON object per line)") {
            guard let format = LogFormat(rawValue: $1.lowercased()) else { throw ConfigurationError.invalid("FIDUCIA_LOG_FORMAT", $1) }
            $0.logFormat = format
        },
        Key(name: "FIDUCIA_SECURE_COOKIES", defaultValue: "false", meaning: "Mark cookies Secure and send HSTS; true whenever Fiducia is served over HTTPS (implied by an https:// FIDUCIA_PUBLIC_URL)") {
            $0.web.secureCookies = try boolean($1, name: "FIDUCIA_SECURE_COOKIES")
        },
        Key(name: "FIDUCIA_MAX_BODY_BYTES", defaultValue: "65536", meaning: "Largest accepted request body, in bytes") {
            $0.web.maximumBodyBytes = try integer($1, name: "FIDUCIA_MAX_BODY_BYTES", range: 1024...16_777_216)
        },
        Key(name: "FIDUCIA_TRUSTED_PROXIES", defaultValue: "",
            meaning: "IP addresses of the reverse proxies in front of Fiducia (comma-separated): only from them is X-Forwarded-For believed, for log-in throttling per address") {
            let addresses = $1.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
            for address in addresses where !address.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
                throw ConfigurationError.invalid("FIDUCIA_TRUSTED_PROXIES", address)
            }
            $0.web.trustedProxies = Set(addresses)
        },
        Key(name: "FIDUCIA_RUN_JOBS", defaultValue: "true", meaning: "Run the background job runner in this server (timeouts, monthly jobs)") {
            $0.web.runsJobs = try boolean($1, name: "FIDUCIA_RUN_JOBS")
        },
        Key(name: "FIDUCIA_BCRYPT_COST", defaultValue: "12", meaning: "bcrypt work factor for passwords (4 to 31)") {
            $0.settings.bcryptCost = UInt8(try integer($1, name: "FIDUCIA_BCRYPT_COST", range: 4...31))
        },
        Key(name: "FIDUCIA_PAYMENT_WINDOW_HOURS", defaultValue: "24", meaning: "Hours a buyer has to pay before an order is cancelled") {
            $0.settings.escrow.paymentWindowSeconds = Double(try integer($1, name: "FIDUCIA_PAYMENT_WINDOW_HOURS", range: 1...720)) * 3600
        },
        Key(name: "FIDUCIA_AUTO_COMPLETE_DAYS", defaultValue: "10", meaning: "Days after shipment when an order completes (money released) unless the buyer asked for a refund") {
            $0.settings.escrow.autoCompleteSeconds = Double(try integer($1, name: "FIDUCIA_AUTO_COMPLETE_DAYS", range: 1...90)) * 86_400
        },
        Key(name: "FIDUCIA_MAX_EXTENSION_DAYS", defaultValue: "10", meaning: "Days by which a seller may extend the confirmation period, once") {
            $0.settings.escrow.maximumExtensionDays = try integer($1, name: "FIDUCIA_MAX_EXTENSION_DAYS", range: 1...60)
        },
        Key(name: "FIDUCIA_FEE_BASIS_POINTS", defaultValue: "200", meaning: "Platform fee per completed order, in basis points (200 = 2%)") {
            $0.settings.escrow.feeBasisPoints = try integer($1, name: "FIDUCIA_FEE_BASIS_POINTS", range: 0...5_000)
        },
        Key(name: "FIDUCIA_FUND_SHARE_BASIS_POINTS", defaultValue: "2000", meaning: "Share of the fee that feeds the buyer guarantee fund, in basis points of the fee") {
            $0.settings.escrow.fundShareBasisPoints = try integer($1, name: "FIDUCIA_FUND_SHARE_BASIS_POINTS", range: 0...10_000)
        },
        Key(name: "FIDUCIA_MICROPAYMENT_LIMIT_MINOR", defaultValue: "1000", meaning: "Largest purchase (minor units) that may go on the monthly statement") {
            $0.settings.escrow.microPaymentLimitMinor = Int64(try integer($1, name: "FIDUCIA_MICROPAYMENT_LIMIT_MINOR", range: 0...100_000_000))
        },
        Key(name: "FIDUCIA_STATEMENT_CREDIT_LIMIT_MINOR", defaultValue: "5000",
            meaning: "Most a buyer may owe on unpaid monthly statements (minor units of the currency); statement purchases beyond it are refused") {
            $0.settings.escrow.statementCreditLimitMinor = Int64(try integer($1, name: "FIDUCIA_STATEMENT_CREDIT_LIMIT_MINOR", range: 0...1_000_000_000))
        },
        Key(name: "FIDUCIA_SECOND_APPROVAL_ABOVE_MAJOR", defaultValue: "500",
            meaning: "Staff refunds and cancellations above this many major units of the currency wait for a second staff member") {
            $0.settings.escrow.secondApprovalAboveMajor = Int64(try integer($1, name: "FIDUCIA_SECOND_APPROVAL_ABOVE_MAJOR", range: 0...1_000_000_000))
        },
        Key(name: "FIDUCIA_PAYMENT_PROVIDER", defaultValue: "sandbox", meaning: "The payment provider that moves money in and out (only the sandbox ships today)") {
            guard let choice = PaymentProviderChoice(rawValue: $1.lowercased()) else { throw ConfigurationError.invalid("FIDUCIA_PAYMENT_PROVIDER", $1) }
            $0.settings.paymentProvider = choice
        },
        Key(name: "FIDUCIA_CHARGE_RECONCILE_SECONDS", defaultValue: "120",
            meaning: "Seconds after a card charge starts when reconciliation finishes it if the charge did not (a crash, a silent provider)") {
            $0.settings.chargeReconcileSeconds = Double(try integer($1, name: "FIDUCIA_CHARGE_RECONCILE_SECONDS", range: 1...86_400))
        },
        Key(name: "FIDUCIA_IDEMPOTENCY_LOCK_SECONDS", defaultValue: "60",
            meaning: "Seconds an unanswered Idempotency-Key stays held after its request committed part of its work (a card charge) and its server died; then a retry takes it over") {
            $0.settings.idempotencyLockSeconds = Double(try integer($1, name: "FIDUCIA_IDEMPOTENCY_LOCK_SECONDS", range: 1...86_400))
        },
        Key(name: "FIDUCIA_REFERENCE_CURRENCY", defaultValue: "EUR", meaning: "The currency security deposits are valued in for the credit score") {
            guard let currency = Currency($1.uppercased()) else { throw ConfigurationError.invalid("FIDUCIA_REFERENCE_CURRENCY", $1) }
            $0.settings.exchangeRates = ExchangeRates(reference: currency, rates: $0.settings.exchangeRates.rates)
        },
        Key(name: "FIDUCIA_KEY_FILE", defaultValue: "",
            meaning: "The key file of key-encryption keys that seal personal data (default: fiducia.keys beside a SQLite database; created on first start)") {
            $0.keyFile = $1.isEmpty ? nil : $1
        },
        Key(name: "FIDUCIA_DATA_KEYS", defaultValue: "",
            meaning: "The key-encryption keys themselves, ID:BASE64 of 32 bytes, newest first, comma-separated (instead of a key file)") {
            $0.dataKeys = $1.isEmpty ? nil : $1
        },
        Key(name: "FIDUCIA_INVITE_ONLY", defaultValue: "false", meaning: "Sign-up needs an invitation code from a member") {
            $0.settings.inviteOnly = try boolean($1, name: "FIDUCIA_INVITE_ONLY")
        },
        Key(name: "FIDUCIA_SMTP_RELAY", defaultValue: "",
            meaning: "The SMTP relay for outgoing mail, host:port (plain SMTP); without it mail stays in the outbox (`fiducia outbox`)") {
            guard !$1.isEmpty else { $0.settings.mail.relayHost = nil; return }
            let parts = $1.split(separator: ":")
            guard parts.count <= 2, let host = parts.first, !host.isEmpty else { throw ConfigurationError.invalid("FIDUCIA_SMTP_RELAY", $1) }
            $0.settings.mail.relayHost = String(host)
            $0.settings.mail.relayPort = parts.count == 2 ? try integer(String(parts[1]), name: "FIDUCIA_SMTP_RELAY", range: 1...65535) : 25
        },
        Key(name: "FIDUCIA_MAIL_FROM", defaultValue: "fiducia@localhost", meaning: "The sender address of Fiducia's mail") {
            guard $1.contains("@"), !$1.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace }) else { throw ConfigurationError.invalid("FIDUCIA_MAIL_FROM", $1) }
            $0.settings.mail.from = $1
        },
        Key(name: "FIDUCIA_PUBLIC_URL", defaultValue: "",
            meaning: "The address people reach this Fiducia at (seals, badges, credentials and sign-in callbacks name it); by default http://FIDUCIA_HOST:FIDUCIA_PORT") {
            guard let url = URL(string: $1), url.scheme == "https" || url.scheme == "http", url.host != nil else { throw ConfigurationError.invalid("FIDUCIA_PUBLIC_URL", $1) }
            $0.settings.publicURL = $1.hasSuffix("/") ? String($1.dropLast()) : $1
        },
        Key(name: "FIDUCIA_SIGN_IN_PROVIDERS", defaultValue: "",
            meaning: #"OpenID Connect providers for "Sign in with …", as JSON: [{"id":"acme","name":"Acme","issuer":"https://id.acme.example","clientId":"…","clientSecret":"…"}]; register <public URL>/auth/<id>/callback with each"#) {
            $0.settings.signInProviders = try signInProviders($1)
        },
        Key(name: "FIDUCIA_FRAUD_FEED_KEY", defaultValue: "",
            meaning: "The secret partner platforms share to hash e-mails, phones and document numbers in the fraud feed (at least 32 characters); empty: no feed is published or matched") {
            guard $1.isEmpty || $1.count >= 32 else { throw ConfigurationError.invalid("FIDUCIA_FRAUD_FEED_KEY", "shorter than 32 characters") }
            $0.settings.fraudFeed.key = $1.isEmpty ? nil : $1
        },
        Key(name: "FIDUCIA_FRAUD_FEED_PARTNERS", defaultValue: "",
            meaning: #"Partner platforms whose fraud feeds are pulled every 15 minutes, as JSON: [{"name":"Other Market","url":"https://trust.other.example","publicKey":"<base64 Ed25519, from its /v1/fraud-feed>"}]"#) {
            $0.settings.fraudFeed.partners = try fraudFeedPartners($1)
        },
        Key(name: "FIDUCIA_EXCHANGE_RATES", defaultValue: "",
            meaning: "Rates into the reference currency, e.g. USD=0.92,GBP=1.17 (deposits in other currencies do not count)") {
            do {
                $0.settings.exchangeRates = try ExchangeRates(reference: $0.settings.exchangeRates.reference, parsing: $1)
            } catch {
                throw ConfigurationError.invalid("FIDUCIA_EXCHANGE_RATES", $1)
            }
        },
    ]

    /// Builds the configuration from a file, the environment and explicit overrides (flags).
    static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil,
        overrides: [String: String] = [:]
    ) throws -> Configuration {
        var values: [String: String] = [:]
        if let path = configFile ?? environment["FIDUCIA_CONFIG"] {
            values.merge(try readFile(path)) { _, file in file }
        }
        for key in keys {
            if let value = environment[key.name] { values[key.name] = value }
        }
        values.merge(overrides) { _, flag in flag }
        let known = Set(keys.map(\.name))
        if let unknown = values.keys.first(where: { !known.contains($0) }) {
            throw ConfigurationError.unknownKey(unknown)
        }
        var configuration = Configuration()
        for key in keys {
            if let value = values[key.name] { try key.apply(&configuration, value) }
        }
        // A site whose public address is HTTPS is served over HTTPS: its cookies must never
        // travel in plain HTTP, and browsers are told so (HSTS).
        if configuration.settings.publicURL.hasPrefix("https://") { configuration.web.secureCookies = true }
        if values["FIDUCIA_PUBLIC_URL"] == nil {
            let host = configuration.web.host == "0.0.0.0" || configuration.web.host == "::" ? "127.0.0.1" : configuration.web.host
            configuration.settings.publicURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(configuration.web.port)"
        }
        return configuration
    }

    /// Parses `FIDUCIA_SIGN_IN_PROVIDERS`: ids are short and unique, issuers are https (http only on loopback).
    static func signInProviders(_ text: String) throws -> [SignInProvider] {
        struct Entry: Decodable { let id, name, issuer, clientId, clientSecret: String }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return [] }
        guard let entries = try? JSONDecoder().decode([Entry].self, from: Data(text.utf8)) else {
            throw ConfigurationError.invalid("FIDUCIA_SIGN_IN_PROVIDERS", "not a JSON list of {id, name, issuer, clientId, clientSecret}")
        }
        var seen: Set<String> = []
        return try entries.map { entry in
            guard (1...32).contains(entry.id.count), entry.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), seen.insert(entry.id).inserted,
                !entry.name.isEmpty, !entry.clientId.isEmpty, !entry.clientSecret.isEmpty,
                let issuer = URL(string: entry.issuer), let host = issuer.host,
                issuer.scheme == "https" || (issuer.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host))
            else { throw ConfigurationError.invalid("FIDUCIA_SIGN_IN_PROVIDERS", "provider \"\(entry.id)\"") }
            return SignInProvider(id: entry.id, name: entry.name, issuer: entry.issuer, clientID: entry.clientId, clientSecret: entry.clientSecret)
        }
    }

    static func fraudFeedPartners(_ text: String) throws -> [FraudFeedPartner] {
        struct Entry: Decodable { let name, url, publicKey: String }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return [] }
        guard let entries = try? JSONDecoder().decode([Entry].self, from: Data(text.utf8)) else {
            throw ConfigurationError.invalid("FIDUCIA_FRAUD_FEED_PARTNERS", "not a JSON list of {name, url, publicKey}")
        }
        var seen: Set<String> = []
        return try entries.map { entry in
            guard (1...60).contains(entry.name.count), seen.insert(entry.name).inserted, let url = URL(string: entry.url), let host = url.host,
                url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host)),
                Data(base64Encoded: entry.publicKey)?.count == 32
            else { throw ConfigurationError.invalid("FIDUCIA_FRAUD_FEED_PARTNERS", "partner \"\(entry.name)\"") }
            return FraudFeedPartner(name: entry.name, url: entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url, publicKey: entry.publicKey)
        }
    }

    /// A configuration file holds `NAME=value` lines with the environment variables' names;
    /// `#` starts a comment.
    static func readFile(_ path: String) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ConfigurationError.unreadableFile(path) }
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else { throw ConfigurationError.malformedLine(path, index + 1) }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            values[name] = value
        }
        return values
    }

    private static func integer(_ text: String, name: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else { throw ConfigurationError.invalid(name, text) }
        return value
    }

    private static func boolean(_ text: String, name: String) throws -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError.invalid(name, text)
        }
    }
}

enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String, String)
    case unknownKey(String)
    case unreadableFile(String)
    case malformedLine(String, Int)

    var description: String {
        switch self {
        case .invalid(let name, let value): "Invalid value '\(value)' for \(name)."
        case .unknownKey(let name): "Unknown setting \(name). Run `fiducia config` for the list."
        case .unreadableFile(let path): "Cannot read the configuration file \(path)."
        case .malformedLine(let path, let line): "\(path):\(line): expected NAME=value."
        }
    }
}
