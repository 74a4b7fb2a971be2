import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Penalties (D1) and appeals (D5): the versioned rulebook with maker–checker changes, penalties
/// with statements of reasons and fines from the deposit, the public violation record, standing
/// (what an account may still do), and appeals reviewed by a different moderator.
public struct PenaltyService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let ledger: LedgerService
    let attachments: AttachmentService
    /// Fines are set in the reference currency and taken from the deposit held in it.
    /// The currency fines are set and taken in (the reference currency).
    public let fineCurrency: Currency

    init(store: Store, clock: any WallClock, random: any RandomSource, ledger: LedgerService, attachments: AttachmentService, fineCurrency: Currency) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.ledger = ledger
        self.attachments = attachments
        self.fineCurrency = fineCurrency
    }

    // MARK: The rulebook

    /// The rulebook that ships with Fiducia (`Resources/Rules/penalties.json`), version 1.
    public static let bundledRulebook: PenaltyRulebookVersion = {
        guard let url = Bundle.module.url(forResource: "penalties", withExtension: "json", subdirectory: "Resources/Rules"),
            let document = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("the bundled penalty rulebook is missing") }
        do {
            return PenaltyRulebookVersion(rulebook: try PenaltyRulebook.parse(document), document: document, status: .approved,
                                          proposedBy: nil, proposedAt: Date(timeIntervalSince1970: 0))
        } catch {
            preconditionFailure("the bundled penalty rulebook is invalid: \(error)")
        }
    }()

    /// The rulebook in force: the newest approved version stored, or the bundled one before any
    /// was stored.
    static func rulebookInForce(in repositories: Repositories) async throws -> PenaltyRulebookVersion {
        try await repositories.penalties.rulebookInForce() ?? bundledRulebook
    }

    /// Stores the bundled rulebook as version 1 if nothing is stored yet (inside a write).
    private static func storeBundledIfNeeded(in repositories: Repositories) async throws {
        if try await repositories.penalties.rulebook(version: 1, lock: false) == nil {
            try await repositories.savepoint {
                try await repositories.penalties.insertRulebook(bundledRulebook)
            }
        }
    }

    /// The rulebook in force and the changes waiting for approval (the `/rules/penalties` page).
    public func rulebooks() async throws -> (inForce: PenaltyRulebookVersion, all: [PenaltyRulebookVersion]) {
        try await store.read { repositories in
            let stored = try await repositories.penalties.rulebooks()
            return (try await Self.rulebookInForce(in: repositories), stored.isEmpty ? [Self.bundledRulebook] : stored)
        }
    }

    /// An administrator proposes a new version (a JSON document of the published shape). It takes
    /// effect only when another administrator approves it.
    public func proposeRulebook(_ document: String, by principal: Principal) async throws -> PenaltyRulebookVersion {
        let admin = try principal.requireRole(.admin)
        let rulebook = try PenaltyRulebook.parse(document)
        let now = clock.now()
        return try await store.write { repositories in
            try await Self.storeBundledIfNeeded(in: repositories)
            let latest = try await repositories.penalties.rulebooks().first?.version ?? 1
            try PenaltyRulebookVersion.checkProposal(rulebook, latestVersion: latest)
            let version = PenaltyRulebookVersion(rulebook: rulebook, document: document, status: .proposed, proposedBy: admin.id, proposedAt: now)
            do {
                try await repositories.savepoint { try await repositories.penalties.insertRulebook(version) }
            } catch where DatabaseErrors.isUniqueViolation(error) {
                throw RulebookError.versionOutOfSequence(expected: latest + 2)
            }
            try await AuditService.record("rulebook.propose", subject: "rulebook v\(rulebook.version)", detail: rulebook.title, by: principal, in: repositories, now: now)
            return version
        }
    }

    /// A second administrator approves (the version takes effect now) or rejects a proposal.
    public func decideRulebook(version: Int, approve: Bool, by principal: Principal) async throws -> PenaltyRulebookVersion {
        let admin = try principal.requireRole(.admin)
        let now = clock.now()
        return try await store.write { repositories in
            guard var proposal = try await repositories.penalties.rulebook(version: version, lock: true) else {
                throw NotFoundError(entity: "rulebook version", id: String(version))
            }
            try proposal.checkDecision(by: admin.id)
            proposal.status = approve ? .approved : .rejected
            proposal.decidedBy = admin.id
            proposal.decidedAt = now
            try await repositories.penalties.updateRulebook(proposal)
            try await AuditService.record("rulebook.decide", subject: "rulebook v\(version)", detail: approve ? "approved" : "rejected", by: principal, in: repositories, now: now)
            return proposal
        }
    }

    // MARK: Penalties

    /// A moderator penalises a user for a violation of the rulebook in force, stating the facts.
    public func apply(
        violation code: String, to userID: UserID, facts: String, orderID: OrderID? = nil, by principal: Principal
    ) async throws -> Penalty {
        let moderator = try principal.requireRole(.moderator, .admin)
        let facts = facts.trimmingWhitespace()
        guard PenaltyRules.factsLength.contains(facts.codePointCount) else {
            throw ValidationError(field: "facts", "State the facts the penalty rests on (1 to 2000 characters).")
        }
        guard moderator.id != userID else { throw AccessError.forbidden("Staff cannot penalise themselves.") }
        let now = clock.now()
        return try await store.write { repositories in
            guard try await repositories.users.find(userID) != nil else { throw NotFoundError(entity: "user", id: userID.rawValue) }
            let penalty = try await apply(code, to: userID, facts: facts, decidedBy: moderator.id, disputeID: nil, orderID: orderID, in: repositories, now: now)
            try await AuditService.record("penalty.impose", subject: penalty.id.rawValue, detail: "\(code) on \(userID): \(facts)", by: principal, in: repositories, now: now)
            return penalty
        }
    }

    /// Applies a penalty inside the caller's transaction: the fine (what the deposit can pay of
    /// it) moves to the guarantee fund, the penalty is recorded, the marketplace is told, and the
    /// user's score is recomputed.
    func apply(
        _ code: String, to userID: UserID, facts: String, decidedBy: UserID?, disputeID: DisputeID?, orderID: OrderID?,
        in repositories: Repositories, now: Date
    ) async throws -> Penalty {
        let rulebook = try await Self.rulebookInForce(in: repositories).rulebook
        guard let violation = rulebook.violation(code) else { throw RulebookError.unknownViolation(code) }
        let id: PenaltyID = ids.make()
        var fine: Int64 = 0
        if violation.fineMajor > 0 {
            let deposit = AccountReference.user(userID, .deposit)
            let accounts = try await repositories.ledger.lockAccounts(
                [deposit, .platform(.guaranteeFund)].sorted(by: AccountReference.lockOrder), currency: fineCurrency, newID: { ids.make() }, now: now
            )
            let (wanted, overflow) = violation.fineMajor.multipliedReportingOverflow(by: fineCurrency.minorUnitsPerMajor)
            fine = min(overflow ? .max : wanted, max(0, accounts[deposit]!.balances.spendable))
            if fine > 0 {
                try await ledger.execute(
                    [MoneyMovement(debit: deposit, credit: .platform(.guaranteeFund), amountMinor: fine, mode: .posted, purpose: .fine, reference: "penalty:\(id):fine")],
                    currency: fineCurrency, orderID: orderID, in: repositories, now: now
                )
            }
        }
        let penalty = PenaltyRules.penalty(
            id: id, user: userID, violation: violation, rulebook: rulebook, facts: facts, fineMinor: fine, fineCurrency: fineCurrency,
            decidedBy: decidedBy, disputeID: disputeID, orderID: orderID, at: now
        )
        try await repositories.penalties.insert(penalty)
        try await WebhookService.publish(.penaltyApplied, subjectID: penalty.id.rawValue, data: PenaltyEvent(penalty), in: repositories, now: now, ids: ids)
        try await CreditService.scheduleRefresh(userID, role: .seller, in: repositories, now: now, ids: ids)
        try await CreditService.scheduleRefresh(userID, role: .buyer, in: repositories, now: now, ids: ids)
        return penalty
    }

    /// A user's violation record, newest first (public).
    public func violations(of userID: UserID) async throws -> [Penalty] {
        try await store.read { repositories in
            guard try await repositories.users.find(userID) != nil else { throw NotFoundError(entity: "user", id: userID.rawValue) }
            return try await repositories.penalties.penalties(user: userID)
        }
    }

    /// What the user may do now, from their penalties under the rulebook in force.
    public func standing(of userID: UserID) async throws -> AccountStanding {
        let now = clock.now()
        return try await store.read { try await Self.standing(of: userID, in: $0, now: now) }
    }

    static func standing(of userID: UserID, in repositories: Repositories, now: Date) async throws -> AccountStanding {
        let rulebook = try await rulebookInForce(in: repositories).rulebook
        return AccountStanding.of(try await repositories.penalties.penalties(user: userID), rulebook: rulebook, at: now)
    }

    // MARK: Appeals

    /// The penalised user appeals, with a statement and evidence, within the rulebook's window.
    public func appeal(
        _ penaltyID: PenaltyID, statement: String, attachmentIDs: [AttachmentID] = [], files: [UploadedFile] = [], by principal: Principal
    ) async throws -> Appeal {
        let appellant = try principal.requireUser()
        let statement = statement.trimmingWhitespace()
        guard Appeal.statementLength.contains(statement.codePointCount) else {
            throw ValidationError(field: "statement", "Say why the penalty is wrong (1 to 4000 characters).")
        }
        let now = clock.now()
        let id: AppealID = ids.make()
        return try await store.write { repositories in
            // Penalties are public; only the penalised may appeal one (`checkOpening`).
            guard let penalty = try await repositories.penalties.find(penaltyID, lock: true) else {
                throw NotFoundError(entity: "penalty", id: penaltyID.rawValue)
            }
            let rulebook = try await Self.rulebookInForce(in: repositories).rulebook
            let pending = try await repositories.penalties.appeals(penalty: penaltyID).contains { $0.status == .pending }
            try Appeal.checkOpening(penalty, by: appellant.id, rulebook: rulebook, hasPendingAppeal: pending, at: now)
            let attached = try await attachments.attach(
                uploaded: attachmentIDs, files: files, to: AttachmentContext(kind: .appeal, id: id.rawValue, orderID: penalty.orderID),
                owner: appellant.id, in: repositories, now: now
            )
            let appeal = Appeal(id: id, penaltyID: penaltyID, appellantID: appellant.id, statement: statement, attachments: attached, createdAt: now)
            try await repositories.penalties.insert(appeal)
            return appeal
        }
    }

    /// How a reviewer decides an appeal.
    public enum AppealDecision: Sendable, Equatable {
        case uphold
        /// The penalty keeps this many points (fewer than it has); the fine is returned in proportion.
        case reduce(points: Int)
        /// No points, the whole fine returned, the record marked "overturned on appeal".
        case overturn
    }

    /// A moderator other than the one who decided reviews the appeal. A reduction or an overturn
    /// returns the fine (or its part) from the guarantee fund with new ledger transfers.
    public func decideAppeal(_ appealID: AppealID, decision: AppealDecision, reasons: String, by principal: Principal) async throws -> Appeal {
        let reviewer = try principal.requireRole(.moderator, .admin)
        let reasons = reasons.trimmingWhitespace()
        guard PenaltyRules.factsLength.contains(reasons.codePointCount) else {
            throw ValidationError(field: "reasons", "State the reasons of the decision (1 to 2000 characters).")
        }
        let now = clock.now()
        return try await store.write { repositories in
            guard var appeal = try await repositories.penalties.find(appealID, lock: true) else { throw NotFoundError(entity: "appeal", id: appealID.rawValue) }
            guard var penalty = try await repositories.penalties.find(appeal.penaltyID, lock: true) else {
                throw NotFoundError(entity: "penalty", id: appeal.penaltyID.rawValue)
            }
            let rulingModerator = try await penalty.disputeID.asyncMap { try await repositories.disputes.find($0, lock: false)?.resolution?.decidedBy } ?? nil
            try appeal.checkReviewer(reviewer.id, penalty: penalty, rulingModerator: rulingModerator)
            guard reviewer.id != penalty.userID else { throw AppealError.sameModerator }
            let keptPoints: Int
            switch decision {
            case .uphold:
                appeal.status = .upheld
                keptPoints = penalty.points
            case .reduce(let points):
                guard (1..<penalty.points).contains(points) else {
                    throw ValidationError(field: "points", "A reduction keeps between 1 and \(penalty.points - 1) points; to remove them all, overturn.")
                }
                appeal.status = .reduced
                appeal.reducedPoints = points
                keptPoints = points
                penalty.status = .reduced
            case .overturn:
                appeal.status = .overturned
                keptPoints = 0
                penalty.status = .overturned
            }
            appeal.decidedBy = reviewer.id
            appeal.decidedAt = now
            appeal.reasons = reasons
            if keptPoints < penalty.points {
                try await returnFine(of: &penalty, keeping: keptPoints, appeal: appeal.id, in: repositories, now: now)
                penalty.points = keptPoints
                try await repositories.penalties.update(penalty)
                try await CreditService.scheduleRefresh(penalty.userID, role: .seller, in: repositories, now: now, ids: ids)
                try await CreditService.scheduleRefresh(penalty.userID, role: .buyer, in: repositories, now: now, ids: ids)
            }
            try await repositories.penalties.update(appeal)
            try await WebhookService.publish(.appealDecided, subjectID: appeal.id.rawValue, data: AppealEvent(appeal, penalty: penalty), in: repositories, now: now, ids: ids)
            try await AuditService.record("appeal.decide", subject: appeal.id.rawValue, detail: "\(decision): \(reasons)", by: principal, in: repositories, now: now)
            return appeal
        }
    }

    /// Gives back the part of the fine the removed points stood for: all of what is left of it
    /// when none are kept. New transfers from the fund to the deposit; the fine's own stays.
    private func returnFine(of penalty: inout Penalty, keeping kept: Int, appeal: AppealID, in repositories: Repositories, now: Date) async throws {
        let remaining = penalty.fineMinor - penalty.fineReturnedMinor
        guard remaining > 0, let currency = penalty.fineCurrency, penalty.points > 0 else { return }
        // What is left of the fine stands for the points the penalty has now; the part of the
        // kept points stays (rounded down, in the user's favour), the rest goes back. The fine is
        // at most a rulebook fine (10^6 major units) and points at most 48: no overflow.
        let amount = remaining - remaining * Int64(kept) / Int64(penalty.points)
        guard amount > 0 else { return }
        try await ledger.execute(
            [MoneyMovement(debit: .platform(.guaranteeFund), credit: .user(penalty.userID, .deposit), amountMinor: amount, mode: .posted,
                           purpose: .fineReturned, reference: "penalty:\(penalty.id):returned:\(appeal)")],
            currency: currency, orderID: penalty.orderID, in: repositories, now: now
        )
        penalty.fineReturnedMinor += amount
    }

    /// Appeals waiting for review, oldest first (staff).
    public func pendingAppeals(by principal: Principal) async throws -> [(appeal: Appeal, penalty: Penalty)] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { repositories in
            var pairs: [(appeal: Appeal, penalty: Penalty)] = []
            for appeal in try await repositories.penalties.pendingAppeals(limit: 200) {
                if let penalty = try await repositories.penalties.find(appeal.penaltyID, lock: false) { pairs.append((appeal, penalty)) }
            }
            return pairs
        }
    }

    /// An appeal, for its appellant and staff.
    public func appeal(_ id: AppealID, by principal: Principal) async throws -> (appeal: Appeal, penalty: Penalty) {
        let viewer = try principal.requireUser()
        let found = try await store.read { repositories -> (Appeal, Penalty)? in
            guard let appeal = try await repositories.penalties.find(id, lock: false),
                let penalty = try await repositories.penalties.find(appeal.penaltyID, lock: false) else { return nil }
            return (appeal, penalty)
        }
        guard let (appeal, penalty) = found, appeal.appellantID == viewer.id || viewer.isStaff else { throw NotFoundError(entity: "appeal", id: id.rawValue) }
        return (appeal, penalty)
    }

    /// The appeals about one penalty (its user and staff).
    public func appeals(of penaltyID: PenaltyID, by principal: Principal) async throws -> [Appeal] {
        let viewer = try principal.requireUser()
        return try await store.read { repositories in
            guard let penalty = try await repositories.penalties.find(penaltyID, lock: false), penalty.userID == viewer.id || viewer.isStaff else {
                throw NotFoundError(entity: "penalty", id: penaltyID.rawValue)
            }
            return try await repositories.penalties.appeals(penalty: penaltyID)
        }
    }
}

/// The `data` of a `penalty.applied` event.
struct PenaltyEvent: Encodable {
    let id, userId, violation: String
    let points: Int
    let fineMinor: Int64
    let currency: String?
    let disputeId, orderId: String?
    let rulebookVersion: Int

    init(_ penalty: Penalty) {
        id = penalty.id.rawValue
        userId = penalty.userID.rawValue
        violation = penalty.violationCode
        points = penalty.points
        fineMinor = penalty.fineMinor
        currency = penalty.fineCurrency?.code
        disputeId = penalty.disputeID?.rawValue
        orderId = penalty.orderID?.rawValue
        rulebookVersion = penalty.rulebookVersion
    }
}

/// The `data` of an `appeal.decided` event.
struct AppealEvent: Encodable {
    let id, penaltyId, userId, outcome: String
    let pointsNow: Int
    let fineReturnedMinor: Int64

    init(_ appeal: Appeal, penalty: Penalty) {
        id = appeal.id.rawValue
        penaltyId = penalty.id.rawValue
        userId = penalty.userID.rawValue
        outcome = appeal.status.rawValue
        pointsNow = penalty.points
        fineReturnedMinor = penalty.fineReturnedMinor
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
