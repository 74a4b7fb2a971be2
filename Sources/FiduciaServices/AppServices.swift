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
    public let attachments: AttachmentService
    public let messages: MessageService
    public let penalties: PenaltyService
    public let disputes: DisputeService
    public let reports: ReportService
    public let webhooks: WebhookService
    /// Seals personal data at rest and holds this instance's signing key.
    public let vault: PersonalDataVault
    public let mail: MailService
    public let identity: IdentityService
    public let invitations: InvitationService
    public let seals: SealService
    public let credentials: CredentialService
    public let signIn: ExternalSignInService
    public let social: SocialService
    public let community: CommunityService
    public let ratingLog: RatingLogService
    public let audit: AuditService
    public let feedback: FeedbackService
    public let transparencyReports: TransparencyReportService
    public let privacy: PrivacyService
    public let incidents: IncidentService
    public let rules: RulesService
    public let customerCare: CustomerCareService
    public let fraudFeed: FraudFeedService
    let sandbox: SandboxPaymentProvider
    let cardCharges: CardCharges

    /// Wires every service. `provider` replaces the configured payment provider (tests use it
    /// to simulate a provider that fails between steps); by default it is the one the settings name.
    public init(
        database: any DatabaseClient,
        vault: PersonalDataVault,
        settings: ServiceSettings = ServiceSettings(),
        clock: any WallClock = SystemClock(),
        random: any RandomSource = SystemRandomSource(),
        passwords: (any PasswordHasher)? = nil,
        provider: (any PaymentProvider)? = nil,
        blobs: any BlobStore = DatabaseBlobStore(),
        logger: Logger = Logger(label: "fiducia")
    ) {
        let store = Store(database: database, sealer: vault)
        self.store = store
        self.vault = vault
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
        let provider: any PaymentProvider =
            provider ?? {
                switch settings.paymentProvider {
                case .sandbox: sandbox
                }
            }()
        let cardCharges = CardCharges(
            store: store, clock: clock, ids: IdentifierGenerator(clock: clock, random: random), provider: provider, ledger: ledger,
            reconcileDelaySeconds: settings.chargeReconcileSeconds, logger: logger
        )
        self.cardCharges = cardCharges
        self.escrow = EscrowService(store: store, clock: clock, random: random, ledger: ledger, cardCharges: cardCharges, settings: settings.escrow, logger: logger)
        self.payments = PaymentsService(store: store, clock: clock, random: random, ledger: ledger, cardCharges: cardCharges, provider: provider, logger: logger)
        let trust = TrustService(store: store, clock: clock, freshnessSeconds: settings.trustFreshnessSeconds)
        self.trust = trust
        self.ratings = RatingService(store: store, clock: clock, random: random, windowDays: settings.ratingWindowDays)
        self.credit = CreditService(store: store, clock: clock, random: random, trust: trust, exchangeRates: settings.exchangeRates)
        let attachments = AttachmentService(store: store, blobs: blobs, clock: clock, random: random)
        self.attachments = attachments
        self.messages = MessageService(store: store, clock: clock, random: random, attachments: attachments)
        let penalties = PenaltyService(
            store: store, clock: clock, random: random, ledger: ledger, attachments: attachments, fineCurrency: settings.exchangeRates.reference
        )
        self.penalties = penalties
        self.disputes = DisputeService(
            store: store, clock: clock, random: random, settings: settings.disputes, escrow: escrow, penalties: penalties, attachments: attachments
        )
        self.reports = ReportService(store: store, clock: clock, random: random, attachments: attachments, penalties: penalties)
        self.webhooks = WebhookService(store: store, clock: clock, random: random, logger: logger)
        let mail = MailService(store: store, clock: clock, random: random, settings: settings.mail, logger: logger)
        self.mail = mail
        self.identity = IdentityService(
            store: store, clock: clock, random: random, mail: mail, sms: SandboxSMSGateway(ids: IdentifierGenerator(clock: clock, random: random))
        )
        self.invitations = InvitationService(store: store, clock: clock, random: random, inviteOnly: settings.inviteOnly)
        self.seals = SealService(store: store, clock: clock, random: random, publicURL: settings.publicURL, instanceKey: vault.signingKey)
        self.credentials = CredentialService(
            store: store, clock: clock, random: random, credit: credit, publicURL: settings.publicURL, key: vault.signingKey
        )
        self.signIn = ExternalSignInService(store: store, clock: clock, random: random, settings: settings, accounts: accounts, client: OpenIDClient())
        self.social = SocialService(store: store, clock: clock, random: random, trust: trust)
        self.community = CommunityService(store: store, clock: clock, random: random, attachments: attachments)
        self.ratingLog = RatingLogService(store: store, clock: clock, key: vault.signingKey)
        self.audit = AuditService(store: store, clock: clock, key: vault.signingKey)
        self.feedback = FeedbackService(store: store, clock: clock, random: random)
        self.transparencyReports = TransparencyReportService(store: store, clock: clock, trust: trust)
        self.privacy = PrivacyService(store: store, clock: clock, blobs: blobs)
        self.incidents = IncidentService(store: store, clock: clock, random: random)
        self.rules = RulesService(clock: clock)
        self.customerCare = CustomerCareService(store: store, clock: clock, random: random)
        self.fraudFeed = FraudFeedService(
            store: store, clock: clock, random: random, settings: settings.fraudFeed, issuer: settings.publicURL, signingKey: vault.signingKey, logger: logger
        )
    }

    /// The same services seen from another clock (the demo writes its history in the past).
    public func at(_ clock: any WallClock) -> AppServices {
        AppServices(database: store.database, vault: vault, settings: settings, clock: clock, random: random)
    }

    /// A secret every server of the deployment shares (the CSRF signing key), created once.
    public func sharedSecret(named name: String) async throws -> String {
        let candidate = SecretToken.base64URL(random.bytes(32))
        let now = clock.now()
        return try await store.write { try await $0.secrets.secret(named: name, orInsert: candidate, at: now) }
    }

    /// Whether this server can serve: the database answers and its schema is current.
    public func readiness() async -> (database: String, ready: Bool, problem: String?) {
        guard await store.database.isReachable() else { return (store.kind.rawValue, false, "unreachable") }
        let current = (try? await Migrator(database: store.database).isCurrent()) ?? false
        return (store.kind.rawValue, current, current ? nil : "schema not current")
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
        let escrow = escrow
        return [Housekeeping.handler(settings: settings), mail.deliveryJob, identity.expiryJob, ratingLog.treeHeadJob, transparencyReports.job] + fraudFeed.jobHandlers + escrow.jobHandlers + ratings.jobHandlers + credit.jobHandlers + disputes.jobHandlers + [
            webhooks.deliveryJob,
            sandbox.webhookJob { event, repositories, now in try await payments.apply(event, in: repositories, now: now) },
            payments.submitPayoutJob,
            cardCharges.refundJob,
            cardCharges.reconcileJob { purpose in payments.chargeEffect(purpose, escrow: escrow) },
        ]
    }

    var recurringJobs: [RecurringJob] {
        [Housekeeping.recurring, CreditService.monthly, IdentityService.expiryRecurring, RatingLogService.treeHeadRecurring, TransparencyReportService.monthly]
            + (settings.fraudFeed.key == nil ? [] : FraudFeedService.recurring(pullMinutes: settings.fraudFeed.pullMinutes))
    }
}
