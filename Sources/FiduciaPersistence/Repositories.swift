import SQLKit

/// The repositories of one database connection or transaction.
///
/// Services receive a `Repositories` inside `Store.read` or `Store.write` and never see SQL.
public struct Repositories: Sendable {
    public let kind: DatabaseKind
    public let users: any UserRepository
    public let sessions: any SessionRepository
    public let apiClients: any APIClientRepository
    public let idempotency: any IdempotencyRepository
    public let secrets: any ServerSecretRepository
    public let jobs: any JobRepository
    public let ledger: any LedgerRepository
    public let orders: any OrderRepository
    public let payments: any PaymentRepository
    public let ratings: any RatingRepository
    public let credit: any CreditRepository
    public let staffDecisions: any StaffDecisionRepository
    public let blobs: any BlobRepository
    public let attachments: any AttachmentRepository
    public let messages: any MessageRepository
    public let disputes: any DisputeRepository
    public let penalties: any PenaltyRepository
    public let reports: any ReportRepository
    public let webhooks: any WebhookRepository
    public let dataKeys: any DataKeyRepository
    public let verifications: any VerificationRepository
    public let mail: any MailRepository
    public let invitations: any InvitationRepository
    public let seals: any SealRepository
    public let externalAccounts: any ExternalAccountRepository
    public let social: any SocialRepository
    public let community: any CommunityRepository
    public let ratingLog: any RatingLogRepository
    public let audit: any AuditRepository
    public let transparency: any TransparencyRepository
    public let privacy: any PrivacyRepository
    public let incidents: any IncidentRepository
    public let customerCare: any CustomerCareRepository
    public let fraudFeed: any FraudFeedRepository
    let sql: any SQLDatabase
    /// The transaction's late ledger totals (`LateTotals`): PostgreSQL write transactions only.
    let late: LateTotals?

    init(sql: any SQLDatabase, kind: DatabaseKind, sealer: any PersonalDataSealer, late: LateTotals? = nil) {
        self.kind = kind
        self.sql = sql
        self.late = late
        self.users = SQLUserRepository(sql: sql, kind: kind, sealer: sealer)
        self.sessions = SQLSessionRepository(sql: sql, kind: kind, sealer: sealer)
        self.apiClients = SQLAPIClientRepository(sql: sql)
        self.idempotency = SQLIdempotencyRepository(sql: sql, sealer: sealer)
        self.secrets = SQLServerSecretRepository(sql: sql)
        self.jobs = SQLJobRepository(sql: sql, kind: kind)
        self.ledger = SQLLedgerRepository(sql: sql, kind: kind, late: late)
        self.orders = SQLOrderRepository(sql: sql, kind: kind)
        self.payments = SQLPaymentRepository(sql: sql, kind: kind)
        self.ratings = SQLRatingRepository(sql: sql, kind: kind)
        self.credit = SQLCreditRepository(sql: sql)
        self.staffDecisions = SQLStaffDecisionRepository(sql: sql, kind: kind)
        self.blobs = SQLBlobRepository(sql: sql)
        self.attachments = SQLAttachmentRepository(sql: sql)
        self.messages = SQLMessageRepository(sql: sql)
        self.disputes = SQLDisputeRepository(sql: sql, kind: kind)
        self.penalties = SQLPenaltyRepository(sql: sql, kind: kind)
        self.reports = SQLReportRepository(sql: sql, kind: kind)
        self.webhooks = SQLWebhookRepository(sql: sql, kind: kind)
        self.dataKeys = SQLDataKeyRepository(sql: sql)
        self.verifications = SQLVerificationRepository(sql: sql, kind: kind, sealer: sealer)
        self.mail = SQLMailRepository(sql: sql, sealer: sealer)
        self.invitations = SQLInvitationRepository(sql: sql)
        self.seals = SQLSealRepository(sql: sql, kind: kind, sealer: sealer)
        self.externalAccounts = SQLExternalAccountRepository(sql: sql, sealer: sealer)
        self.social = SQLSocialRepository(sql: sql)
        self.community = SQLCommunityRepository(sql: sql, kind: kind)
        self.ratingLog = SQLRatingLogRepository(sql: sql)
        self.audit = SQLAuditRepository(sql: sql)
        self.transparency = SQLTransparencyRepository(sql: sql, kind: kind)
        self.privacy = SQLPrivacyRepository(sql: sql, kind: kind)
        self.incidents = SQLIncidentRepository(sql: sql)
        self.customerCare = SQLCustomerCareRepository(sql: sql)
        self.fraudFeed = SQLFraudFeedRepository(sql: sql)
    }

