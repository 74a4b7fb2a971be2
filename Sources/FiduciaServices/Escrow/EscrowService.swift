import FiduciaDomain
import FiduciaPersistence
import Foundation
import Logging

/// Orders with escrow (B1, B2, B7, B8): creation, every state change, timeouts, staff decisions.
///
/// Each action is one transaction: the order row is locked, the pure `EscrowMachine` decides
/// (with the ledger positions it needs, read in the same transaction), then the money moves on
/// the ledger, the order is saved, its timeouts are (re)scheduled and its effects are written
/// (statement rows, refund jobs), together or not at all. A card payment is a saga
/// (`CardCharges`) whose last step is such a transaction.
public struct EscrowService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let ledger: LedgerService
    let cardCharges: CardCharges
    public let settings: EscrowSettings
    let logger: Logger

    init(store: Store, clock: any WallClock, random: any RandomSource, ledger: LedgerService, cardCharges: CardCharges, settings: EscrowSettings, logger: Logger) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.ledger = ledger
        self.cardCharges = cardCharges
        self.settings = settings
        self.logger = logger
    }

    // MARK: Creating and reading

    /// Creates an order from the buyer (the acting user) to a seller, with the seller's after-sales
    /// policy as it stands now.
    public func createOrder(_ request: NewOrder, by principal: Principal) async throws -> Order {
        let buyer = try principal.requireRole(.buyer)
        let (currency, total) = try request.validated()
        guard buyer.id != request.sellerID else { throw EscrowError.buyerIsSeller }
        let now = clock.now()
        let id: OrderID = ids.make()
        let settings = settings
        return try await store.write { repositories in
            try await IncidentService.requireNone("new orders", in: repositories)
            // Locked for share: a seller deleting their account at this instant either sees this
            // order among what stands in the way, or has lost the seller role before it is read.
            guard let seller = try await repositories.users.findLockedForShare(request.sellerID), seller.has(.seller) else {
                throw EscrowError.sellerNotFound
            }
            // Penalties (D1): a restricted seller takes no new orders, a suspended buyer places none.
            let sellerStanding = try await PenaltyService.standing(of: seller.id, in: repositories, now: now)
            guard sellerStanding.maySell else { throw StandingError(standing: sellerStanding, activity: "sell") }
            let buyerStanding = try await PenaltyService.standing(of: buyer.id, in: repositories, now: now)
            guard buyerStanding.mayBuy else { throw StandingError(standing: buyerStanding, activity: "buy") }
            let policy = try await repositories.orders.policy(seller: seller.id)
            let payBy = now.addingTimeInterval(settings.paymentWindowSeconds)
            var order = Order(
                id: id, buyerID: buyer.id, sellerID: seller.id, currency: currency,
                items: request.items.map { LineItem(title: $0.title.trimmingWhitespace(), quantity: $0.quantity, unitPriceMinor: $0.unitPriceMinor) },
                totalMinor: total, policy: policy, feeBasisPoints: settings.feeBasisPoints, fundShareBasisPoints: settings.fundShareBasisPoints,
                createdAt: now, payBy: payBy,
                timeline: [OrderEvent(at: now, kind: .created, actor: buyer.id, detail: "Order of \(Money.format(total, currency)) created by the buyer.")]
            )
            order.rulesVersions = RulesVersions.inForce(RulesService.shipped, at: now)
            try await repositories.orders.insert(order, now: now)
            try await schedule([.schedule(.expireUnpaid, dueAt: payBy)], for: order, in: repositories, now: now)
            return order
        }
    }

    /// An order, if the caller may see it (its buyer, its seller, staff, or the API client that
    /// created either party); otherwise `NotFoundError`, so as not to reveal that it exists.
    public func order(_ id: OrderID, by principal: Principal) async throws -> Order {
        // Orders are only ever seen by their parties and staff: a stranger is asked to sign in
        // before anything is looked up (and learns nothing of which orders exist).
        guard principal != .anonymous else { throw AccessError.authenticationRequired }
        let found = try await store.read { repositories -> (Order, [UserID: User])? in
            guard let order = try await repositories.orders.find(id, lock: false) else { return nil }
            return (order, try await repositories.users.find([order.buyerID, order.sellerID]))
        }
        guard let (order, parties) = found, Self.maySee(order, parties: parties, principal) else {
            throw NotFoundError(entity: "order", id: id.rawValue)
        }
        return order
    }

    static func maySee(_ order: Order, parties: [UserID: User], _ principal: Principal) -> Bool {
        if let user = principal.actingUser, user.id == order.buyerID || user.id == order.sellerID || user.isStaff { return true }
        if let client = principal.apiClient, principal.actingUser == nil {
            return parties.values.contains { $0.createdByClientID == client.id }
        }
        return false
    }

    /// Which orders a list shows.
    public enum ListRole: String, Sendable {
        case buyer, seller, any
    }

    /// The caller's orders (as buyer, seller or either); staff asking for `any` see every order.
    public func orders(role: ListRole, status: OrderStatus?, page: PageRequest, by principal: Principal) async throws -> Page<Order> {
        let user = try principal.requireUser()
        let filter: OrderFilter =
            switch role {
            case .buyer: .buyer(user.id)
            case .seller: .seller(user.id)
            case .any: user.isStaff ? .all : .party(user.id)
            }
        let fetched = try await store.read {
            try await $0.orders.list(filter, status: status, after: page.after.map(OrderID.init), limit: page.limit + 1)
        }
        return Page(fetched: fetched, limit: page.limit, identifier: \.id.rawValue)
    }

    public func policy(of seller: UserID) async throws -> AfterSalesPolicy {
        try await store.read { try await $0.orders.policy(seller: seller) }
    }

    /// Sets the acting seller's after-sales policy for future orders (existing orders keep theirs).
    public func setPolicy(_ policy: AfterSalesPolicy, by principal: Principal) async throws -> AfterSalesPolicy {
        let seller = try principal.requireRole(.seller)
        let policy = try policy.validated()
        let now = clock.now()
        try await store.write { try await $0.orders.setPolicy(policy, seller: seller.id, now: now) }
        return policy
    }

    /// The caller's part in an order and what it may do now (the buttons of the order page).
    public func allowedActions(on order: Order, by principal: Principal) throws -> (actor: EscrowActor, actions: [OrderActionKind]) {
        let actor = try escrowActor(principal, for: order)
        return (actor, EscrowMachine.allowedActions(order: order, actor: actor, now: clock.now()))
    }

    // MARK: Acting

    /// Performs an action on behalf of the caller. A card payment runs the charge saga; staff
    /// refunds and cancellations are not actions but decisions (`proposeDecision`), so that each
    /// has its record.
    public func perform(_ action: OrderAction, on id: OrderID, by principal: Principal) async throws -> Order {
        if case .pay(.card(let token, _)) = action { return try await payByCard(id, token: token, by: principal) }
        let now = clock.now()
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(id, lock: true) else { throw NotFoundError(entity: "order", id: id.rawValue) }
            let actor = try escrowActor(principal, for: order)
            if case .staff = actor, action.kind == .refund || action.kind == .cancel {
                throw AccessError.forbidden("Moderators refund and cancel orders through a staff decision, which records who decided and why.")
            }
            return try await apply(action, to: order, by: actor, in: repositories, now: now)
        }
    }

    /// Pays for an order. Statement and balance payments are one transaction; a card payment is
    /// the charge saga, so a crash or a silent provider never loses or doubles the charge.
    public func pay(_ id: OrderID, with method: PaymentMethod, by principal: Principal) async throws -> Order {
        try await perform(.pay(method), on: id, by: principal)
    }

    private func payByCard(_ id: OrderID, token: String, by principal: Principal) async throws -> Order {
        let token = token.trimmingWhitespace()
        guard (1...100).contains(token.codePointCount) else { throw ValidationError(field: "cardToken", "A card payment needs a cardToken.") }
        let now = clock.now()
        // With the order locked, check that it may be paid and record the attempt: a paid,
        // cancelled or foreign order is never charged, and two payments never run at once.
        let attempt = try await store.write { repositories in
            guard let order = try await repositories.orders.find(id, lock: true) else { throw NotFoundError(entity: "order", id: id.rawValue) }
            let actor = try escrowActor(principal, for: order)
            try EscrowMachine.check(.pay, order: order, actor: actor, now: now)
            let attempt = ChargeAttempt(
                id: ids.make(), purpose: .order, subjectID: order.id.rawValue, userID: order.buyerID, amountMinor: order.totalMinor,
                currency: order.currency, cardToken: token, createdAt: now
            )
            try await cardCharges.begin(attempt, in: repositories, now: now)
            return attempt
        }
        do {
            _ = try await cardCharges.complete(attempt, effect: recordCardPayment)
        } catch PaymentError.cardDeclined(let reason) {
            throw EscrowError.paymentDeclined(reason)
        }
        return try await order(id, by: principal)
    }

    /// The effect of a successful card charge for an order: the payment is recorded and held.
    var recordCardPayment: CardCharges.Effect {
        { attempt, chargeID, repositories, now in
            let id = OrderID(attempt.subjectID)
            guard let order = try await repositories.orders.find(id, lock: true) else { throw NotFoundError(entity: "order", id: id.rawValue) }
            _ = try await apply(.pay(.card(token: attempt.cardToken, chargeID: chargeID)), to: order, by: .buyer(order.buyerID), in: repositories, now: now)
        }
    }

    /// Applies an action inside an existing transaction: reads the positions it needs, decides,
    /// moves the money, saves, schedules, and carries out the effects.
    func apply(_ action: OrderAction, to order: Order, by actor: EscrowActor, in repositories: Repositories, now: Date) async throws -> Order {
        var action = action
        if case .pay(.statement) = action {
            guard try await repositories.payments.savedCard(user: order.buyerID) != nil else { throw PaymentError.savedCardRequired }
            let statement = try await repositories.payments.openStatement(
                buyer: order.buyerID, currency: order.currency, month: MonthName.of(now), newID: ids.make(), now: now
            )
            action = .pay(.statement(statement.id))
        }
        let positions = try await self.positions(for: order, action: action, in: repositories, now: now)
        let transition = try EscrowMachine.apply(action, to: order, by: actor, at: now, settings: settings, positions: positions)
        try await ledger.execute(transition.money, currency: order.currency, orderID: order.id, in: repositories, now: now)
        try await repositories.orders.update(transition.order, now: now)
        // Loyalty points follow the money: earned on completion, taken back with a later refund.
        try await CustomerCareService.settlePoints(for: transition.order, previous: order, in: repositories, now: now, ids: ids)
        try await schedule(transition.timeouts, for: order, in: repositories, now: now)
        try await carryOut(transition.effects, for: order, in: repositories, now: now)
        try await WebhookService.publish(.orderChanged, subjectID: order.id.rawValue, data: OrderEventData(transition.order, previous: order.status, action: action.kind),
                                         in: repositories, now: now, ids: ids)
        if transition.order.status != order.status, transition.order.status == .completed || transition.order.status == .refunded {
            // A finished trade changes both parties' records.
            try await CreditService.scheduleRefresh(order.sellerID, role: .seller, in: repositories, now: now, ids: ids)
            try await CreditService.scheduleRefresh(order.buyerID, role: .buyer, in: repositories, now: now, ids: ids)
        }
        return transition.order
    }

    /// The ledger positions an action's decision depends on, read (and, on PostgreSQL, locked) in
    /// the action's transaction so that the decision and its execution see the same balances.
    private func positions(for order: Order, action: OrderAction, in repositories: Repositories, now: Date) async throws -> EscrowPositions {
        var positions = EscrowPositions()
        switch action {
        case .pay(.statement):
            let accounts = try await repositories.ledger.lockAccounts([.user(order.buyerID, .statement)], currency: order.currency, newID: { ids.make() }, now: now)
            positions.buyerStatementOwedMinor = accounts[.user(order.buyerID, .statement)]!.balances.postedDebitBalance
        case .pay(.balance):
            // The holds' accounts are locked with the buyer's, in one call, in the one lock order.
            try await ledger.requireWithdrawable(
                order.totalMinor, of: order.buyerID, currency: order.currency,
                alsoLocking: [.user(order.sellerID, .available), .platform(.fees), .platform(.guaranteeFund)], in: repositories, now: now
            )
        case .cancel where order.heldMinor == 0:
            break
        case .confirmReceipt, .autoComplete, .refund, .cancel, .settleDispute:
            let references: [AccountReference] = [
                .user(order.buyerID, .available), .user(order.buyerID, .statement),
                .user(order.sellerID, .available), .user(order.sellerID, .deposit), .user(order.sellerID, .debt),
                .platform(.fees), .platform(.guaranteeFund), .platform(.guaranteeClaims), .platform(.external),
            ]
            let accounts = try await repositories.ledger.lockAccounts(
                LedgerService.lockedUpFront(references, in: repositories).sorted(by: AccountReference.lockOrder), currency: order.currency, newID: { ids.make() }, now: now
            )
            func balances(_ reference: AccountReference) -> LedgerBalances { accounts[reference]!.balances }
            positions.seller = SellerPosition(
                availableMinor: balances(.user(order.sellerID, .available)).spendable,
                depositMinor: balances(.user(order.sellerID, .deposit)).spendable,
                debtMinor: balances(.user(order.sellerID, .debt)).postedDebitBalance
            )
            positions.buyerStatementOwedMinor = balances(.user(order.buyerID, .statement)).postedDebitBalance
            if order.paymentKind == .statement, let statement = order.paymentReference {
                positions.paymentStatementOpen = try await repositories.payments.statement(StatementID(statement), lock: true).map { $0.status != .paid } ?? false
            }
        default:
            break
        }
        return positions
    }

    private func carryOut(_ effects: [EscrowEffect], for order: Order, in repositories: Repositories, now: Date) async throws {
        for effect in effects {
            switch effect {
            case .addToStatement(let id, let amount):
                guard var statement = try await repositories.payments.statement(id, lock: true) else { preconditionFailure("the statement was opened in this transaction") }
                guard let total = statement.totalMinor.addingChecked(amount) else { throw LedgerError.totalsOverflow(.statement) }
                statement.totalMinor = total
                statement.itemCount += 1
                try await repositories.payments.updateStatement(statement)
            case .reduceStatement(let id, let amount, let removesPurchase):
                guard var statement = try await repositories.payments.statement(id, lock: true) else { continue }
                statement.totalMinor = max(0, statement.totalMinor - amount)
                if removesPurchase { statement.itemCount = max(0, statement.itemCount - 1) }
                try await repositories.payments.updateStatement(statement)
            case .refundCard(let chargeID, let amount, let hold):
                try await cardCharges.scheduleRefund(
                    of: chargeID, amountMinor: amount, to: order.buyerID, currency: order.currency, key: hold, holdReference: hold, orderID: order.id,
                    in: repositories, now: now
                )
            }
        }
    }

    private func schedule(_ timeouts: [EscrowTimeout], for order: Order, in repositories: Repositories, now: Date) async throws {
        for timeout in timeouts {
            switch timeout {
            case .schedule(let kind, let dueAt):
                // A timeout moves (an extension, a refund request answered): its job runs again even
                // if it already ran and found nothing to do.
                try await repositories.jobs.schedule(
                    Job(id: ids.make(), kind: kind.rawValue, uniqueKey: "\(kind.rawValue):\(order.id)", payload: order.id.rawValue, dueAt: dueAt),
                    now: now, rearm: true
                )
            case .cancel(let kind):
                try await repositories.jobs.cancel(uniqueKey: "\(kind.rawValue):\(order.id)", now: now)
            }
        }
    }

    /// The caller's part in this order. Parties act as themselves; staff as staff; an API client
    /// acts only through the user it acts for. Anyone else gets `NotFoundError`.
    private func escrowActor(_ principal: Principal, for order: Order) throws -> EscrowActor {
        let user = try principal.requireUser()
        if user.id == order.buyerID { return .buyer(user.id) }
        if user.id == order.sellerID { return .seller(user.id) }
        if user.isStaff { return .staff(user.id) }
        throw NotFoundError(entity: "order", id: order.id.rawValue)
    }

    // MARK: Staff decisions

    /// A moderator decides to refund (part of) an order or cancel it. The decision is checked
    /// against the order as it is now (it would be refused otherwise) and recorded with its
    /// reason; it is carried out at once unless it moves more than the second-approval threshold,
    /// in which case it waits for another staff member.
    public func proposeDecision(_ action: StaffDecision.Action, amountMinor: Int64?, reason: String, on id: OrderID, by principal: Principal) async throws -> StaffDecision {
        let staff = try principal.requireRole(.moderator, .admin)
        let now = clock.now()
        let decisionID: StaffDecisionID = ids.make()
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(id, lock: true) else { throw NotFoundError(entity: "order", id: id.rawValue) }
            let amount = action == .cancel ? order.heldMinor : (amountMinor ?? order.refundableMinor)
            let orderAction: OrderAction = action == .cancel ? .cancel(reason: reason) : .refund(amountMinor: amount, reason: reason)
            // A dry run: a decision the order would refuse now is refused now, with the same error.
            let positions = try await positions(for: order, action: orderAction, in: repositories, now: now)
            _ = try EscrowMachine.apply(orderAction, to: order, by: .staff(staff.id), at: now, settings: settings, positions: positions)
            let needsApproval = StaffApproval.needsSecondApproval(amountMinor: amount, currency: order.currency, settings: settings)
            var decision = StaffDecision(
                id: decisionID, orderID: order.id, action: action, amountMinor: amount, currency: order.currency,
                reason: reason.trimmingWhitespace(), proposedBy: staff.id, proposedAt: now, status: needsApproval ? .awaitingApproval : .executed
            )
            if !needsApproval {
                _ = try await apply(decision.orderAction, to: order, by: .staff(staff.id), in: repositories, now: now)
                decision.decidedAt = now
            }
            try await repositories.staffDecisions.insert(decision)
            try await AuditService.record(
                "staff-decision.propose", subject: decision.id.rawValue,
                detail: "\(action.rawValue) \(Money(amountMinor: amount, currency: order.currency)) on \(order.id) (\(decision.status.rawValue)): \(decision.reason)",
                by: principal, in: repositories, now: now
            )
            return decision
        }
    }

    /// A second staff member approves a decision, which is then carried out; if the order no
    /// longer allows it, the decision is recorded as failed with why.
    public func approveDecision(_ id: StaffDecisionID, by principal: Principal) async throws -> StaffDecision {
        try await decide(id, approve: true, by: principal)
    }

    /// A second staff member turns a decision down; nothing moves.
    public func rejectDecision(_ id: StaffDecisionID, by principal: Principal) async throws -> StaffDecision {
        try await decide(id, approve: false, by: principal)
    }

    private func decide(_ id: StaffDecisionID, approve: Bool, by principal: Principal) async throws -> StaffDecision {
        let staff = try principal.requireRole(.moderator, .admin)
        let now = clock.now()
        return try await store.write { repositories in
            guard var decision = try await repositories.staffDecisions.find(id, lock: true) else { throw NotFoundError(entity: "decision", id: id.rawValue) }
            try decision.checkSecondApproval(by: staff.id)
            decision.approvedBy = staff.id
            decision.decidedAt = now
            if approve {
                guard let order = try await repositories.orders.find(decision.orderID, lock: true) else { throw NotFoundError(entity: "order", id: decision.orderID.rawValue) }
                do {
                    // A cancellation returns what is held; if that changed since the proposal, the
                    // approver would approve something else than what they were shown.
                    if decision.action == .cancel, order.heldMinor != decision.amountMinor {
                        throw StaffDecisionError.orderChanged
                    }
                    try await repositories.savepoint {
                        _ = try await apply(decision.orderAction, to: order, by: .staff(decision.proposedBy), in: repositories, now: now)
                    }
                    decision.status = .executed
                } catch let error as any DomainError {
                    decision.status = .failed
                    decision.failureReason = error.detail
                }
            } else {
                decision.status = .rejected
            }
            try await repositories.staffDecisions.update(decision)
            try await AuditService.record(
                approve ? "staff-decision.approve" : "staff-decision.reject", subject: id.rawValue, detail: decision.status.rawValue,
                by: principal, in: repositories, now: now
            )
            return decision
        }
    }

    /// Decisions waiting for a second staff member, oldest first.
    public func decisionsAwaitingApproval(by principal: Principal) async throws -> [StaffDecision] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { try await $0.staffDecisions.awaitingApproval(limit: 200) }
    }

    /// The staff decisions about an order (staff only).
    public func decisions(on id: OrderID, by principal: Principal) async throws -> [StaffDecision] {
        _ = try principal.requireRole(.moderator, .admin)
        return try await store.read { try await $0.staffDecisions.decisions(order: id) }
    }

    // MARK: Timeouts

    /// Job handlers for the order timeouts. Each asks the machine whether Fiducia itself may still
    /// act: if someone acted first (paid, confirmed), there is nothing left to do and the job
    /// simply completes.
    var jobHandlers: [JobHandler] {
        [
            timeoutHandler(.expireUnpaid, action: .expire, kind: .expire),
            timeoutHandler(.autoComplete, action: .autoComplete, kind: .autoComplete),
        ]
    }

    private func timeoutHandler(_ timeout: EscrowTimeout.Kind, action: OrderAction, kind: OrderActionKind) -> JobHandler {
        JobHandler(kind: timeout.rawValue) { job, repositories, now in
            guard let order = try await repositories.orders.find(OrderID(job.payload), lock: true),
                EscrowMachine.allowedActions(order: order, actor: .system, now: now).contains(kind)
            else { return }
            _ = try await apply(action, to: order, by: .system, in: repositories, now: now)
        }
    }
}

/// The `data` of an `order.changed` event.
struct OrderEventData: Encodable {
    let id, buyerId, sellerId, status, previousStatus, action, currency: String
    let totalMinor, refundedMinor: Int64
    let frozen: Bool

    init(_ order: Order, previous: OrderStatus, action: OrderActionKind) {
        id = order.id.rawValue
        buyerId = order.buyerID.rawValue
        sellerId = order.sellerID.rawValue
        status = order.status.rawValue
        previousStatus = previous.rawValue
        self.action = action.rawValue
        currency = order.currency.code
        totalMinor = order.totalMinor
        refundedMinor = order.refundedMinor
        frozen = order.escrowFrozen
    }
}
