import FiduciaDomain
import FiduciaPersistence
import Foundation

/// What a buyer sends to open a dispute.
public struct NewDispute: Sendable {
    public var reason: DisputeReason
    /// Nil: what an open refund request asked for, else a full refund.
    public var remedy: DisputeRemedy?
    /// For a partial refund: how much; otherwise everything that can be refunded.
    public var amountMinor: Int64?
    public var description: String
    public var attachmentIDs: [AttachmentID]
    public var files: [UploadedFile]

    public init(reason: DisputeReason, remedy: DisputeRemedy? = nil, amountMinor: Int64? = nil, description: String,
                attachmentIDs: [AttachmentID] = [], files: [UploadedFile] = []) {
        self.reason = reason
        self.remedy = remedy
        self.amountMinor = amountMinor
        self.description = description
        self.attachmentIDs = attachmentIDs
        self.files = files
    }
}

/// The seller's answer to a dispute.
public enum SellerResponse: Sendable, Equatable {
    case accept
    case offer(refundMinor: Int64, note: String)
    case refuse(statement: String)

    var action: DisputeAction {
        switch self {
        case .accept: .accept
        case .offer(let amount, let note): .offer(refundMinor: amount, note: note)
        case .refuse(let statement): .refuse(statement: statement)
        }
    }
}

/// A party's record as the moderator's workspace shows it beside the other's.
public struct PartyRecord: Sendable {
    public let user: User
    public let role: Role
    public let disputes: DisputeStats
    public let standing: AccountStanding
    public let completedTrades: Int
}

/// A dispute with everything its page shows.
public struct DisputeView: Sendable {
    public let dispute: Dispute
    public let order: Order
    public let evidence: [DisputeEvidence]
    /// The order's messages: the moderator reads them in the dispute.
    public let messages: [OrderMessage]
    /// What the viewer may do now (`DisputeMachine.allowedActions`).
    public let allowedActions: [String]
    public let viewerParty: DisputeParty?
    /// Both parties' records, for staff.
    public let records: [PartyRecord]
}

