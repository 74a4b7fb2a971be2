import ArgumentParser
import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import Foundation
import Logging

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Check and read the double-entry ledger.",
        subcommands: [Verify.self, StatementCommand.self, Fund.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every balance from the transfers and check every invariant; exits 1 on any violation.",
            discussion: """
                Checks: each transfer moves a positive amount between two accounts of its currency; each hold \
                is posted or voided at most once and by no more than it reserved; every stored balance equals \
                the one recomputed from the transfers; balances sum to zero per currency; no account is beyond \
                its limit (no user balance below zero); and the open escrow holds equal, order by order, the \
                orders that are paid but not yet released.
                """
        )

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            let (report, points) = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.ledger")) { services in
                let report = try await services.ledger.verify { checked in
                    if checked % 50_000 == 0, checked > 0 { progress("checked \(checked) transfers…") }
                }
                return (report, try await services.customerCare.verify())
            }
            say("checked \(report.transfersChecked) transfers and \(report.accountsChecked) accounts")
            for currency in report.totals.keys.sorted() {
                let totals = report.totals[currency]!
                say("\(currency): escrow held \(Money.format(totals.escrowHeldMinor, currency)) for orders totalling \(Money.format(totals.ordersHeldMinor, currency)); "
                    + "fees \(Money.format(totals.feesMinor, currency)); guarantee fund \(Money.format(totals.guaranteeFundMinor, currency)) "
                    + "(+ \(Money.format(totals.guaranteeClaimsMinor, currency)) owed by sellers); users \(Money.format(totals.userBalancesMinor, currency))")
            }
            // Loyalty points are not money, but they are kept the same way and checked here too.
            for problem in points { say("VIOLATION loyalty-points: \(problem)") }
            if report.isClean, points.isEmpty {
                say("ledger OK: every invariant holds (money, and the loyalty points ledger)")
            } else {
                for finding in report.findings { say("VIOLATION \(finding.code.rawValue): \(finding.message)") }
                say("ledger BROKEN: \(report.findings.count + points.count) violation(s)")
                throw ExitCode(1)
            }
        }
    }

    struct StatementCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "statement", abstract: "A user's ledger lines for one month, with running balances.")

        @OptionGroup var options: ConfigurationOptions

        @Option(name: .long, help: "The user's id (usr_…).")
        var user: String

        @Option(name: .long, help: "The month, YYYY-MM (UTC).")
        var month: String

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            let entries = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.ledger")) { services in
                try await services.ledger.statement(of: UserID(user), month: month)
            }
            say("statement of \(user) for \(month): \(entries.count) line(s)")
            say(["time (UTC)", "account", "purpose", "change", "balance", "reference"].joined(separator: "\t"))
            for entry in entries {
                let state: String =
                    switch entry.transfer.mode {
                    case .pending: " (held)"
                    case .voidPending: " (hold released)"
                    default: ""
                    }
                say([
                    entry.transfer.createdAt.formatted(.iso8601),
                    entry.account.rawValue,
                    entry.transfer.purpose.rawValue + state,
                    Money.format(entry.amountMinor, entry.transfer.currency),
                    Money.format(entry.balanceAfterMinor, entry.transfer.currency),
                    entry.transfer.reference,
                ].joined(separator: "\t"))
            }
        }
    }

    struct Fund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add the platform's own money to the buyer guarantee fund.")

        @OptionGroup var options: ConfigurationOptions

        @Option(name: .long, help: "ISO 4217 currency, e.g. EUR.")
        var currency: String

        @Option(name: .long, help: "Amount in minor units (cents).")
        var amount: Int64

        @Option(name: .long, help: "What names this top-up (a bank transfer's id, say): the same reference never funds twice.")
        var reference: String

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            guard let parsed = Currency(currency) else { throw ValidationError("Not an ISO 4217 currency code Fiducia knows: \(currency)") }
            do {
                try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.ledger")) { services in
                    try await services.ledger.topUpGuaranteeFund(currency: parsed, amountMinor: amount, reference: reference)
                }
            } catch LedgerError.duplicateReference {
                say("the top-up \(reference) was already recorded; nothing added")
                return
            }
            say("added \(Money.format(amount, parsed)) to the guarantee fund (reference \(reference))")
        }
    }
}

struct Billing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Monthly statements of small purchases (B5).",
        subcommands: [Close.self]
    )

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle every open statement of a month (and earlier failed ones): one charge per buyer on their saved card."
        )

        @OptionGroup var options: ConfigurationOptions

        @Option(name: .long, help: "The month to close, YYYY-MM (UTC); it must be over.")
        var month: String

        func run() async throws {
            let configuration = try options.resolve(defaultLogLevel: .warning)
            let run = try await Runtime.withServices(configuration, migrate: false, logger: Logger(label: "fiducia.billing")) { services in
                try await services.payments.closeMonth(month) { index, count, statement in
                    progress("[\(index)/\(count)] \(statement.buyerID) \(statement.month) \(Money.format(statement.totalMinor, statement.currency))")
                }
            }
            for statement in run.paid {
                say("paid   \(statement.id) \(statement.buyerID) \(statement.month) \(Money.format(statement.totalMinor, statement.currency)) (\(statement.itemCount) purchases)")
            }
            for statement in run.failed {
                say("FAILED \(statement.id) \(statement.buyerID) \(statement.month) \(Money.format(statement.totalMinor, statement.currency)): \(statement.failureReason ?? "")")
            }
            say("closed \(month): \(run.paid.count) statement(s) paid, \(run.failed.count) failed (retried at the next run)")
        }
    }
}