    /// Runs `body` inside a savepoint of the current transaction: if it throws, its writes are
    /// undone and the error is rethrown, while the transaction itself goes on (on PostgreSQL a
    /// failed statement would otherwise abort the whole transaction). Used where a transaction must
    /// record an outcome even when the work it tried was refused.
    public func savepoint<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await sql.raw("SAVEPOINT fiducia_step").run()
        // Late ledger totals belong to the savepoint as much as its rows do.
        let lateBefore = late?.snapshot()
        do {
            let result = try await body()
            try await sql.raw("RELEASE SAVEPOINT fiducia_step").run()
            return result
        } catch {
            if let lateBefore { late?.restore(lateBefore) }
            try await sql.raw("ROLLBACK TO SAVEPOINT fiducia_step").run()
            try await sql.raw("RELEASE SAVEPOINT fiducia_step").run()
            throw error
        }
    }

    /// A write transaction's repositories: on PostgreSQL with late ledger totals (`LateTotals`),
    /// which `finishWrites` writes.
    static func forWriting(sql: any SQLDatabase, kind: DatabaseKind, sealer: any PersonalDataSealer) -> Repositories {
        Repositories(sql: sql, kind: kind, sealer: sealer, late: kind == .postgres ? LateTotals() : nil)
    }

    /// The transaction's last statements before its commit: the late ledger totals.
    func finishWrites() async throws {
        try await ledger.writeLateTotals()
    }
}

/// Fiducia's storage: a database client and the repositories over it.
public struct Store: Sendable {
    public let database: any DatabaseClient
    /// Seals personal data on its way into the database and opens it on its way out.
    public let sealer: any PersonalDataSealer

    public init(database: any DatabaseClient, sealer: any PersonalDataSealer) {
        self.database = database
        self.sealer = sealer
    }

    public var kind: DatabaseKind { database.kind }

    /// The unit of work of the running request, if it has one on this database.
    private var currentUnit: UnitOfWork? {
        guard let unit = UnitOfWork.current, unit.database === database else { return nil }
        return unit
    }

    /// Reads without a transaction (in the request's unit of work, once it wrote).
    public func read<Result: Sendable>(
        _ body: @escaping @Sendable (Repositories) async throws -> Result
    ) async throws -> Result {
        if let unit = currentUnit { return try await unit.read(body) }
        let kind = database.kind
        let sealer = sealer
        return try await database.read { try await body(Repositories(sql: $0, kind: kind, sealer: sealer)) }
    }

    /// Reads from one consistent snapshot (for audits and reports).
    public func snapshot<Result: Sendable>(
        _ body: @escaping @Sendable (Repositories) async throws -> Result
    ) async throws -> Result {
        if let unit = currentUnit, await unit.isOpen { return try await unit.read(body) }
        let kind = database.kind
        let sealer = sealer
        return try await database.snapshot { try await body(Repositories(sql: $0, kind: kind, sealer: sealer)) }
    }

    /// Runs `body` in one transaction: all of its writes happen, or none. Inside a request's unit
    /// of work, the transaction is the unit's (see `UnitOfWork`).
    public func write<Result: Sendable>(
        _ body: @escaping @Sendable (Repositories) async throws -> Result
    ) async throws -> Result {
        if let unit = currentUnit { return try await unit.write(body) }
        return try await transaction(body)
    }

    /// A transaction of its own, its late totals written before it commits.
    private func transaction<Result: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> Result) async throws -> Result {
        let kind = database.kind
        let sealer = sealer
        return try await database.transaction { sql in
            let repositories = Repositories.forWriting(sql: sql, kind: kind, sealer: sealer)
            let result = try await body(repositories)
            try await repositories.finishWrites()
            return result
        }
    }

    /// A write that commits on its own, whatever becomes of the request around it (a log-in
    /// attempt counts even when the request fails). Inside a unit of work, what the unit wrote so
    /// far is committed first, so that the two never wait for each other.
    public func writeApart<Result: Sendable>(
        _ body: @escaping @Sendable (Repositories) async throws -> Result
    ) async throws -> Result {
        if let unit = currentUnit { try await unit.commitEarly() }
        return try await transaction(body)
    }

    /// Makes what the running request wrote so far durable now. Call it before anything outside
    /// the database acts on those writes (a payment provider is asked to move money): a crash
    /// afterwards must find them. Without a unit of work every write is already committed.
    public func commitRequestWrites() async throws {
        try await currentUnit?.commitEarly()
    }

    /// A unit of work for one request; `prologue` runs in its first transaction, before any write.
    public func unitOfWork(prologue: @escaping UnitOfWork.Prologue) -> UnitOfWork {
        UnitOfWork(database: database, sealer: sealer, prologue: prologue)
    }

    /// Runs `body` with `unit` as the request's unit of work: its writes join the unit.
    public func run<Result: Sendable>(in unit: UnitOfWork, _ body: () async throws -> Result) async throws -> Result {
        try await UnitOfWork.$current.withValue(unit) { try await body() }
    }
}
