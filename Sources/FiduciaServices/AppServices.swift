import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// Every use case of Fiducia, wired once from one configuration. The HTTP layer and the CLI both
/// work through this.
public struct AppServices: Sendable {
    public let store: Store
    public let clock: any WallClock
    public let random: any RandomSource
    public let settings: ServiceSettings
    public let accounts: AccountService
    public let idempotency: IdempotencyService
    public let ledger: LedgerService
    public let escrow: EscrowService
    public let payments: PaymentsService
    public let trust: TrustService
    public let ratings: RatingService
    public let credit: CreditService
    let sandbox: SandboxPaymentProvider

    public init(
        store: Store,
        settings: ServiceSettings = ServiceSettings(),
        clock: any WallClock = SystemClock(),
        random: any RandomSource = SystemRandomSource(),
        passwords: (any PasswordHasher)? = nil,
        logger: Logger = Logger(label: "fiducia")
    ) {
        self.store = store
        self.clock = clock
        self.random = random
        self.settings = settings
        let passwords = passwords ?? BcryptPasswordHasher(cost: settings.bcryptCost)
        self.accounts = AccountService(store: store, clock: clock, random: random, passwords: passwords, settings: settings)
        self.idempotency = IdempotencyService(store: store, clock: clock, settings: settings)
        let ledger = LedgerService(store: store, clock: clock, random: random)
        self.ledger = ledger
        let sandbox = SandboxPaymentProvider(store: store, clock: clock, random: random)
        self.sandbox = sandbox
        self.escrow = EscrowService(store: store, clock: clock, random: random, ledger: ledger, provider: sandbox, settings: settings.escrow, logger: logger)
        self.payments = PaymentsService(store: store, clock: clock, random: random, ledger: ledger, provider: sandbox, logger: logger)
        let trust = TrustService(store: store, clock: clock)
        self.trust = trust
        self.ratings = RatingService(store: store, clock: clock, random: random, windowDays: settings.ratingWindowDays)
        self.credit = CreditService(store: store, clock: clock, random: random, trust: trust)
    }

    /// The background worker, with a handler for every kind of job Fiducia schedules.
    public func jobRunner(logger: Logger, pollIntervalSeconds: TimeInterval = 1) -> JobRunner {
        JobRunner(
            store: store,
            clock: clock,
            random: random,
            handlers: jobHandlers,
            recurring: recurringJobs,
            pollIntervalSeconds: pollIntervalSeconds,
            logger: logger
        )
    }

    var jobHandlers: [JobHandler] {
        let payments = payments
        return [Housekeeping.handler(settings: settings)] + escrow.jobHandlers + ratings.jobHandlers + credit.jobHandlers + [
            sandbox.webhookJob { event, repositories, now in try await payments.apply(event, in: repositories, now: now) },
        ]
    }

    var recurringJobs: [RecurringJob] {
        [Housekeeping.recurring, CreditService.monthly]
    }
}