/// Disputes (D3): negotiation, mediation and arbitration, with deadlines as durable jobs.
///
/// Each action is one transaction that locks the order, then the dispute (always in that order),
/// asks the pure `DisputeMachine`, and when the dispute resolves carries the outcome out on the
/// order and the ledger through `EscrowService` (action `settleDispute`), applies the violations
/// the outcome brings, moves the deadline job and writes the outbound event, together or not at all.
public struct DisputeService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    public let settings: DisputeSettings
    let escrow: EscrowService
    let penalties: PenaltyService
    let attachments: AttachmentService
    static let deadlineJobKind = "dispute.deadline"

    init(store: Store, clock: any WallClock, random: any RandomSource, settings: DisputeSettings, escrow: EscrowService, penalties: PenaltyService,
         attachments: AttachmentService) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.settings = settings
        self.escrow = escrow
        self.penalties = penalties
        self.attachments = attachments
    }

    // MARK: Opening

    /// The buyer opens a dispute: the escrow freezes (no auto-completion, no release) and the
    /// seller's deadline starts. An open refund request becomes the dispute's demand by default.
    public func open(on orderID: OrderID, _ request: NewDispute, by principal: Principal) async throws -> Dispute {
        let buyer = try principal.requireUser()
        let now = clock.now()
        let id: DisputeID = ids.make()
        let settings = settings
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(orderID, lock: true) else { throw NotFoundError(entity: "order", id: orderID.rawValue) }
            guard buyer.id == order.buyerID else {
                if buyer.id == order.sellerID || buyer.isStaff { throw EscrowError.notAllowed(.openDispute) }
                throw NotFoundError(entity: "order", id: orderID.rawValue)
            }
            if let existing = try await repositories.disputes.open(order: order.id) { throw DisputeError.alreadyOpen(existing.id) }
            try EscrowMachine.check(.openDispute, order: order, actor: .buyer(buyer.id), now: now)
            var remedy = request.remedy ?? .fullRefund
            var amount = request.amountMinor
            if request.remedy == nil, request.amountMinor == nil, let asked = order.refundRequest, asked.amountMinor < order.refundableMinor {
                remedy = .partialRefund
                amount = asked.amountMinor
            }
            let dispute = try DisputeMachine.open(
                id: id, order: order, reason: request.reason, remedy: remedy, requestedMinor: amount, description: request.description, at: now, settings: settings
            )
            _ = try await escrow.apply(.openDispute, to: order, by: .buyer(buyer.id), in: repositories, now: now)
            try await repositories.disputes.insert(dispute)
            if !request.attachmentIDs.isEmpty || !request.files.isEmpty {
                _ = try await addEvidence(to: dispute, text: "Attached when the dispute was opened.", attachmentIDs: request.attachmentIDs, files: request.files,
                                      author: buyer.id, role: .buyer, in: repositories, now: now)
            }
            try await moveDeadline(from: nil, to: dispute, in: repositories, now: now)
            try await WebhookService.publish(.disputeChanged, subjectID: dispute.id.rawValue, data: DisputeEventData(dispute), in: repositories, now: now, ids: ids)
            try await refreshRecords(of: dispute, in: repositories, now: now)
            return dispute
        }
    }

    // MARK: Acting

    public func respond(to id: DisputeID, _ response: SellerResponse, by principal: Principal) async throws -> Dispute {
        try await act(id, response.action, by: principal)
    }

    public func acceptOffer(_ id: DisputeID, by principal: Principal) async throws -> Dispute {
        try await act(id, .acceptOffer, by: principal)
    }

    public func escalate(_ id: DisputeID, by principal: Principal) async throws -> Dispute {
        try await act(id, .escalate, by: principal)
    }

    public func withdraw(_ id: DisputeID, by principal: Principal) async throws -> Dispute {
        try await act(id, .withdraw, by: principal)
    }

    public func take(_ id: DisputeID, by principal: Principal) async throws -> Dispute {
        try await act(id, .take, by: principal)
    }

    public func requestEvidence(_ id: DisputeID, from party: DisputeParty, note: String, by principal: Principal) async throws -> Dispute {
        try await act(id, .requestEvidence(from: party, note: note), by: principal)
    }

    public func propose(_ id: DisputeID, refundMinor: Int64, note: String, by principal: Principal) async throws -> Dispute {
        try await act(id, .propose(refundMinor: refundMinor, note: note), by: principal)
    }

    /// The moderator rules, with reasons both sides see.
    public func resolve(_ id: DisputeID, ruling: DisputeRuling, reasons: String, by principal: Principal) async throws -> Dispute {
        try await transact(id, .rule(ruling, reasons: reasons), by: principal) { dispute, repositories, now in
            try await AuditService.record("dispute.rule", subject: id.rawValue, detail: "\(ruling): \(reasons)", by: principal, in: repositories, now: now)
            return dispute
        }
    }

    public func shipReturn(_ id: DisputeID, carrier: String, trackingNumber: String, by principal: Principal) async throws -> Dispute {
        try await act(id, .shipReturn(carrier: carrier, trackingNumber: trackingNumber), by: principal)
    }

    public func confirmReturn(_ id: DisputeID, by principal: Principal) async throws -> Dispute {
        try await act(id, .confirmReturn, by: principal)
    }

    /// A party (or the dispute's moderator) adds a statement and files. Evidence a moderator asked
    /// of a party stops that party's evidence deadline.
    public func addEvidence(
        to id: DisputeID, text: String, attachmentIDs: [AttachmentID] = [], files: [UploadedFile] = [], by principal: Principal
    ) async throws -> DisputeEvidence {
        let body = try OrderMessage.validatedBody(text, attachmentCount: attachmentIDs.count + files.count)
        let author = try principal.requireUser()
        return try await transact(id, .evidenceGiven, by: principal) { dispute, repositories, now in
            let role: OrderMessage.Role = author.id == dispute.buyerID ? .buyer : author.id == dispute.sellerID ? .seller : .staff
            return try await addEvidence(to: dispute, text: body, attachmentIDs: attachmentIDs, files: files, author: author.id, role: role, in: repositories, now: now)
        }
    }

    private func addEvidence(
        to dispute: Dispute, text: String, attachmentIDs: [AttachmentID], files: [UploadedFile], author: UserID, role: OrderMessage.Role,
        in repositories: Repositories, now: Date
    ) async throws -> DisputeEvidence {
        let id: DisputeEvidenceID = ids.make()
        let attached = try await attachments.attach(
            uploaded: attachmentIDs, files: files, to: AttachmentContext(kind: .evidence, id: id.rawValue, orderID: dispute.orderID),
            owner: author, in: repositories, now: now
        )
        let evidence = DisputeEvidence(id: id, disputeID: dispute.id, authorID: author, role: role, body: text, attachments: attached, createdAt: now)
        try await repositories.disputes.addEvidence(evidence)
        return evidence
    }

    private func act(_ id: DisputeID, _ action: DisputeAction, by principal: Principal) async throws -> Dispute {
        try await transact(id, action, by: principal) { dispute, _, _ in dispute }
    }

    /// One dispute action in one transaction; `alongside` runs in it too, with the dispute as the
    /// action left it.
    private func transact<Result: Sendable>(
        _ id: DisputeID, _ action: DisputeAction, by principal: Principal,
        alongside: @escaping @Sendable (Dispute, Repositories, Date) async throws -> Result
    ) async throws -> Result {
        let user = try principal.requireUser()
        let now = clock.now()
        return try await store.write { repositories in
            guard let peek = try await repositories.disputes.find(id, lock: false) else { throw NotFoundError(entity: "dispute", id: id.rawValue) }
            let actor: DisputeActor
            if user.id == peek.buyerID { actor = .buyer(user.id) }
            else if user.id == peek.sellerID { actor = .seller(user.id) }
            else if user.isStaff { actor = .staff(user.id) }
            else { throw NotFoundError(entity: "dispute", id: id.rawValue) }
            let (dispute, _) = try await apply(action, toDisputeOf: peek.orderID, id: id, by: actor, in: repositories, now: now)
            return try await alongside(dispute, repositories, now)
        }
    }

    /// Locks the order, then the dispute; decides; carries the outcome out. Inside a transaction.
    private func apply(
        _ action: DisputeAction, toDisputeOf orderID: OrderID, id: DisputeID, by actor: DisputeActor, in repositories: Repositories, now: Date
    ) async throws -> (Dispute, Order) {
        guard let order = try await repositories.orders.find(orderID, lock: true),
            let dispute = try await repositories.disputes.find(id, lock: true)
        else { throw NotFoundError(entity: "dispute", id: id.rawValue) }
        let transition = try DisputeMachine.apply(action, to: dispute, by: actor, at: now, settings: settings)
        var settled = order
        if let orderAction = transition.orderAction {
            let ruledBy = transition.dispute.resolution?.how == .ruling ? transition.dispute.resolution?.decidedBy : nil
            settled = try await escrow.apply(orderAction, to: order, by: ruledBy.map(EscrowActor.staff) ?? .system, in: repositories, now: now)
        }
        for violation in transition.violations {
            let resolution = transition.dispute.resolution
            let facts = "Dispute \(dispute.id) about order \(dispute.orderID) (\(dispute.reason.words)) ended against the seller: "
                + "\(resolution?.how.words ?? "resolved"); \(Money.format(resolution?.refundMinor ?? 0, dispute.currency)) refunded. \(resolution?.reasons ?? "")"
            _ = try await penalties.apply(violation.code, to: violation.user, facts: facts, decidedBy: resolution?.decidedBy, disputeID: dispute.id,
                                          orderID: dispute.orderID, in: repositories, now: now)
        }
        try await repositories.disputes.update(transition.dispute)
        try await moveDeadline(from: dispute, to: transition.dispute, in: repositories, now: now)
        try await WebhookService.publish(.disputeChanged, subjectID: dispute.id.rawValue, data: DisputeEventData(transition.dispute),
                                         in: repositories, now: now, ids: ids)
        if transition.dispute.status == .resolved { try await refreshRecords(of: dispute, in: repositories, now: now) }
        return (transition.dispute, settled)
    }

    /// Each deadline is its own job, keyed by its due time: a deadline that moves cancels the old
    /// job and schedules a new one, so a job that was already claimed can never swallow the new one.
    private func moveDeadline(from old: Dispute?, to new: Dispute, in repositories: Repositories, now: Date) async throws {
        guard old?.deadline != new.deadline else { return }
        // A deadline that has passed keeps its job: it is the one running now, or it will run and
        // find nothing due.
        if let previous = old?.deadline, previous.dueAt > now {
            try await repositories.jobs.cancel(uniqueKey: Self.deadlineKey(new.id, previous), now: now)
        }
        if let deadline = new.deadline, new.status.isOpen {
            try await repositories.jobs.schedule(
                Job(id: ids.make(), kind: Self.deadlineJobKind, uniqueKey: Self.deadlineKey(new.id, deadline), payload: new.id.rawValue, dueAt: deadline.dueAt),
                now: now
            )
        }
    }

    static func deadlineKey(_ id: DisputeID, _ deadline: DisputeDeadline) -> String {
        "\(deadlineJobKind):\(id):\(deadline.kind.rawValue):\(deadline.dueAt.millisecondsSince1970)"
    }

    private func refreshRecords(of dispute: Dispute, in repositories: Repositories, now: Date) async throws {
        try await CreditService.scheduleRefresh(dispute.sellerID, role: .seller, in: repositories, now: now, ids: ids)
        try await CreditService.scheduleRefresh(dispute.buyerID, role: .buyer, in: repositories, now: now, ids: ids)
    }

    /// The deadline job: if the dispute's deadline has passed and nobody acted, the machine decides
    /// what silence means.
    var jobHandlers: [JobHandler] {
        [
            JobHandler(kind: Self.deadlineJobKind) { job, repositories, now in
                let id = DisputeID(job.payload)
                guard let dispute = try await repositories.disputes.find(id, lock: false),
                    (try? DisputeMachine.check(.deadlinePassed, dispute, actor: .system, now: now)) != nil
                else { return }
                do {
                    _ = try await apply(.deadlinePassed, toDisputeOf: dispute.orderID, id: id, by: .system, in: repositories, now: now)
                } catch let error as DisputeError where error == .deadlineNotDue || error == .noDeadline {
                    // Someone acted between the look and the lock: nothing is due any more.
                }
            },
        ]
    }

    // MARK: Reading

    /// A dispute with its order, evidence, messages and the viewer's possible actions; staff also
    /// get both parties' records.
    public func dispute(_ id: DisputeID, by principal: Principal) async throws -> DisputeView {
        let viewer = try principal.requireUser()
        let now = clock.now()
        let view = try await store.read { repositories -> DisputeView? in
            guard let dispute = try await repositories.disputes.find(id, lock: false),
                let order = try await repositories.orders.find(dispute.orderID, lock: false)
            else { return nil }
            let party = dispute.party(viewer.id)
            guard party != nil || viewer.isStaff else { return nil }
            let actor: DisputeActor = party == .buyer ? .buyer(viewer.id) : party == .seller ? .seller(viewer.id) : .staff(viewer.id)
            var records: [PartyRecord] = []
            if viewer.isStaff {
                let users = try await repositories.users.find([dispute.buyerID, dispute.sellerID])
                for (userID, role) in [(dispute.sellerID, Role.seller), (dispute.buyerID, Role.buyer)] {
                    guard let user = users[userID] else { continue }
                    records.append(PartyRecord(
                        user: user, role: role,
                        disputes: try await repositories.disputes.stats(user: userID, asSeller: role == .seller, since: now.addingTimeInterval(-SellerRecord.disputeWindowSeconds)),
                        standing: try await PenaltyService.standing(of: userID, in: repositories, now: now),
                        completedTrades: try await repositories.orders.count(role == .seller ? .seller(userID) : .buyer(userID), status: .completed)
                    ))
                }
            }
            return DisputeView(
                dispute: dispute, order: order, evidence: try await repositories.disputes.evidence(dispute: id),
                messages: try await repositories.messages.messages(order: order.id, after: nil, limit: 500),
                allowedActions: DisputeMachine.allowedActions(dispute, actor: actor, now: now), viewerParty: party, records: records
            )
        }
        guard let view else { throw NotFoundError(entity: "dispute", id: id.rawValue) }
        return view
    }

    /// Which disputes a list shows.
    public enum ListScope: String, Sendable {
        /// The caller's own, as buyer or seller.
        case mine
        /// Escalated disputes waiting for a moderator, the most urgent first (staff).
        case queue
        /// Every open dispute by its next deadline (staff).
        case open
        /// Every dispute, newest first (staff).
        case all
    }

    public func disputes(_ scope: ListScope, by principal: Principal) async throws -> [Dispute] {
        let user = try principal.requireUser()
        let filter: DisputeFilter
        switch scope {
        case .mine: filter = .party(user.id)
        case .queue, .open, .all:
            guard user.isStaff else { throw AccessError.forbidden("This needs the role moderator or admin.") }
            filter = scope == .queue ? .queue : scope == .open ? .open : .all
        }
        return try await store.read { try await $0.disputes.list(filter, limit: 200) }
    }

    /// The disputes about one order (for its page), newest first.
    public func disputes(on order: Order) async throws -> [Dispute] {
        try await store.read { try await $0.disputes.disputes(order: order.id) }
    }

    /// A user's dispute record (public: on the profile).
    public func record(of user: UserID, asSeller: Bool) async throws -> DisputeStats {
        let now = clock.now()
        return try await store.read { try await $0.disputes.stats(user: user, asSeller: asSeller, since: now.addingTimeInterval(-SellerRecord.disputeWindowSeconds)) }
    }
}

/// The `data` of a `dispute.changed` event.
struct DisputeEventData: Encodable {
    let id, orderId, buyerId, sellerId, status, reason, currency: String
    let requestedMinor: Int64
    let deadline: Date?
    let outcome: String?
    let refundMinor: Int64?

    init(_ dispute: Dispute) {
        id = dispute.id.rawValue
        orderId = dispute.orderID.rawValue
        buyerId = dispute.buyerID.rawValue
        sellerId = dispute.sellerID.rawValue
        status = dispute.status.rawValue
        reason = dispute.reason.rawValue
        currency = dispute.currency.code
        requestedMinor = dispute.requestedMinor
        deadline = dispute.deadline?.dueAt
        outcome = dispute.resolution?.how.rawValue
        refundMinor = dispute.resolution?.refundMinor
    }
}
